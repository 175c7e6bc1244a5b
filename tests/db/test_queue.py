"""The task queue on the real PostgreSQL: leases, heartbeats, retries, expiry and wake-ups."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import create_engine, create_session_factory
from db.queue import (
    LEASE_EXPIRED,
    LeasedTask,
    TaskWakeups,
    complete,
    count_leased,
    delete_finished,
    enqueue,
    extend_leases,
    fail,
    get_task,
    holds_lease,
    lease,
    queue_depth,
    release,
    requeue_expired,
    retry,
)

ROOT = Path(__file__).resolve().parents[2]
OWNER = "worker-1"
WAKEUPS_APP = "englog-test-wakeups"
NO_LEASE = {"lease_token": None, "lease_owner": None, "lease_expires_at": None}

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    engine = create_engine(database_url, pool_size=2)
    yield create_session_factory(engine)
    await engine.dispose()


@pytest.fixture
def db(pg: asyncpg.Connection) -> asyncpg.Connection:
    """A plain connection that reads and ages rows behind the queue's back."""
    return pg


async def add(sessions: Sessions, kind: str = "enrich_entry", **fields: Any) -> uuid.UUID:
    async with sessions.begin() as session:
        return await enqueue(session, kind=kind, payload=fields.pop("payload", {}), **fields)


async def take(sessions: Sessions, limit: int = 10, **fields: Any) -> list[LeasedTask]:
    fields.setdefault("lease_seconds", 60)
    async with sessions.begin() as session:
        return await lease(session, owner=fields.pop("owner", OWNER), limit=limit, **fields)


async def row(db: asyncpg.Connection, task_id: uuid.UUID) -> dict[str, Any]:
    record = await db.fetchrow(
        "SELECT kind, payload::text AS payload, status, attempts, max_attempts, run_after,"
        " lease_token, lease_owner, lease_expires_at, last_error, updated_at"
        " FROM task WHERE id = $1",
        task_id,
    )
    assert record is not None
    values = dict(record)
    values["payload"] = json.loads(values["payload"])
    return values


async def db_now(db: asyncpg.Connection) -> datetime:
    now: datetime = await db.fetchval("SELECT now()")
    return now


async def make_runnable(db: asyncpg.Connection, task_id: uuid.UUID) -> None:
    """Lets the backoff pass without waiting for it."""
    await db.execute(
        "UPDATE task SET run_after = now() - interval '1 second' WHERE id = $1", task_id
    )


def lease_of(task: LeasedTask, owner: str = OWNER) -> dict[str, Any]:
    return {"task_id": task.id, "lease_token": task.lease_token, "owner": owner}


async def test_enqueue_with_the_same_idempotency_key_gives_one_task(
    sessions: Sessions, db: asyncpg.Connection
) -> None:
    first = await add(sessions, payload={"entry": 1}, idempotency_key="entry-1")
    second = await add(sessions, payload={"entry": 2}, idempotency_key="entry-1")

    assert second == first
    assert await db.fetchval("SELECT count(*) FROM task") == 1
    stored = await row(db, first)
    assert stored == {
        "kind": "enrich_entry",
        "payload": {"entry": 1},
        "status": "queued",
        "attempts": 0,
        "max_attempts": 5,
        "run_after": stored["updated_at"],  # runnable from the moment it is committed
        "last_error": None,
        "updated_at": stored["updated_at"],
        **NO_LEASE,
    }


