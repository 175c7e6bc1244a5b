"""One scheduler at a time (the advisory lock), and the clean-up it runs."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from db.queries.schedule import Cleanup
from graph.context import AppState
from graph.prometheus import ApiMetrics
from graph.schedules.runner import LOCK_KEY, Scheduler
from tests.factories import Api
from tests.graph.schedules.support import log_at, make_scheduler, scheduled_account, utc


@pytest.fixture
async def pair(
    app_state: AppState, database_url: str
) -> AsyncIterator[tuple[Scheduler, Scheduler]]:
    first, second = (make_scheduler(app_state, database_url) for _ in range(2))
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


def sample(scheduler: Scheduler, name: str, labels: dict[str, str] | None = None) -> float | None:
    assert scheduler.metrics is not None
    value: float | None = scheduler.metrics.registry.get_sample_value(name, labels or {})
    return value


async def lock_holder(db: asyncpg.Connection) -> int | None:
    """The backend pid holding the scheduler's lock, if any."""
    pid: int | None = await db.fetchval(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND ((classid::bigint << 32) | objid::bigint) = $1",
        LOCK_KEY,
    )
    return pid


async def test_only_one_scheduler_leads_and_a_second_takes_over_when_the_first_dies(
    pair: tuple[Scheduler, Scheduler], db: asyncpg.Connection
) -> None:
    first, second = pair
    assert (await first.lead(), await second.lead()) == (True, False)
    assert (await first.lead(), await second.lead()) == (True, False)  # and it stays so
    holder = await lock_holder(db)
    assert holder is not None

    # The first process's connection dies (as with the process): PostgreSQL frees the lock.
    assert await db.fetchval("SELECT pg_terminate_backend($1)", holder) is True
    for _ in range(200):  # the backend exits on its own time, freeing the lock as it goes
        if await lock_holder(db) is None:
            break
        await asyncio.sleep(0.025)

    assert await second.lead() is True
    # The first, if it were still alive, notices at its next round and follows.
    assert await first.lead() is False
    assert await first.lead() is False
    assert await lock_holder(db) not in (None, holder)


async def test_a_scheduler_that_closes_hands_the_lead_on_at_the_next_round(
    pair: tuple[Scheduler, Scheduler], db: asyncpg.Connection
) -> None:
    first, second = pair
    assert await first.lead() is True
    await first.close()
    assert await lock_holder(db) is None
    assert await second.lead() is True


async def test_a_follower_runs_nothing_even_when_routines_are_due(
    pair: tuple[Scheduler, Scheduler], api: Api, db: asyncpg.Connection
) -> None:
    first, second = pair
    first.metrics, second.metrics = ApiMetrics(), ApiMetrics()
    due = utc(2026, 3, 30, 7)
    account = await scheduled_account(api, db, "Europe/Berlin")
    await log_at(api, account, due - timedelta(days=3))
    first.clock = second.clock = lambda: due
    assert await first.lead() is True

    assert await second.step() == []
    assert await db.fetchval("SELECT count(*) FROM schedule_run") == 0
    [run] = await first.step()
    assert run.user_id == uuid.UUID(account.user_id)
    assert [sample(m, "englog_scheduler_leader") for m in (first, second)] == [1.0, 0.0]
    # The metric keeps its name and its label `job` (dashboards rely on them).
    labels = {"job": "WEEKLY_REPORT", "outcome": "REQUESTED"}
    assert sample(first, "englog_scheduled_jobs_total", labels) == 1.0
    assert sample(second, "englog_scheduled_jobs_total", labels) is None


async def test_the_clean_up_deletes_old_finished_tasks_and_expired_tokens_only(
    scheduler: Scheduler, api: Api, db: asyncpg.Connection
) -> None:
    now = datetime.now(UTC) + timedelta(days=1)
    old, recent = now - timedelta(days=31), now - timedelta(days=29)
    tasks = {
        ("succeeded", old): False,
        ("failed", old): False,
        ("dead", old): False,
        ("succeeded", recent): True,
        ("queued", old): True,
        ("leased", old): True,
    }
    for status, updated_at in tasks:
        await db.execute(
            "INSERT INTO task (kind, status, updated_at) VALUES ('generate_insight', $1, $2)",
            status,
            updated_at,
        )
    account = await api.sign_up()  # a refresh token that expires in 30 days: kept
    user = uuid.UUID(account.user_id)
    await db.execute(
        "INSERT INTO refresh_token (jti, family_id, user_id, expires_at) "
        "VALUES (gen_random_uuid(), gen_random_uuid(), $1, $2)",
        user,
        now - timedelta(seconds=1),
    )

    assert await scheduler.clean_up(now) == Cleanup(tasks=3, refresh_tokens=1, schedule_runs=0)

    left = await db.fetch("SELECT status, updated_at FROM task")
    assert sorted((row["status"], row["updated_at"]) for row in left) == sorted(
        key for key, kept in tasks.items() if kept
    )
    assert await db.fetchval("SELECT count(*) FROM refresh_token WHERE user_id = $1", user) == 1
    assert await db.fetchval("SELECT count(*) FROM refresh_token WHERE expires_at < $1", now) == 0


async def test_the_clean_up_runs_at_most_hourly(
    scheduler: Scheduler, db: asyncpg.Connection
) -> None:
    now = datetime.now(UTC)
    await scheduler.tick(now)
    await db.execute(
        "INSERT INTO task (kind, status, updated_at) VALUES ('generate_insight', 'succeeded', $1)",
        now - timedelta(days=40),
    )

    await scheduler.tick(now + timedelta(minutes=59))
    assert await db.fetchval("SELECT count(*) FROM task") == 1
    await scheduler.tick(now + timedelta(hours=1))
    assert await db.fetchval("SELECT count(*) FROM task") == 0
