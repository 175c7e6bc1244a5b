"""updateInsight and deleteInsight: the user's edits kept apart from the written text, a
finished insight deleted, each scoped to its user and told to the live feeds."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.queries import event as events
from db.queries import insight as insights
from graph.insights.subscriptions import insight_events
from tests.factories import Account, Api, only_error
from tests.graph.insights.support import GET, Database, request_insight, sign_up_in

UPDATE = """mutation($id: ID!, $input: UpdateInsightInput!) {
  updateInsight(id: $id, input: $input) {
    id status content editedContent editedAt
    checks { supportedNumbers unsupportedNumbers retried fallback removed } } }"""
DELETE = "mutation($id: ID!) { deleteInsight(id: $id) }"
CHECKS = {
    "supported_numbers": 3,
    "unsupported_numbers": 1,
    "retried": True,
    "fallback": False,
    "removed": ["You logged 99 hours."],
}
CONTENT = "# Weekly report\n\nWritten by the model."


async def completed(api: Api, account: Account, sessions: async_sessionmaker[AsyncSession]) -> str:
    insight_id = (await request_insight(api, account))["id"]
    async with sessions() as session, session.begin():
        assert await insights.mark_insight_running(session, insight_id=uuid.UUID(insight_id))
        assert await insights.complete_insight(
            session,
            insight_id=uuid.UUID(insight_id),
            content=CONTENT,
            model="llama3.2:3b",
            generation={},
            checks=CHECKS,
        )
    return str(insight_id)


async def update(api: Api, account: Account, insight_id: str, edited: Any) -> dict[str, Any]:
    return await api.post(
        UPDATE, {"id": insight_id, "input": {"editedContent": edited}}, account.access_token
    )


async def actions(
    sessions: async_sessionmaker[AsyncSession], account: Account
) -> list[tuple[str, str]]:
    """The user's insight events as the insightEvents feed delivers them: (action, status)."""
    async with sessions() as session:
        batch = await events.events_after(
            session, user_id=uuid.UUID(account.user_id), topic=events.INSIGHT, after=0
        )
    delivered = await insight_events(sessions, batch)
    return [(event.action, event.insight.status.value) for _, event in delivered]


async def test_an_edit_is_kept_apart_from_the_written_text_and_told_live(
    api: Api, account: Account, db: Database, sessions: async_sessionmaker[AsyncSession]
) -> None:
    insight_id = await completed(api, account, sessions)

    body = await update(api, account, insight_id, "  # My week\n\nAs I tell it.\n")

    [row] = await db.insights(account)
    assert body["data"]["updateInsight"] == {
        "id": insight_id,
        "status": "COMPLETED",
        "content": CONTENT,
        "editedContent": "# My week\n\nAs I tell it.",
        "editedAt": row["edited_at"].isoformat(),
        "checks": {
            "supportedNumbers": 3,
            "unsupportedNumbers": 1,
            "retried": True,
            "fallback": False,
            "removed": ["You logged 99 hours."],
        },
    }
    assert (row["content"], row["edited_content"]) == (CONTENT, "# My week\n\nAs I tell it.")
    assert await actions(sessions, account) == [
        ("PENDING", "PENDING"),
        ("RUNNING", "RUNNING"),
        ("COMPLETED", "COMPLETED"),
        ("EDITED", "COMPLETED"),
    ]

    reverted = await update(api, account, insight_id, None)

    assert reverted["data"]["updateInsight"]["editedContent"] is None
    assert reverted["data"]["updateInsight"]["editedAt"] is None
    assert (await db.insights(account))[0]["content"] == CONTENT


async def test_an_edit_is_refused_when_too_long_empty_or_with_control_characters(
    api: Api, account: Account, db: Database, sessions: async_sessionmaker[AsyncSession]
) -> None:
    insight_id = await completed(api, account, sessions)

    for edited, message in (
        ("x" * 100_001, "must be at most 100000 characters"),
        ("   ", "must not be empty; null discards the edits"),
        ("a\x00b", "must not contain control characters"),
    ):
        error = only_error(await update(api, account, insight_id, edited))
        assert error["extensions"] == {
            "code": "BAD_USER_INPUT",
            "fields": {"editedContent": message},
        }
    assert (await db.insights(account))[0]["edited_content"] is None


