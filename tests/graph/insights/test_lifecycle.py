"""What the worker side reports, through the functions the gRPC servicer calls, and what the
API then shows."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.queries import insight as insights
from tests.factories import Account, Api
from tests.graph.insights.support import GET, Database, request_insight

GENERATION = {"prompt_eval_count": 812, "eval_count": 420, "total_duration": 9_000_000_000}


async def call(sessions: async_sessionmaker[AsyncSession], function: Any, **arguments: Any) -> Any:
    async with sessions() as session, session.begin():
        return await function(session, **arguments)


async def shown(api: Api, account: Account, insight_id: str) -> dict[str, Any]:
    data = await api.data(GET, {"id": insight_id}, account.access_token)
    insight: dict[str, Any] = data["insight"]
    return insight


async def test_an_insight_runs_then_completes_once(
    api: Api, account: Account, db: Database, sessions: async_sessionmaker[AsyncSession]
) -> None:
    insight = await request_insight(api, account)
    insight_id = uuid.UUID(insight["id"])
    assert await call(sessions, insights.mark_insight_running, insight_id=insight_id) is True
    running = await shown(api, account, insight["id"])
    assert (running["status"], running["attempts"]) == ("RUNNING", 1)

    completed = await call(
        sessions,
        insights.complete_insight,
        insight_id=insight_id,
        content="# Your week\nMostly code.",
        model="llama3.2",
        generation=GENERATION,
    )
    assert completed is True
    [row] = await db.insights(account)
    assert {
        key: row[key] for key in ("status", "content", "model", "generation", "error", "attempts")
    } == {
        "status": "COMPLETED",
        "content": "# Your week\nMostly code.",
        "model": "llama3.2",
        "generation": GENERATION,
        "error": None,
        "attempts": 1,
    }
    assert row["completed_at"] is not None
    assert await shown(api, account, insight["id"]) == {
        **insight,
        "status": "COMPLETED",
        "content": "# Your week\nMostly code.",
        "model": "llama3.2",
        "attempts": 1,
        "updatedAt": row["updated_at"].isoformat(),
        "completedAt": row["completed_at"].isoformat(),
    }

    # A second report of the same result changes nothing: the first one stands.
    again = await call(
        sessions,
        insights.complete_insight,
        insight_id=insight_id,
        content="something else",
        model="other",
        generation={},
    )
    assert again is False
    assert await call(sessions, insights.mark_insight_running, insight_id=insight_id) is False
    assert await call(sessions, insights.fail_insight, insight_id=insight_id, error="x") is False
    assert await call(sessions, insights.requeue_insight, insight_id=insight_id, error="x") is False
    assert await db.insights(account) == [row]


async def test_a_retryable_failure_goes_back_to_pending_and_counts_the_next_run(
    api: Api, account: Account, db: Database, sessions: async_sessionmaker[AsyncSession]
) -> None:
    insight = await request_insight(api, account)
    insight_id = uuid.UUID(insight["id"])
    await call(sessions, insights.mark_insight_running, insight_id=insight_id)
    requeued = await call(
        sessions, insights.requeue_insight, insight_id=insight_id, error="ollama unreachable"
    )
    assert requeued is True
    pending = await shown(api, account, insight["id"])
    assert (pending["status"], pending["error"], pending["attempts"]) == (
        "PENDING",
        "ollama unreachable",
        1,
    )
    await call(sessions, insights.mark_insight_running, insight_id=insight_id)
    await call(
        sessions,
        insights.complete_insight,
        insight_id=insight_id,
        content="done",
        model="builtin",
        generation={},
    )
    done = await shown(api, account, insight["id"])
    assert (done["status"], done["error"], done["attempts"], done["model"]) == (
        "COMPLETED",
        None,
        2,
        "builtin",
    )


async def test_a_lease_lost_while_running_may_start_the_insight_again(
    api: Api, account: Account, sessions: async_sessionmaker[AsyncSession]
) -> None:
    insight = await request_insight(api, account)
    insight_id = uuid.UUID(insight["id"])
    assert await call(sessions, insights.mark_insight_running, insight_id=insight_id) is True
    # The worker died; the queue leased the task to another, which starts it again.
    assert await call(sessions, insights.mark_insight_running, insight_id=insight_id) is True
    running = await shown(api, account, insight["id"])
    assert (running["status"], running["attempts"]) == ("RUNNING", 2)


async def test_a_final_failure_is_kept_and_cannot_be_completed_afterwards(
    api: Api, account: Account, db: Database, sessions: async_sessionmaker[AsyncSession]
) -> None:
    insight = await request_insight(api, account)
    insight_id = uuid.UUID(insight["id"])
    await call(sessions, insights.mark_insight_running, insight_id=insight_id)
    assert (
        await call(sessions, insights.fail_insight, insight_id=insight_id, error="bad model")
        is True
    )
    late = await call(
        sessions,
        insights.complete_insight,
        insight_id=insight_id,
        content="too late",
        model="llama3.2",
        generation={},
    )
    assert late is False
    failed = await shown(api, account, insight["id"])
    assert (failed["status"], failed["error"], failed["content"], failed["completedAt"]) == (
        "FAILED",
        "bad model",
        None,
        None,
    )


async def test_reports_about_an_unknown_insight_change_nothing(
    sessions: async_sessionmaker[AsyncSession], db: Database
) -> None:
    unknown = uuid.uuid4()
    results = [
        await call(sessions, insights.mark_insight_running, insight_id=unknown),
        await call(
            sessions,
            insights.complete_insight,
            insight_id=unknown,
            content="x",
            model="m",
            generation={},
        ),
        await call(sessions, insights.fail_insight, insight_id=unknown, error="x"),
        await call(sessions, insights.requeue_insight, insight_id=unknown, error="x"),
    ]
    assert results == [False, False, False, False]
    assert await call(sessions, insights.load_insight, insight_id=unknown) is None
    assert await db.insight_count() == 0


async def test_load_insight_finds_any_users_insight_by_id(
    api: Api, account: Account, sessions: async_sessionmaker[AsyncSession]
) -> None:
    insight = await request_insight(api, account)
    row = await call(sessions, insights.load_insight, insight_id=uuid.UUID(insight["id"]))
    assert (str(row.id), str(row.user_id), row.status) == (
        insight["id"],
        account.user_id,
        "PENDING",
    )
