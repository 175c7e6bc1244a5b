"""retryInsight: only a FAILED insight, only the user's own, a new task each time."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.queries import insight as insights
from tests.factories import Account, Api
from tests.graph.insights.dataset import EXPECTED_LINES, EXPECTED_METRICS, TIMEZONE
from tests.graph.insights.support import (
    GET,
    RETRY,
    Database,
    Seeded,
    request_insight,
    sign_up_in,
)


async def run_and_fail(
    sessions: async_sessionmaker[AsyncSession], insight_id: str, error: str = "model timed out"
) -> None:
    async with sessions() as session, session.begin():
        assert await insights.mark_insight_running(session, insight_id=uuid.UUID(insight_id))
        assert await insights.fail_insight(session, insight_id=uuid.UUID(insight_id), error=error)


async def test_retry_insight_puts_a_failed_insight_back_to_pending_with_a_new_task(
    api: Api,
    account: Account,
    db: Database,
    seeded: Seeded,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    insight = await request_insight(api, account, focusAreas=["delivery"])
    await run_and_fail(sessions, insight["id"])
    failed = (await api.data(GET, {"id": insight["id"]}, account.access_token))["insight"]
    assert (failed["status"], failed["error"], failed["attempts"]) == (
        "FAILED",
        "model timed out",
        1,
    )

    data = await api.data(RETRY, {"id": insight["id"]}, account.access_token)
    retried = data["retryInsight"]
    [row] = await db.insights(account)
    assert retried == {
        **insight,
        "status": "PENDING",
        "error": None,
        "attempts": 1,
        "updatedAt": row["updated_at"].isoformat(),
    }
    first_task, second_task = await db.tasks(account, "generate_insight")
    assert first_task["idempotency_key"] == f"insight:{insight['id']}:0"
    assert second_task["idempotency_key"] == f"insight:{insight['id']}:1"
    assert row["task_id"] == second_task["id"]
    assert (second_task["status"], second_task["kind"]) == ("queued", "generate_insight")
    assert second_task["payload"] == {
        "insight_id": insight["id"],
        "kind": "WEEKLY_REPORT",
        "period_start": "2026-07-06",
        "period_end": "2026-07-07",
        "timezone": TIMEZONE,
        "metrics": EXPECTED_METRICS,
        "entries": EXPECTED_LINES,
        "focus_areas": ["delivery"],
        "user_first_name": "Grace",
    }


async def test_each_retry_gets_the_key_of_its_attempt(
    api: Api, account: Account, db: Database, sessions: async_sessionmaker[AsyncSession]
) -> None:
    insight = await request_insight(api, account)
    for _ in range(2):
        await run_and_fail(sessions, insight["id"])
        await api.data(RETRY, {"id": insight["id"]}, account.access_token)
    keys = [task["idempotency_key"] for task in await db.tasks(account, "generate_insight")]
    assert keys == [f"insight:{insight['id']}:{attempt}" for attempt in range(3)]
    [row] = await db.insights(account)
    assert (row["status"], row["attempts"]) == ("PENDING", 2)


async def test_retry_of_an_insight_that_failed_before_running_gets_a_task_of_its_own(
    api: Api, account: Account, db: Database, sessions: async_sessionmaker[AsyncSession]
) -> None:
    # Failed with no attempt counted: the key "insight:<id>:0" is already spent.
    insight = await request_insight(api, account)
    async with sessions() as session, session.begin():
        await insights.fail_insight(session, insight_id=uuid.UUID(insight["id"]), error="dead")
    await api.data(RETRY, {"id": insight["id"]}, account.access_token)
    first, second = await db.tasks(account, "generate_insight")
    assert first["idempotency_key"] == f"insight:{insight['id']}:0"
    assert second["idempotency_key"].startswith(f"insight:{insight['id']}:0:")
    [row] = await db.insights(account)
    assert (row["task_id"], row["status"]) == (second["id"], "PENDING")


async def test_retry_reads_the_period_afresh(
    api: Api,
    account: Account,
    db: Database,
    seeded: Seeded,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    insight = await request_insight(api, account)
    await api.data(
        "mutation($id: ID!) { deleteLogEntry(id: $id) }",
        {"id": seeded.entries["Standup"]},
        account.access_token,
    )
    await run_and_fail(sessions, insight["id"])
    retried = (await api.data(RETRY, {"id": insight["id"]}, account.access_token))["retryInsight"]
    assert (retried["metrics"]["total_minutes"], retried["metrics"]["total_entries"]) == (270, 3)
    _, task = await db.tasks(account, "generate_insight")
    assert [line["title"] for line in task["payload"]["entries"]] == [
        "Night deploy",
        "Payment API",
        "Late review",
    ]


@pytest.mark.parametrize("status", ["PENDING", "RUNNING", "COMPLETED"])
async def test_retry_insight_of_an_insight_that_has_not_failed_is_a_conflict(
    api: Api,
    account: Account,
    db: Database,
    sessions: async_sessionmaker[AsyncSession],
    status: str,
) -> None:
    insight = await request_insight(api, account)
    insight_id = uuid.UUID(insight["id"])
    async with sessions() as session, session.begin():
        if status != "PENDING":
            await insights.mark_insight_running(session, insight_id=insight_id)
        if status == "COMPLETED":
            await insights.complete_insight(
                session, insight_id=insight_id, content="# Week", model="llama3", generation={}
            )
    error = await api.error(RETRY, {"id": insight["id"]}, account.access_token)
    assert (error["message"], error["extensions"]) == (
        f"Only a FAILED insight can be retried; this one is {status}",
        {"code": "CONFLICT"},
    )
    assert len(await db.tasks(account, "generate_insight")) == 1
    [row] = await db.insights(account)
    assert row["status"] == status


@pytest.mark.parametrize("which", ["another user's", "unknown", "malformed"])
async def test_retry_insight_of_an_id_that_is_not_the_users_is_not_found(
    api: Api,
    account: Account,
    db: Database,
    sessions: async_sessionmaker[AsyncSession],
    which: str,
) -> None:
    insight = await request_insight(api, account)
    await run_and_fail(sessions, insight["id"])
    other = await sign_up_in(api, TIMEZONE)
    insight_id: Any = {
        "another user's": insight["id"],
        "unknown": str(uuid.uuid4()),
        "malformed": "not-a-uuid",
    }[which]
    error = await api.error(RETRY, {"id": insight_id}, other.access_token)
    assert (error["message"], error["extensions"]) == ("Insight not found", {"code": "NOT_FOUND"})
    [row] = await db.insights(account)
    assert (row["status"], row["error"]) == ("FAILED", "model timed out")
    assert len(await db.tasks(account, "generate_insight")) == 1
