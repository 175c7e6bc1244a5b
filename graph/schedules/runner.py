"""The scheduler: one API process at a time runs the due routines and the clean-up.

Leadership is a PostgreSQL session advisory lock held on a connection of the scheduler's
own. It is PostgreSQL's to hand out: a process that dies closes its connection and the lock
is free; the others try every `interval` seconds, so one takes over within that interval
(ENGLOG_SCHEDULER_INTERVAL_SECONDS, at most 60). Leadership is an optimisation, not what
keeps routines single: every routine is claimed in `schedule_run` in the transaction that
does it, so even two leaders (a lock connection that died unnoticed) do each one once.

Time comes from `clock`, injectable: tests drive it instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.queries import schedule
from db.queries.idempotency import delete_expired_keys
from graph.errors import is_unavailable
from graph.live.hub import EventHub
from graph.prometheus import ApiMetrics
from graph.schedules.routines import Due, due_routines, run_routine
from graph.transaction import transaction

logger = logging.getLogger("englog.scheduler")

# pg_try_advisory_lock's key: "EngLog" in ASCII, a number no other lock of ours uses.
LOCK_KEY = 0x456E674C6F67
TASK_RETENTION = timedelta(days=30)  # finished tasks (succeeded, failed, dead)
RUN_RETENTION = timedelta(days=60)  # schedule runs: only the current periods' are looked up
CLEANUP_EVERY = timedelta(hours=1)
# Runs of periods older than this are not looked up: no routine's slot is that old (a weekly
# report's period starts 7 to 14 days before its slot).
LOOKBACK = timedelta(days=15)
LOCK_CONNECT_TIMEOUT = 5.0


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Ran:
    user_id: uuid.UUID
    routine: str
    period: date
    due_at: datetime
    outcome: str


class Scheduler:
    def __init__(
        self,
        *,
        db: async_sessionmaker[AsyncSession],
        hub: EventHub,
        dsn: str,
        interval_seconds: float,
        clock: Callable[[], datetime] = utc_now,
        metrics: ApiMetrics | None = None,
    ) -> None:
        self.db = db
        self.hub = hub
        self.dsn = dsn
        self.interval = interval_seconds
        self.clock = clock
        self.metrics = metrics
        self._leading = False
        self.cleaned_at: datetime | None = None
        self._connection: asyncpg.Connection | None = None

    @property
    def leading(self) -> bool:
        return self._leading

    @leading.setter
    def leading(self, value: bool) -> None:
        self._leading = value
        if self.metrics is not None:
            self.metrics.scheduler_leader.set(int(value))

    async def run(self) -> None:
        """Forever: lead if nobody does, and while leading, run what is due."""
        while True:
            try:
                await self.step()
            except Exception as exc:  # the database may be away: try again next round
                if is_unavailable(exc):
                    logger.warning("scheduler: the database is unavailable (%r)", exc)
                else:
                    logger.exception("scheduler round failed")
            await asyncio.sleep(self.interval)

    async def step(self) -> list[Ran]:
        """One round: take or keep the lead, and if leading, tick at the clock's time."""
        if not await self.lead():
            return []
        return await self.tick(self.clock())

    async def lead(self) -> bool:
        """Whether this process holds the scheduler lock (taking it if it is free). A lost
        connection is a lost lead: False, and the next round connects again."""
        try:
            if self._connection is None or self._connection.is_closed():
                self.leading = False
                self._connection = await asyncpg.connect(self.dsn, timeout=LOCK_CONNECT_TIMEOUT)
            if self.leading:
                # Still ours while the connection lives: prove it does.
                await self._connection.fetchval("SELECT 1")
            else:
                took = await self._connection.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY)
                if took:
                    logger.info("scheduler: this process leads")
                self.leading = bool(took)
        except asyncio.CancelledError:
            self.leading = False
            self._abandon_connection()
            raise
        except Exception as exc:  # the connection or the database went away
            if self.leading:
                logger.warning("scheduler: lost the lead with its connection (%r)", exc)
            else:
                logger.warning("scheduler: cannot ask for the lead (%r)", exc)
            self.leading = False
            await self._drop_connection()
            return False
        return self.leading

    async def close(self) -> None:
        """Gives the lead up (closing the connection frees the lock)."""
        self.leading = False
        await self._drop_connection()

    def _abandon_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            connection.terminate()

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), LOCK_CONNECT_TIMEOUT)
            if not connection.is_closed():
                connection.terminate()

    async def tick(self, now: datetime) -> list[Ran]:
        """Runs every routine due at `now` that no one has run, and the hourly clean-up."""
        async with self.db() as session:
            users = await schedule.scheduled_users(session)
            claimed = await schedule.claimed_runs(session, since=(now - LOOKBACK).date())
        ran: list[Ran] = []
        for user in users:
            try:
                routines = due_routines(user, now)
            except (ValueError, LookupError):  # a time zone this machine does not know
                logger.warning("scheduler: user %s has an unknown time zone", user.id)
                continue
            for due in routines:
                if (user.id, due.routine, due.slot.period) in claimed:
                    continue
                outcome = await self._run(due, now)
                if outcome is not None:
                    ran.append(Ran(user.id, due.routine, due.slot.period, due.slot.due_at, outcome))
        if self.cleaned_at is None or now - self.cleaned_at >= CLEANUP_EVERY:
            await self.clean_up(now)
        return ran

    async def _run(self, due: Due, now: datetime) -> str | None:
        """Claims and does one routine in one transaction; None when it was claimed already."""
        try:
            async with transaction(self.db, self.hub) as session:
                claimed = await schedule.claim_run(
                    session,
                    user_id=due.user.id,
                    job=due.routine,  # the column keeps its name (db/queries/schedule.py)
                    period=due.slot.period,
                    due_at=due.slot.due_at,
                    ran_at=now,
                )
                if not claimed:
                    return None
                outcome = await run_routine(session, due)
                await schedule.set_outcome(
                    session,
                    user_id=due.user.id,
                    job=due.routine,
                    period=due.slot.period,
                    outcome=outcome,
                )
        except Exception as exc:
            if is_unavailable(exc):
                raise
            # One user's failure (a deleted account, say) must not stop everyone else's routines.
            logger.exception("scheduler: %s for user %s failed", due.routine, due.user.id)
            return None
        logger.info(
            "scheduler: %s for user %s, period %s: %s",
            due.routine,
            due.user.id,
            due.slot.period,
            outcome,
        )
        if self.metrics is not None:
            self.metrics.scheduled_routines.labels(due.routine, outcome).inc()
        return outcome

    async def clean_up(self, now: datetime) -> schedule.Cleanup:
        async with self.db() as session, session.begin():
            done = await schedule.clean_up(
                session, now=now, task_age=TASK_RETENTION, run_age=RUN_RETENTION
            )
            # Keys older than a day answer nothing (db/queries/idempotency.py).
            keys = await delete_expired_keys(session, now=now)
        self.cleaned_at = now
        if done.tasks or done.refresh_tokens or done.schedule_runs or keys:
            logger.info(
                "clean-up: %d finished tasks, %d expired refresh tokens, %d schedule runs, "
                "%d idempotency keys",
                done.tasks,
                done.refresh_tokens,
                done.schedule_runs,
                keys,
            )
        return done