async def test_lease_takes_the_oldest_runnable_tasks_up_to_the_limit(
    sessions: Sessions, db: asyncpg.Connection
) -> None:
    now = await db_now(db)
    later = await add(sessions, run_after=now - timedelta(minutes=1))
    oldest = await add(sessions, run_after=now - timedelta(minutes=3))
    tie_first = await add(sessions, run_after=now - timedelta(minutes=2))
    tie_second = await add(sessions, run_after=now - timedelta(minutes=2))
    future = await add(sessions, run_after=now + timedelta(hours=1))

    first = await take(sessions, limit=3, lease_seconds=30)
    rest = await take(sessions, limit=3)

    assert [task.id for task in first] == [oldest, tie_first, tie_second]
    assert [task.id for task in rest] == [later]
    assert await take(sessions) == []
    task = first[0]
    stored = await row(db, oldest)
    assert task == LeasedTask(
        id=oldest,
        kind="enrich_entry",
        payload={},
        attempt=1,
        lease_token=stored["lease_token"],
        lease_expires_at=stored["updated_at"] + timedelta(seconds=30),
        user_id=None,
    )
    assert stored["status"] == "leased"
    assert stored["attempts"] == 1
    assert stored["lease_owner"] == OWNER
    assert stored["lease_expires_at"] == task.lease_expires_at
    assert len({task.lease_token for task in [*first, *rest]}) == 4
    assert (await row(db, future))["status"] == "queued"


async def test_lease_takes_only_the_kinds_asked_for(sessions: Sessions) -> None:
    mail = await add(sessions, kind="send_email", payload={"to": "a@example.com"})
    await add(sessions, kind="generate_insight")

    assert await take(sessions, kinds=[]) == []
    [task] = await take(sessions, kinds={"send_email", "unknown"})
    assert (task.id, task.kind, task.payload) == (mail, "send_email", {"to": "a@example.com"})
    assert [task.kind for task in await take(sessions, kinds=None)] == ["generate_insight"]


async def test_open_leases_of_two_transactions_skip_each_others_tasks(
    sessions: Sessions, db: asyncpg.Connection
) -> None:
    ids = [await add(sessions) for _ in range(5)]

    async with sessions.begin() as first, sessions.begin() as second:
        taken_first = await lease(first, owner="a", limit=3, lease_seconds=60)
        # The first transaction still holds its rows: the second passes over them, unblocked.
        taken_second = await lease(second, owner="b", limit=10, lease_seconds=60)

    assert [task.id for task in taken_first] == ids[:3]
    assert [task.id for task in taken_second] == ids[3:]
    owners = await db.fetch("SELECT lease_owner, count(*) FROM task GROUP BY 1 ORDER BY 1")
    assert [tuple(owner) for owner in owners] == [("a", 3), ("b", 2)]


async def test_concurrent_leasers_get_every_task_exactly_once(
    sessions: Sessions, db: asyncpg.Connection
) -> None:
    ids = {await add(sessions) for _ in range(40)}

    async def drain(owner: str) -> list[uuid.UUID]:
        leased: list[uuid.UUID] = []
        while tasks := await take(sessions, limit=3, owner=owner):
            leased.extend(task.id for task in tasks)
        return leased

    first, second = await asyncio.gather(drain("a"), drain("b"))

    assert set(first).isdisjoint(second)
    assert sorted([*first, *second]) == sorted(ids)
    assert await db.fetchval("SELECT count(*) FROM task WHERE status = 'leased'") == 40
    assert await db.fetchval("SELECT max(attempts) FROM task") == 1


@pytest.mark.slow
async def test_two_processes_lease_every_task_exactly_once(
    sessions: Sessions, db: asyncpg.Connection, database_url: str
) -> None:
    ids = {str(await add(sessions)) for _ in range(50)}
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.db.queue_leaser",
            database_url,
            f"process-{number}",
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for number in (1, 2)
    ]
    try:
        async with asyncio.timeout(60):
            for process in processes:
                assert process.stdout is not None
                assert await process.stdout.readline() == b"ready\n"
            outputs = await asyncio.gather(*(process.communicate(b"go\n") for process in processes))
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()

    assert [process.returncode for process in processes] == [0, 0]
    first, second = (json.loads(stdout) for stdout, _ in outputs)
    assert set(first).isdisjoint(second)
    assert sorted([*first, *second]) == sorted(ids)
    counts = await db.fetch("SELECT status, attempts, count(*) FROM task GROUP BY 1, 2")
    assert [tuple(count) for count in counts] == [("succeeded", 1, 50)]


