"""What the scheduler reads and writes: users' preferences, its runs, and the clean-up.

Preferences live in `user.preferences` (JSONB) under the keys of `Preferences.to_json`;
a key that is absent has its default. A job is claimed in `schedule_run` in the transaction
that does it, so it is done at most once per user and period (see db/models/notification.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db import queue
from db.models import EndedSession, LogEntry, RefreshToken, ScheduleRun, User

WEEKLY_REPORT = "WEEKLY_REPORT"
DAILY_SUMMARY = "DAILY_SUMMARY"
LOGGING_REMINDER = "LOGGING_REMINDER"
REQUESTED = "REQUESTED"  # an insight was requested
NOTIFIED = "NOTIFIED"  # a reminder was sent
SKIPPED = "SKIPPED"  # nothing was needed (no entries to report on, or some logged already)


def _clock_time(value: object) -> time | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = time.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(second=0, microsecond=0, tzinfo=None)


def clock_text(value: time | None) -> str | None:
    """A wall-clock time as stored and shown: HH:MM; None stays None (off)."""
    return value.strftime("%H:%M") if value is not None else None


@dataclass(frozen=True)
class Preferences:
    """A user's schedule and notification choices; times are wall-clock times in the user's
    own time zone, None meaning off."""

    weekly_report: bool = True
    daily_summary_at: time | None = None
    email: bool = False
    reminder_at: time | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Preferences:
        data = data or {}
        weekly, email = data.get("weekly_report"), data.get("email")
        return cls(
            weekly_report=weekly if isinstance(weekly, bool) else cls.weekly_report,
            daily_summary_at=_clock_time(data.get("daily_summary_at")),
            email=email if isinstance(email, bool) else cls.email,
            reminder_at=_clock_time(data.get("reminder_at")),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "weekly_report": self.weekly_report,
            "daily_summary_at": clock_text(self.daily_summary_at),
            "email": self.email,
            "reminder_at": clock_text(self.reminder_at),
        }


async def update_preferences(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    changes: Mapping[str, Any],
    timezone: str | None = None,
) -> User | None:
    """Applies `changes` (Preferences field -> value) and, if given, a new time zone, under
    the user's row lock; the updated user, or None when the account is gone."""
    query = sa.select(User).where(col(User.id) == user_id).with_for_update()
    user = (await session.scalars(query)).one_or_none()
    if user is None:
        return None
    preferences = replace(Preferences.from_json(user.preferences), **changes)
    values: dict[str, Any] = {"preferences": preferences.to_json(), "updated_at": sa.func.now()}
    if timezone is not None:
        values["timezone"] = timezone
    statement = sa.update(User).where(col(User.id) == user_id).values(**values).returning(User)
    return (await session.scalars(statement.execution_options(populate_existing=True))).one()


@dataclass(frozen=True)
class ScheduledUser:
    id: uuid.UUID
    email: str
    first_name: str
    timezone: str
    created_at: datetime
    preferences: Preferences


async def scheduled_users(session: AsyncSession) -> list[ScheduledUser]:
    """Every user with at least one scheduled job on (the weekly report is on by default)."""
    preferences = col(User.preferences)
    any_job = sa.or_(
        preferences["weekly_report"].as_boolean().is_not(False),
        preferences["daily_summary_at"].as_string().is_not(None),
        preferences["reminder_at"].as_string().is_not(None),
    )
    query = sa.select(
        col(User.id),
        col(User.email),
        col(User.first_name),
        col(User.timezone),
        col(User.created_at),
        col(User.preferences),
    ).where(any_job)
    return [
        ScheduledUser(
            id=row.id,
            email=row.email,
            first_name=row.first_name,
            timezone=row.timezone,
            created_at=row.created_at,
            preferences=Preferences.from_json(row.preferences),
        )
        for row in await session.execute(query)
    ]


async def claimed_runs(session: AsyncSession, *, since: date) -> set[tuple[uuid.UUID, str, date]]:
    """(user, job, period) of every run whose period starts on or after `since`."""
    query = sa.select(col(ScheduleRun.user_id), col(ScheduleRun.job), col(ScheduleRun.period))
    rows = await session.execute(query.where(col(ScheduleRun.period) >= since))
    return {(row.user_id, row.job, row.period) for row in rows}


async def claim_run(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    job: str,
    period: date,
    due_at: datetime,
    ran_at: datetime,
) -> bool:
    """Claims the job for this user and period in the caller's transaction; False when it
    was claimed before (by this process or another, now or before a restart). A concurrent
    claimer waits for the first one's transaction and then gets False."""
    statement = (
        insert(ScheduleRun)
        .values(
            user_id=user_id, job=job, period=period, due_at=due_at, ran_at=ran_at, outcome=SKIPPED
        )
        .on_conflict_do_nothing()
        .returning(col(ScheduleRun.job))
    )
    return (await session.execute(statement)).first() is not None


async def set_outcome(
    session: AsyncSession, *, user_id: uuid.UUID, job: str, period: date, outcome: str
) -> None:
    await session.execute(
        sa.update(ScheduleRun)
        .where(
            col(ScheduleRun.user_id) == user_id,
            col(ScheduleRun.job) == job,
            col(ScheduleRun.period) == period,
        )
        .values(outcome=outcome)
    )


async def has_entries(
    session: AsyncSession, *, user_id: uuid.UUID, start: datetime, end: datetime
) -> bool:
    """Whether the user logged an entry starting in [start, end)."""
    query = sa.select(
        sa.exists().where(
            col(LogEntry.user_id) == user_id,
            col(LogEntry.start_time) >= start,
            col(LogEntry.start_time) < end,
        )
    )
    return bool(await session.scalar(query))


@dataclass(frozen=True)
class Cleanup:
    tasks: int
    refresh_tokens: int
    schedule_runs: int


async def clean_up(
    session: AsyncSession,
    *,
    now: datetime,
    task_age: timedelta,
    run_age: timedelta,
) -> Cleanup:
    """Deletes finished tasks last changed before `now - task_age`, refresh-token records
    past their expiry (a token past it is refused whatever its record says), and schedule
    runs older than `run_age` (only the current periods' runs are ever looked up)."""
    tasks = await queue.delete_finished(session, before=now - task_age)
    tokens = sa.delete(RefreshToken).where(col(RefreshToken.expires_at) < now)
    runs = sa.delete(ScheduleRun).where(col(ScheduleRun.ran_at) < now - run_age)
    # A deleted account's ended session, once no token of it can be accepted any more.
    ended = sa.delete(EndedSession).where(col(EndedSession.expires_at) < now)
    tokens_deleted, runs_deleted, _ = [
        cast(CursorResult[Any], await session.execute(statement)).rowcount
        for statement in (tokens, runs, ended)
    ]
    return Cleanup(tasks, tokens_deleted, runs_deleted)