async def test_only_a_completed_insight_can_be_edited(
    api: Api, account: Account, db: Database
) -> None:
    pending = (await request_insight(api, account))["id"]

    error = only_error(await update(api, account, pending, "mine"))

    assert error["extensions"] == {"code": "CONFLICT"}
    assert "this one is PENDING" in error["message"]


async def test_another_users_or_an_unknown_insight_is_not_found_and_untouched(
    api: Api, account: Account, db: Database, sessions: async_sessionmaker[AsyncSession]
) -> None:
    insight_id = await completed(api, account, sessions)
    intruder = await sign_up_in(api, "UTC")

    for target in (insight_id, str(uuid.uuid4())):
        for body in (
            await update(api, intruder, target, "mine now"),
            await api.post(DELETE, {"id": target}, intruder.access_token),
        ):
            assert only_error(body)["extensions"]["code"] == "NOT_FOUND"
    malformed = only_error(await update(api, intruder, "not-a-uuid", "x"))
    assert malformed["extensions"] == {"code": "NOT_FOUND"}
    [row] = await db.insights(account)
    assert (row["edited_content"], row["deleted_at"]) == (None, None)


async def test_without_a_valid_token_nothing_is_edited_or_deleted(
    api: Api, account: Account, db: Database, sessions: async_sessionmaker[AsyncSession]
) -> None:
    insight_id = await completed(api, account, sessions)

    for token in (None, "not-a-token"):
        for query, variables in (
            (UPDATE, {"id": insight_id, "input": {"editedContent": "x"}}),
            (DELETE, {"id": insight_id}),
        ):
            body = await api.post(query, variables, token)
            assert only_error(body)["extensions"]["code"] == "UNAUTHENTICATED"
    [row] = await db.insights(account)
    assert (row["edited_content"], row["deleted_at"]) == (None, None)


async def test_a_deleted_insight_is_gone_from_every_query_and_told_live(
    api: Api, account: Account, db: Database, sessions: async_sessionmaker[AsyncSession]
) -> None:
    insight_id = await completed(api, account, sessions)
    await update(api, account, insight_id, "my text")

    body = await api.post(DELETE, {"id": insight_id}, account.access_token)

    assert body == {"data": {"deleteInsight": True}}
    assert (await api.data(GET, {"id": insight_id}, account.access_token)) == {"insight": None}
    listed = await api.data(
        "{ insights { totalCount edges { node { id } } } }", token=account.access_token
    )
    assert listed == {"insights": {"totalCount": 0, "edges": []}}
    [row] = await db.insights(account)
    assert row["deleted_at"] is not None
    # A tombstone: nothing of the text or the figures is kept.
    assert (row["content"], row["edited_content"], row["metrics"], row["checks"]) == (
        None,
        None,
        None,
        None,
    )
    assert (await actions(sessions, account))[-2:] == [
        ("EDITED", "COMPLETED"),
        ("DELETED", "COMPLETED"),
    ]
    again = await api.post(DELETE, {"id": insight_id}, account.access_token)
    assert only_error(again)["extensions"]["code"] == "NOT_FOUND"
    assert only_error(await update(api, account, insight_id, "x"))["extensions"]["code"] == (
        "NOT_FOUND"
    )


async def test_an_insight_a_worker_may_still_write_cannot_be_deleted_but_a_failed_one_can(
    api: Api, account: Account, db: Database, sessions: async_sessionmaker[AsyncSession]
) -> None:
    pending = (await request_insight(api, account))["id"]
    failed = (await request_insight(api, account))["id"]
    async with sessions() as session, session.begin():
        assert await insights.mark_insight_running(session, insight_id=uuid.UUID(failed))
        assert await insights.fail_insight(session, insight_id=uuid.UUID(failed), error="x")

    refused = only_error(await api.post(DELETE, {"id": pending}, account.access_token))
    deleted = await api.post(DELETE, {"id": failed}, account.access_token)

    assert refused["extensions"] == {"code": "CONFLICT"}
    assert deleted == {"data": {"deleteInsight": True}}
    rows = {str(row["id"]): row["deleted_at"] for row in await db.insights(account)}
    assert rows[pending] is None
    assert rows[failed] is not None