async def test_an_expired_lease_is_requeued_and_leased_again_with_a_new_token(
    sessions: Sessions, db: asyncpg.Connection
) -> None:
    expired_id = await add(sessions)
    alive_id = await add(sessions)
    [expired, alive] = await take(sessions)
    await db.execute(
        "UPDATE task SET lease_expires_at = now() - interval '1 second' WHERE id = $1", expired_id
    )

    async with sessions.begin() as session:
        assert await requeue_expired(session) == [expired_id]
    async with sessions.begin() as session:
        assert await requeue_expired(session) == []

    stored = await row(db, expired_id)
    assert (stored["status"], stored["attempts"], stored["last_error"]) == (
        "queued",
        1,
        LEASE_EXPIRED,
    )
    assert {key: stored[key] for key in NO_LEASE} == NO_LEASE
    assert (await row(db, alive_id))["lease_token"] == alive.lease_token
    [again] = await take(sessions, owner="worker-2")
    assert (again.id, again.attempt) == (expired_id, 2)
    assert again.lease_token != expired.lease_token
    async with sessions.begin() as session:
        assert await complete(session, **lease_of(expired)) is False
        assert await complete(session, **lease_of(again, owner="worker-2")) is True
    assert (await row(db, expired_id))["status"] == "succeeded"


async def test_an_expired_lease_with_no_attempts_left_is_dead(
    sessions: Sessions, db: asyncpg.Connection
) -> None:
    task_id = await add(sessions, max_attempts=1)
    await take(sessions)
    await db.execute("UPDATE task SET lease_expires_at = now() - interval '1 second'")

    async with sessions.begin() as session:
        assert await requeue_expired(session) == [task_id]

    stored = await row(db, task_id)
    assert (stored["status"], stored["attempts"], stored["last_error"]) == (
        "dead",
        1,
        LEASE_EXPIRED,
    )
    assert await take(sessions) == []


async def test_a_heartbeat_keeps_a_lease_past_its_expiry_and_reports_the_lost_ones(
    sessions: Sessions, db: asyncpg.Connection
) -> None:
    kept_id = await add(sessions)
    lost_id = await add(sessions)
    [kept, lost] = await take(sessions, lease_seconds=0.2)

    async with sessions.begin() as session:
        held = await extend_leases(
            session, owner=OWNER, lease_tokens=[kept.lease_token], lease_seconds=60
        )
    assert held == {kept.lease_token}
    await asyncio.sleep(0.3)  # the original leases expire
    async with sessions.begin() as session:
        assert await requeue_expired(session) == [lost_id]
    async with sessions.begin() as session:
        tokens = [kept.lease_token, lost.lease_token]
        held = await extend_leases(session, owner=OWNER, lease_tokens=tokens, lease_seconds=60)
        assert (
            await extend_leases(
                session, owner="someone-else", lease_tokens=tokens, lease_seconds=60
            )
            == set()
        )

    assert held == {kept.lease_token}
    stored = await row(db, kept_id)
    assert stored["status"] == "leased"
    assert stored["lease_expires_at"] == stored["updated_at"] + timedelta(seconds=60)
    assert (await row(db, lost_id))["status"] == "queued"
    async with sessions.begin() as session:
        assert await complete(session, **lease_of(kept)) is True


async def test_a_task_is_completed_once(sessions: Sessions, db: asyncpg.Connection) -> None:
    task_id = await add(sessions)
    [task] = await take(sessions)

    async with sessions.begin() as session:
        assert await complete(session, **lease_of(task)) is True
    stored = await row(db, task_id)
    async with sessions.begin() as session:
        assert await complete(session, **lease_of(task)) is False
        assert await fail(session, **lease_of(task), error="late", retryable=True) is None
        assert await release(session, **lease_of(task)) is False

    assert await row(db, task_id) == stored
    assert (stored["status"], stored["attempts"]) == ("succeeded", 1)
    assert {key: stored[key] for key in NO_LEASE} == NO_LEASE


