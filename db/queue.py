"""The durable task queue of DESIGN.md section 2, in the `task` table.

Tasks are written in the caller's transaction (so a task exists exactly when the row that
needs it does); NOTIFY wakes waiting streams when that transaction commits. Every function
here runs in the caller's transaction and leaves the commit to it, and every time comes from
PostgreSQL's `now()` (the transaction's start), never from this machine's clock.

A lease is identified by its token, a fresh uuid per lease, and its owner (the worker it was
leased to): only that owner, with the current token, can extend, complete, fail or release
the task, so a worker whose lease expired and was handed to another cannot overwrite that
worker's result, and a worker that learnt another's token cannot report for it. A lease
past its expiry that nobody has reclaimed yet (`requeue_expired`) is still the current one
and still honoured.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID, insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core import tracing
from db.models import Task
from db.models.enums import TaskStatus

# Re-exported: `db.queue` is where consumers find the whole queue.
from db.queue_listen import CHANNEL as CHANNEL
from db.queue_listen import TaskWakeups as TaskWakeups

DEFAULT_MAX_ATTEMPTS = 5
# A failed attempt's back-off before the next, in seconds (`fail`): its base and its cap.
DEFAULT_BASE_DELAY = 2.0
DEFAULT_MAX_DELAY = 300.0
TRACE_CONTEXT = "trace_context"  # the payload key of the trace a task belongs to
LEASE_EXPIRED = "lease expired"
# 2**62 seconds is beyond any max_delay; the cap keeps power() far from overflowing.
_MAX_BACKOFF_EXPONENT = 62
_S = TypeVar("_S", bound=sa.Executable)


@dataclass(frozen=True)
class LeasedTask:
    """A task as its lease holder sees it; `attempt` counts this lease (1 for the first)."""

    id: uuid.UUID
    kind: str
    payload: dict[str, Any]
    attempt: int
    lease_token: uuid.UUID
    lease_expires_at: datetime
    user_id: uuid.UUID | None


async def enqueue(
    session: AsyncSession,
    *,
    kind: str,
    payload: dict[str, Any],
    user_id: uuid.UUID | None = None,
    idempotency_key: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    run_after: datetime | None = None,
) -> uuid.UUID:
    """Adds a task in the caller's transaction; the same idempotency key gives the same task.

    Inside a trace, the task carries its context (`trace_context`): the worker's spans join
    the trace of the request that asked for the work."""
    with tracing.tracer().start_as_current_span(f"enqueue {kind}"):
        return await _enqueue(
            session,
            kind=kind,
            payload=payload,
            user_id=user_id,
            idempotency_key=idempotency_key,
            max_attempts=max_attempts,
            run_after=run_after,
        )


async def _enqueue(
    session: AsyncSession,
    *,
    kind: str,
    payload: dict[str, Any],
    user_id: uuid.UUID | None,
    idempotency_key: str | None,
    max_attempts: int,
    run_after: datetime | None,
) -> uuid.UUID:
    carrier = tracing.inject()
    if carrier:
        payload = {**payload, TRACE_CONTEXT: carrier}
    values: dict[str, Any] = {
        "kind": kind,
        "payload": payload,
        "user_id": user_id,
        "idempotency_key": idempotency_key,
        "max_attempts": max_attempts,
    }
    if run_after is not None:
        values["run_after"] = run_after
    statement = insert(Task).values(**values)
    if idempotency_key is not None:
        statement = statement.on_conflict_do_nothing(index_elements=[col(Task.idempotency_key)])
    task_id = (await session.execute(statement.returning(col(Task.id)))).scalar_one_or_none()
    if task_id is None:
        existing = sa.select(col(Task.id)).where(col(Task.idempotency_key) == idempotency_key)
        return (await session.execute(existing)).scalar_one()
    # Delivered at commit, and only if the transaction commits.
    await _notify(session, {kind})
    return task_id


async def enqueue_many(
    session: AsyncSession,
    *,
    kind: str,
    jobs: Sequence[tuple[dict[str, Any], str]],
    user_id: uuid.UUID | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> None:
    """Adds one task per (payload, idempotency key) in ONE statement and one NOTIFY.

    A bulk write of 500 entries enqueues its 500 enrichments at the cost of one.
    Keys already present are skipped, as enqueue() would.
    """
    if not jobs:
        return
    rows = [
        {
            "kind": kind,
            "payload": payload,
            "user_id": user_id,
            "idempotency_key": key,
            "max_attempts": max_attempts,
        }
        for payload, key in jobs
    ]
    statement = insert(Task).values(rows)
    await session.execute(
        statement.on_conflict_do_nothing(index_elements=[col(Task.idempotency_key)])
    )
    await _notify(session, {kind})


async def lease(
    session: AsyncSession,
    *,
    owner: str,
    limit: int,
    lease_seconds: float,
    kinds: Collection[str] | None = None,
) -> list[LeasedTask]:
    """Leases up to `limit` runnable queued tasks, oldest `run_after` first, in one statement.

    SKIP LOCKED lets concurrent leasers (other transactions, processes, machines) pass over
    the rows another one is taking instead of waiting for it, so no task is leased twice.
    """
    if limit <= 0 or (kinds is not None and not kinds):
        return []
    runnable = [
        _status_is(TaskStatus.QUEUED),
        col(Task.run_after) <= sa.func.now(),
    ]
    if kinds is not None:
        runnable.append(col(Task.kind) == sa.any_(_array(sorted(kinds), sa.Text())))
    picked = (
        sa.select(col(Task.id))
        .where(*runnable)
        .order_by(col(Task.run_after), col(Task.created_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        sa.update(Task)
        .where(col(Task.id).in_(picked.scalar_subquery()))
        .values(
            status=TaskStatus.LEASED,
            attempts=col(Task.attempts) + 1,
            lease_token=sa.func.gen_random_uuid(),
            lease_owner=owner,
            lease_expires_at=sa.func.now() + _seconds(lease_seconds),
            updated_at=sa.func.now(),
        )
        .returning(
            col(Task.id),
            col(Task.kind),
            col(Task.payload),
            col(Task.attempts),
            col(Task.lease_token),
            col(Task.lease_expires_at),
            col(Task.user_id),
            col(Task.run_after),
            col(Task.created_at),
        )
    )
    result = await session.execute(_unsynchronised(statement))
    # RETURNING follows no ORDER BY; the caller gets the tasks in queue order.
    rows = sorted(result, key=lambda row: (row.run_after, row.created_at))
    return [
        LeasedTask(
            id=row.id,
            kind=row.kind,
            payload=row.payload,
            attempt=row.attempts,
            lease_token=row.lease_token,
            lease_expires_at=row.lease_expires_at,
            user_id=row.user_id,
        )
        for row in rows
    ]


async def extend_leases(
    session: AsyncSession,
    *,
    owner: str,
    lease_tokens: Collection[uuid.UUID],
    lease_seconds: float,
) -> set[uuid.UUID]:
    """The heartbeat: pushes these leases' expiry to now + `lease_seconds`.

    Returns the tokens still held; a lease that was lost (reclaimed, finished, or held by
    another owner) is absent, and the worker should stop that task.
    """
    if not lease_tokens:
        return set()
    statement = (
        sa.update(Task)
        .where(
            _status_is(TaskStatus.LEASED),
            col(Task.lease_owner) == owner,
            col(Task.lease_token) == sa.any_(_array(list(lease_tokens), UUID(as_uuid=True))),
        )
        .values(lease_expires_at=sa.func.now() + _seconds(lease_seconds), updated_at=sa.func.now())
        .returning(col(Task.lease_token))
    )
    result = await session.execute(_unsynchronised(statement))
    return {token for token in result.scalars() if token is not None}


async def complete(
    session: AsyncSession, *, task_id: uuid.UUID, lease_token: uuid.UUID, owner: str
) -> bool:
    """Marks the task succeeded if `owner` holds its current lease with this token; False
    (and no change) otherwise.

    A result is accepted once: store it in the same transaction only when this returns True.
    """
    statement = (
        sa.update(Task)
        .where(*_current_lease(task_id, lease_token, owner))
        .values(status=TaskStatus.SUCCEEDED, updated_at=sa.func.now(), **_NO_LEASE)
        .returning(col(Task.id))
    )
    return (await session.execute(_unsynchronised(statement))).first() is not None


async def fail(
    session: AsyncSession,
    *,
    task_id: uuid.UUID,
    lease_token: uuid.UUID,
    owner: str,
    error: str,
    retryable: bool,
    base_delay: float = DEFAULT_BASE_DELAY,
    max_delay: float = DEFAULT_MAX_DELAY,
) -> str | None:
    """Records a failed attempt of `owner`'s current lease; returns the new status (None: not
    that lease).

    A retryable failure with attempts left goes back to `queued` after an exponential backoff
    with full jitter, uniform in [0, min(max_delay, base_delay * 2 ** (attempts - 1))); one
    with no attempts left is `dead`, a non-retryable one `failed` (both retryable by hand).
    """
    retry_later = sa.and_(sa.literal(retryable), col(Task.attempts) < col(Task.max_attempts))
    exponent = sa.func.least(
        sa.func.greatest(col(Task.attempts) - 1, 0), sa.literal(_MAX_BACKOFF_EXPONENT)
    )
    cap = sa.func.least(
        sa.literal(max_delay, sa.Float()),
        sa.literal(base_delay, sa.Float()) * sa.func.power(sa.literal(2.0, sa.Float()), exponent),
    )
    backoff = sa.func.make_interval(0, 0, 0, 0, 0, 0, sa.func.random() * cap)
    statement = (
        sa.update(Task)
        .where(*_current_lease(task_id, lease_token, owner))
        .values(
            status=sa.case(
                (retry_later, sa.literal(TaskStatus.QUEUED.value)),
                (sa.literal(retryable), sa.literal(TaskStatus.DEAD.value)),
                else_=sa.literal(TaskStatus.FAILED.value),
            ),
            run_after=sa.case((retry_later, sa.func.now() + backoff), else_=col(Task.run_after)),
            last_error=error,
            updated_at=sa.func.now(),
            **_NO_LEASE,
        )
        .returning(col(Task.status))
    )
    status: str | None = (await session.execute(_unsynchronised(statement))).scalar_one_or_none()
    return status


async def release(
    session: AsyncSession, *, task_id: uuid.UUID, lease_token: uuid.UUID, owner: str
) -> bool:
    """Hands a leased task back at once (a graceful shutdown): the attempt is not counted."""
    statement = (
        sa.update(Task)
        .where(*_current_lease(task_id, lease_token, owner))
        .values(
            status=TaskStatus.QUEUED,
            attempts=sa.func.greatest(col(Task.attempts) - 1, 0),
            # Keeps its place at the front of the queue.
            run_after=sa.func.least(col(Task.run_after), sa.func.now()),
            updated_at=sa.func.now(),
            **_NO_LEASE,
        )
        .returning(col(Task.kind))
    )
    kind = (await session.execute(_unsynchronised(statement))).scalar_one_or_none()
    if kind is None:
        return False
    await _notify(session, {kind})
    return True


@dataclass(frozen=True)
class ReleasedTask:
    """A task whose lease was taken back without a result: `status` is `queued` (it runs
    again) or `dead` (no attempts left)."""

    id: uuid.UUID
    kind: str
    payload: dict[str, Any]
    status: str = TaskStatus.QUEUED.value


async def release_owned(session: AsyncSession, *, owners: Collection[str]) -> list[ReleasedTask]:
    """Hands back every lease these owners hold, as `release` does for one (an API process
    that shuts down returns the tasks of the workers it served, for others to take at once).

    Like an expired lease the task is `queued` again, but the attempt is not counted: a
    shutdown is not the task's failure, and restarts must not use up its attempts.
    """
    if not owners:
        return []
    statement = (
        sa.update(Task)
        .where(
            _status_is(TaskStatus.LEASED),
            col(Task.lease_owner) == sa.any_(_array(sorted(owners), sa.Text())),
        )
        .values(
            status=TaskStatus.QUEUED,
            attempts=sa.func.greatest(col(Task.attempts) - 1, 0),
            run_after=sa.func.least(col(Task.run_after), sa.func.now()),
            updated_at=sa.func.now(),
            **_NO_LEASE,
        )
        .returning(col(Task.id), col(Task.kind), col(Task.payload))
    )
    rows = (await session.execute(_unsynchronised(statement))).all()
    await _notify(session, {row.kind for row in rows})
    return [ReleasedTask(id=row.id, kind=row.kind, payload=row.payload) for row in rows]


async def requeue_expired(session: AsyncSession, *, limit: int = 1000) -> list[uuid.UUID]:
    """The ids of the tasks `take_back_expired` took back."""
    return [task.id for task in await take_back_expired(session, limit=limit)]


async def take_back_expired(session: AsyncSession, *, limit: int = 1000) -> list[ReleasedTask]:
    """Takes back leases past their expiry: `queued` again, or `dead` with no attempts left.

    Returns the tasks taken back (at most `limit`; call again for more), with what their
    owners need to hear of it. SKIP LOCKED passes over a lease its holder is extending or
    finishing right now.
    """
    expired = (
        sa.select(col(Task.id))
        .where(_status_is(TaskStatus.LEASED), col(Task.lease_expires_at) < sa.func.now())
        .order_by(col(Task.lease_expires_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        sa.update(Task)
        .where(col(Task.id).in_(expired.scalar_subquery()))
        .values(
            status=sa.case(
                (col(Task.attempts) >= col(Task.max_attempts), sa.literal(TaskStatus.DEAD.value)),
                else_=sa.literal(TaskStatus.QUEUED.value),
            ),
            last_error=LEASE_EXPIRED,
            updated_at=sa.func.now(),
            **_NO_LEASE,
        )
        .returning(col(Task.id), col(Task.kind), col(Task.payload), col(Task.status))
    )
    rows = (await session.execute(_unsynchronised(statement))).all()
    await _notify(session, {row.kind for row in rows if row.status == TaskStatus.QUEUED})
    return [
        ReleasedTask(id=row.id, kind=row.kind, payload=row.payload, status=str(row.status))
        for row in rows
    ]


async def retry(session: AsyncSession, *, task_id: uuid.UUID) -> bool:
    """Puts a `dead` or `failed` task back in the queue with a fresh set of attempts."""
    statement = (
        sa.update(Task)
        .where(
            col(Task.id) == task_id,
            col(Task.status).in_([TaskStatus.DEAD.value, TaskStatus.FAILED.value]),
        )
        .values(
            status=TaskStatus.QUEUED,
            attempts=0,
            run_after=sa.func.now(),
            updated_at=sa.func.now(),
            **_NO_LEASE,
        )
        .returning(col(Task.kind))
    )
    kind = (await session.execute(_unsynchronised(statement))).scalar_one_or_none()
    if kind is None:
        return False
    await _notify(session, {kind})
    return True


async def get_task(session: AsyncSession, *, task_id: uuid.UUID) -> Task | None:
    return (await session.scalars(sa.select(Task).where(col(Task.id) == task_id))).one_or_none()


async def leased_task(
    session: AsyncSession, *, task_id: uuid.UUID, lease_token: uuid.UUID, owner: str
) -> Task | None:
    """The task, when `owner` holds its current lease with this token; else None."""
    query = sa.select(Task).where(*_current_lease(task_id, lease_token, owner))
    return (await session.scalars(query)).one_or_none()


async def holds_lease(
    session: AsyncSession, *, task_id: uuid.UUID, lease_token: uuid.UUID, owner: str
) -> bool:
    """Whether `owner` holds the current lease of the task with this token."""
    task = await leased_task(session, task_id=task_id, lease_token=lease_token, owner=owner)
    return task is not None


async def count_leased(session: AsyncSession, *, owner: str) -> int:
    """How many tasks `owner` holds leases on."""
    query = sa.select(sa.func.count()).where(
        _status_is(TaskStatus.LEASED), col(Task.lease_owner) == owner
    )
    return (await session.execute(query)).scalar_one()


async def queue_depth(
    session: AsyncSession, *, due_only: bool = False
) -> dict[tuple[str, str], int]:
    """The number of tasks by (status, kind): the one count of the queue (the API's
    englog_tasks gauge, the benchmark's wait for a drained queue). With `due_only`, only
    tasks whose run_after has come: one waiting out a retry's back-off is left out."""
    query = sa.select(col(Task.status), col(Task.kind), sa.func.count()).group_by(
        col(Task.status), col(Task.kind)
    )
    if due_only:
        query = query.where(col(Task.run_after) <= sa.func.now())
    return {(status, kind): count for status, kind, count in await session.execute(query)}


async def delete_finished(session: AsyncSession, *, before: datetime) -> int:
    """Deletes finished tasks (succeeded, failed, dead) last changed before `before`; queued
    and leased ones stay whatever their age. The scheduler's clean-up (30 days)."""
    finished = [TaskStatus.SUCCEEDED.value, TaskStatus.FAILED.value, TaskStatus.DEAD.value]
    statement = sa.delete(Task).where(col(Task.status).in_(finished), col(Task.updated_at) < before)
    result = cast(CursorResult[Any], await session.execute(_unsynchronised(statement)))
    return result.rowcount


_NO_LEASE: dict[str, Any] = {"lease_token": None, "lease_owner": None, "lease_expires_at": None}


def _status_is(status: TaskStatus) -> sa.ColumnElement[bool]:
    # Written into the SQL, not bound: a prepared statement's generic plan can then still
    # prove the partial indexes' `status = '...'` predicates and use them.
    return col(Task.status) == sa.literal(status.value, literal_execute=True)


def _current_lease(
    task_id: uuid.UUID, lease_token: uuid.UUID, owner: str
) -> list[sa.ColumnElement[bool]]:
    return [
        col(Task.id) == task_id,
        _status_is(TaskStatus.LEASED),
        col(Task.lease_token) == lease_token,
        col(Task.lease_owner) == owner,
    ]


def _seconds(seconds: float) -> sa.ColumnElement[timedelta]:
    return sa.literal(timedelta(seconds=seconds), sa.Interval())


def _array(values: Sequence[Any], item_type: Any) -> sa.BindParameter[Sequence[Any]]:
    return sa.bindparam(None, values, type_=ARRAY(item_type))


def _unsynchronised(statement: _S) -> _S:
    # No Task objects live in the sessions that drive the queue: skip the ORM's bookkeeping.
    return statement.execution_options(synchronize_session=False)


async def _notify(session: AsyncSession, kinds: set[str]) -> None:
    # NOTIFY is delivered when the transaction commits (and dropped if it rolls back);
    # identical notifications of one transaction are delivered once.
    for kind in sorted(kinds):
        await session.execute(sa.select(sa.func.pg_notify(CHANNEL, kind)))
