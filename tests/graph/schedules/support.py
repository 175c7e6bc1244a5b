"""Instants, a scheduler of the test's own on the test app's database, and users set up for it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from db.engine import asyncpg_dsn
from graph.context import AppState
from graph.schedules.runner import Scheduler
from tests.factories import Account, Api

UPDATE_PREFERENCES = """
mutation($input: UpdatePreferencesInput!) {
  updatePreferences(input: $input) {
    timezone preferences { weeklyReport dailySummaryTime email reminderTime }
  }
}
"""


LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def make_scheduler(app_state: AppState, database_url: str) -> Scheduler:
    return Scheduler(
        db=app_state.db,
        hub=app_state.hub,
        dsn=asyncpg_dsn(database_url),
        interval_seconds=0.1,
        clock=lambda: pytest.fail("these tests pass the instant to tick()"),
    )


async def scheduled_account(
    api: Api, db: asyncpg.Connection, timezone: str, **preferences: Any
) -> Account:
    """A new account in `timezone` with these preferences (GraphQL names), as if it had
    existed since LONG_AGO."""
    account = await api.sign_up()
    data = await api.data(
        UPDATE_PREFERENCES, {"input": {"timezone": timezone, **preferences}}, account.access_token
    )
    assert data["updatePreferences"]["timezone"] == timezone
    await db.execute(
        'UPDATE "user" SET created_at = $2 WHERE id = $1', uuid.UUID(account.user_id), LONG_AGO
    )
    return account


async def log_at(api: Api, account: Account, start: datetime, title: str = "Worked") -> None:
    await api.create_entry(
        account,
        title=title,
        startTime=start.isoformat(),
        endTime=(start + timedelta(minutes=30)).isoformat(),
    )