async def test_holds_lease_and_count_leased_follow_the_current_lease(sessions: Sessions) -> None:
    done_id = await add(sessions, kind="send_email")
    await add(sessions)
    [done, running] = await take(sessions)

    async with sessions.begin() as session:
        assert await count_leased(session, owner=OWNER) == 2
        assert await complete(session, **lease_of(done)) is True
    async with sessions.begin() as session:
        assert await count_leased(session, owner=OWNER) == 1
        assert await count_leased(session, owner="worker-2") == 0
        assert await holds_lease(session, **lease_of(running)) is True
        assert await holds_lease(session, **lease_of(running, owner="worker-2")) is False
        assert await holds_lease(session, **lease_of(done)) is False
        task = await get_task(session, task_id=done_id)
        assert task is not None
        assert (task.kind, task.status, task.attempts) == ("send_email", "succeeded", 1)
        assert await get_task(session, task_id=uuid.uuid4()) is None


async def test_a_retryable_failure_backs_off_then_dies_after_max_attempts(
    sessions: Sessions, db: asyncpg.Connection
) -> None:
    task_id = await add(sessions, max_attempts=3)
    # min(max_delay, base_delay * 2 ** (attempt - 1)) for attempts 1 and 2.
    for attempt, bound in ((1, 10), (2, 15)):
        [task] = await take(sessions)
        assert task.attempt == attempt
        async with sessions.begin() as session:
            status = await fail(
                session,
                **lease_of(task),
                error=f"timeout {attempt}",
                retryable=True,
                base_delay=10,
                max_delay=15,
            )
        assert status == "queued"
        stored = await row(db, task_id)
        assert stored["updated_at"] < stored["run_after"]
        assert stored["run_after"] <= stored["updated_at"] + timedelta(seconds=bound)
        assert (stored["attempts"], stored["last_error"]) == (attempt, f"timeout {attempt}")
        assert {key: stored[key] for key in NO_LEASE} == NO_LEASE
        assert await take(sessions) == []  # still backing off
        await make_runnable(db, task_id)

    [task] = await take(sessions)
    async with sessions.begin() as session:
        assert await fail(session, **lease_of(task), error="timeout 3", retryable=True) == "dead"

    stored = await row(db, task_id)
    assert (stored["status"], stored["attempts"], stored["last_error"]) == ("dead", 3, "timeout 3")
    assert await take(sessions) == []


async def test_a_non_retryable_failure_fails_at_once(
    sessions: Sessions, db: asyncpg.Connection
) -> None:
    task_id = await add(sessions)
    [task] = await take(sessions)

    async with sessions.begin() as session:
        assert (
            await fail(
                session,
                task_id=task.id,
                lease_token=uuid.uuid4(),
                owner=OWNER,
                error="bad",
                retryable=False,
            )
            is None
        )
        assert await fail(session, **lease_of(task), error="bad input", retryable=False) == "failed"

    stored = await row(db, task_id)
    assert (stored["status"], stored["attempts"], stored["last_error"]) == (
        "failed",
        1,
        "bad input",
    )
    assert await take(sessions) == []


async def test_retry_puts_a_dead_task_back_with_fresh_attempts(
    sessions: Sessions, db: asyncpg.Connection
) -> None:
    task_id = await add(sessions, max_attempts=1)
    queued_id = await add(sessions)
    [task] = await take(sessions, limit=1)
    async with sessions.begin() as session:
        assert await fail(session, **lease_of(task), error="boom", retryable=True) == "dead"

    async with sessions.begin() as session:
        assert await retry(session, task_id=task_id) is True
        assert await retry(session, task_id=queued_id) is False
        assert await retry(session, task_id=uuid.uuid4()) is False

    stored = await row(db, task_id)
    assert (stored["status"], stored["attempts"], stored["last_error"]) == ("queued", 0, "boom")
    # Runnable from the retry on: behind the tasks that were already waiting.
    assert [(task.id, task.attempt) for task in await take(sessions)] == [
        (queued_id, 1),
        (task_id, 1),
    ]


