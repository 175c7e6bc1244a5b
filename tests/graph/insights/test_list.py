"""insight(id) and insights: one user's insights only, newest first, filtered, in pages."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.queries import insight as insights
from tests.factories import Account, Api
from tests.graph.insights.dataset import TIMEZONE
from tests.graph.insights.support import GET, Database, request_insight, sign_up_in

LIST = """
query List($kind: InsightKind, $status: InsightStatus, $first: Int!, $after: String) {
  insights(kind: $kind, status: $status, first: $first, after: $after) {
    totalCount
    edges { cursor node { id kind status } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
KINDS = ["DAILY_SUMMARY", "WEEKLY_REPORT", "WEEKLY_REPORT", "MONTHLY_INSIGHTS", "WEEKLY_REPORT"]


async def listing(api: Api, account: Account, **variables: Any) -> dict[str, Any]:
    values = {"first": 20, **variables}
    data = await api.data(LIST, values, account.access_token)
    connection: dict[str, Any] = data["insights"]
    return connection


def ids(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


@pytest.fixture
async def requested(api: Api, account: Account) -> list[dict[str, Any]]:
    """Five insights, requested one after the other (the last is the newest)."""
    return [await request_insight(api, account, kind=kind) for kind in KINDS]


async def test_insights_lists_newest_first_with_a_total_count(
    api: Api, account: Account, requested: list[dict[str, Any]]
) -> None:
    connection = await listing(api, account)
    assert connection["totalCount"] == 5
    assert ids(connection) == [insight["id"] for insight in reversed(requested)]
    assert connection["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "startCursor": connection["edges"][0]["cursor"],
        "endCursor": connection["edges"][-1]["cursor"],
    }


async def test_insights_pages_follow_the_cursors_without_gaps_or_repeats(
    api: Api, account: Account, requested: list[dict[str, Any]]
) -> None:
    seen: list[str] = []
    after = None
    pages = []
    while True:
        connection = await listing(api, account, first=2, after=after)
        pages.append(connection)
        seen.extend(ids(connection))
        assert connection["pageInfo"]["hasPreviousPage"] is (after is not None)
        assert connection["totalCount"] == 5
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert [len(page["edges"]) for page in pages] == [2, 2, 1]
    assert seen == [insight["id"] for insight in reversed(requested)]


async def test_insights_ties_on_created_at_are_ordered_by_id(
    api: Api, account: Account, db: Database, requested: list[dict[str, Any]]
) -> None:
    # Rows written in one transaction share created_at: the id breaks the tie, in pages too.
    await db.connection.execute(
        "UPDATE insight SET created_at = '2026-07-01T00:00:00Z' WHERE user_id = $1",
        uuid.UUID(account.user_id),
    )
    expected = sorted((insight["id"] for insight in requested), reverse=True)
    first = await listing(api, account, first=3)
    rest = await listing(api, account, first=3, after=first["pageInfo"]["endCursor"])
    assert ids(first) + ids(rest) == expected


async def test_insights_filters_by_kind_and_status(
    api: Api,
    account: Account,
    requested: list[dict[str, Any]],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    failed = requested[2]["id"]
    async with sessions() as session, session.begin():
        assert await insights.fail_insight(
            session, insight_id=uuid.UUID(failed), error="model unavailable"
        )
    weekly = await listing(api, account, kind="WEEKLY_REPORT")
    assert (weekly["totalCount"], ids(weekly)) == (
        3,
        [requested[4]["id"], requested[2]["id"], requested[1]["id"]],
    )
    failed_only = await listing(api, account, status="FAILED")
    assert (failed_only["totalCount"], ids(failed_only)) == (1, [failed])
    both = await listing(api, account, kind="DAILY_SUMMARY", status="FAILED")
    assert (both["totalCount"], ids(both)) == (0, [])
    pending_weekly = await listing(api, account, kind="WEEKLY_REPORT", status="PENDING", first=1)
    assert (pending_weekly["totalCount"], ids(pending_weekly)) == (2, [requested[4]["id"]])
    assert pending_weekly["pageInfo"]["hasNextPage"] is True


async def test_insights_never_lists_another_users_insights(
    api: Api, account: Account, requested: list[dict[str, Any]]
) -> None:
    other = await sign_up_in(api, TIMEZONE)
    connection = await listing(api, other)
    assert (connection["totalCount"], connection["edges"]) == (0, [])
    assert connection["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "startCursor": None,
        "endCursor": None,
    }


@pytest.mark.parametrize("first", [0, 101, -1])
async def test_insights_rejects_a_page_size_outside_1_to_100(
    api: Api, account: Account, first: int
) -> None:
    error = await api.error(LIST, {"first": first}, account.access_token)
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {"first": "must be between 1 and 100"},
    }


@pytest.mark.parametrize(
    "cursor",
    ["not base64!", base64.urlsafe_b64encode(b"yesterday|nope").decode(), ""],
    ids=["garbage", "bad-content", "empty"],
)
async def test_insights_rejects_a_cursor_it_did_not_give_out(
    api: Api, account: Account, cursor: str
) -> None:
    error = await api.error(LIST, {"first": 5, "after": cursor}, account.access_token)
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {"after": "is not a cursor this API gave out"},
    }


async def test_insight_returns_the_users_own_insight(
    api: Api, account: Account, requested: list[dict[str, Any]]
) -> None:
    data = await api.data(GET, {"id": requested[0]["id"]}, account.access_token)
    assert data == {"insight": requested[0]}


@pytest.mark.parametrize("which", ["another user's", "unknown", "malformed"])
async def test_insight_is_null_for_an_id_that_is_not_the_users(
    api: Api, account: Account, requested: list[dict[str, Any]], which: str
) -> None:
    other = await sign_up_in(api, TIMEZONE)
    insight_id = {
        "another user's": requested[0]["id"],
        "unknown": str(uuid.uuid4()),
        "malformed": "not-a-uuid",
    }[which]
    body = await api.post(GET, {"id": insight_id}, other.access_token)
    assert body == {"data": {"insight": None}}