async def test_release_hands_a_task_back_without_counting_the_attempt(
    sessions: Sessions, db: asyncpg.Connection
) -> None:
    task_id = await add(sessions)
    [task] = await take(sessions)
    async with sessions.begin() as session:
        assert await fail(session, **lease_of(task), error="flaky", retryable=True) == "queued"
    await make_runnable(db, task_id)
    [task] = await take(sessions)
    assert task.attempt == 2

    async with sessions.begin() as session:
        assert (
            await release(session, task_id=task_id, lease_token=uuid.uuid4(), owner=OWNER) is False
        )
        assert await release(session, **lease_of(task)) is True

    stored = await row(db, task_id)
    assert (stored["status"], stored["attempts"], stored["last_error"]) == ("queued", 1, "flaky")
    assert {key: stored[key] for key in NO_LEASE} == NO_LEASE
    [again] = await take(sessions)
    assert (again.id, again.attempt) == (task_id, 2)


async def test_queue_depth_counts_tasks_by_status_and_kind(sessions: Sessions) -> None:
    for kind in ("send_email", "send_email", "enrich_entry", "generate_insight"):
        await add(sessions, kind=kind)
    [task] = await take(sessions, limit=1, kinds=["generate_insight"])
    async with sessions.begin() as session:
        await complete(session, **lease_of(task))
    await take(sessions, limit=1, kinds=["send_email"])

    async with sessions.begin() as session:
        assert await queue_depth(session) == {
            ("queued", "send_email"): 1,
            ("leased", "send_email"): 1,
            ("queued", "enrich_entry"): 1,
            ("succeeded", "generate_insight"): 1,
        }


async def test_queue_depth_due_only_leaves_out_tasks_waiting_for_their_run_after(
    sessions: Sessions,
) -> None:
    async with sessions.begin() as session:
        now = (await session.execute(sa.select(sa.func.now()))).scalar_one()
    await add(sessions, kind="send_email", run_after=now - timedelta(seconds=1))
    await add(sessions, kind="send_email", run_after=now + timedelta(hours=1))

    async with sessions.begin() as session:
        assert await queue_depth(session, due_only=True) == {("queued", "send_email"): 1}
        assert await queue_depth(session) == {("queued", "send_email"): 2}


async def test_delete_finished_removes_only_old_finished_tasks(
    sessions: Sessions, db: asyncpg.Connection
) -> None:
    for kind in ("old", "recent", "dead", "failed", "queued"):
        await add(sessions, kind=kind, max_attempts=1)
    for task in await take(sessions, kinds=["old", "recent"]):
        async with sessions.begin() as session:
            assert await complete(session, **lease_of(task)) is True
    for task in await take(sessions, kinds=["dead", "failed"]):
        async with sessions.begin() as session:
            await fail(session, **lease_of(task), error="x", retryable=task.kind == "dead")
    await db.execute(
        "UPDATE task SET updated_at = now() - interval '2 days' WHERE kind <> 'recent'"
    )

    async with sessions.begin() as session:
        now: datetime = (await session.execute(sa.select(sa.func.now()))).scalar_one()
        assert await delete_finished(session, before=now - timedelta(days=1)) == 3

    remaining = await db.fetch("SELECT kind, status FROM task ORDER BY kind")
    assert [tuple(task) for task in remaining] == [("queued", "queued"), ("recent", "succeeded")]


async def wakeup_backends(db: asyncpg.Connection) -> list[int]:
    pids = await db.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND application_name = $1",
        WAKEUPS_APP,
    )
    return [record["pid"] for record in pids]


async def test_wakeups_wake_every_waiter_when_an_enqueue_commits(
    sessions: Sessions, database_url: str
) -> None:
    async with TaskWakeups(database_url, poll_seconds=60, application_name=WAKEUPS_APP) as wakeups:
        waiters = [asyncio.create_task(wakeups.wait()) for _ in range(3)]
        await asyncio.sleep(0)  # all three are waiting
        async with sessions.begin() as session:
            await enqueue(session, kind="enrich_entry", payload={})
            await asyncio.sleep(0.05)
            assert not any(waiter.done() for waiter in waiters)  # not before the commit
        async with asyncio.timeout(10):
            assert await asyncio.gather(*waiters) == [True, True, True]
        assert wakeups.generation == 1


async def test_wakeups_return_after_the_poll_when_nothing_is_committed(
    sessions: Sessions, database_url: str
) -> None:
    async with TaskWakeups(database_url, poll_seconds=0.3, application_name=WAKEUPS_APP) as wakeups:
        async with sessions() as session:
            await enqueue(session, kind="enrich_entry", payload={})
            await session.rollback()
        assert await wakeups.wait() is False
        assert wakeups.generation == 0


async def test_wakeups_wait_returns_at_once_after_a_missed_wakeup(
    sessions: Sessions, database_url: str
) -> None:
    async with TaskWakeups(database_url, poll_seconds=60, application_name=WAKEUPS_APP) as wakeups:
        other_consumer = asyncio.create_task(wakeups.wait())
        await asyncio.sleep(0)
        seen = wakeups.generation
        await add(sessions)  # between this consumer's look at the queue and its wait
        async with asyncio.timeout(10):
            assert await other_consumer is True  # the notification has arrived
            assert await wakeups.wait(after=seen) is True


async def test_wakeups_reconnect_after_their_connection_is_terminated(
    sessions: Sessions, db: asyncpg.Connection, database_url: str
) -> None:
    async with TaskWakeups(database_url, poll_seconds=60, application_name=WAKEUPS_APP) as wakeups:
        [old_pid] = await wakeup_backends(db)
        parked = asyncio.create_task(wakeups.wait())
        await asyncio.sleep(0)
        assert await db.fetchval("SELECT pg_terminate_backend($1)", old_pid) is True

        async with asyncio.timeout(10):
            # Notifications may have been missed while disconnected: waiters look again.
            assert await parked is True
        assert wakeups.connections == 2
        [new_pid] = await wakeup_backends(db)
        assert new_pid != old_pid
        seen = wakeups.generation
        waiter = asyncio.create_task(wakeups.wait(after=seen))
        await add(sessions)
        async with asyncio.timeout(10):
            assert await waiter is True
        assert (wakeups.generation, wakeups.connections, wakeups.connected) == (seen + 1, 2, True)


async def test_wakeups_poll_when_the_database_is_unreachable(database_url: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = make_url(database_url).set(host="127.0.0.1", port=port)

    async with TaskWakeups(
        unreachable.render_as_string(hide_password=False), poll_seconds=0.2
    ) as wakeups:
        assert (wakeups.connected, wakeups.connections) == (False, 0)
        assert await wakeups.wait() is False


async def test_wakeups_close_their_connection_on_exit(
    db: asyncpg.Connection, database_url: str
) -> None:
    async with TaskWakeups(database_url, poll_seconds=60, application_name=WAKEUPS_APP) as wakeups:
        assert wakeups.connected is True
        assert len(await wakeup_backends(db)) == 1

    assert wakeups.connected is False
    async with asyncio.timeout(10):
        # The backend leaves pg_stat_activity just after the socket closes; no event says when.
        while await wakeup_backends(db):  # noqa: ASYNC110
            await asyncio.sleep(0.01)
