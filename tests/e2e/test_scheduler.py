"""Two real `englog api` processes: one leads the scheduler; killed, the other takes over and
does the work that falls due."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.e2e.processes import Launcher
from tests.e2e.support import Database, eventually
from tests.factories import Api

pytestmark = pytest.mark.slow

LEADS = "scheduler: this process leads"
SCHEDULER = {"ENGLOG_SCHEDULER": "true", "ENGLOG_SCHEDULER_INTERVAL_SECONDS": "1"}
UPDATE = """
mutation($input: UpdatePreferencesInput!) { updatePreferences(input: $input) { id } }
"""


async def test_when_the_leading_api_is_killed_the_other_takes_over_and_sends_the_reminder(
    launcher: Launcher, db: Database
) -> None:
    first = await launcher.api(SCHEDULER, name="api-first")
    await first.proc.wait_for_output(LEADS)
    second = await launcher.api(SCHEDULER, name="api-second")
    # The second tried for the lead at start-up, and follows.
    await second.proc.wait_for_output("gRPC worker protocol on")

    await first.proc.kill()  # SIGKILL: no shutdown, the lock goes with the connection

    await second.proc.wait_for_output(LEADS, within=60)
    # A reminder due this very minute, for a user with nothing logged: sent by the second.
    now = datetime.now(UTC)
    async with httpx.AsyncClient(base_url=second.base_url, timeout=30.0) as client:
        api = Api(client)
        account = await api.sign_up()
        await api.data(
            UPDATE,
            {"input": {"timezone": "UTC", "reminderTime": now.strftime("%H:%M")}},
            account.access_token,
        )
    await db.connection.execute(
        'UPDATE "user" SET created_at = $2 WHERE id = $1',
        uuid.UUID(account.user_id),
        now - timedelta(days=1),
    )
    count = await eventually(
        lambda: db.connection.fetchval(
            "SELECT count(*) FROM notification WHERE user_id = $1", uuid.UUID(account.user_id)
        ),
        lambda found: found > 0,
        what="the reminder",
    )
    assert count == 1
    assert first.proc.output().count(LEADS) == 1
    assert second.proc.output().count(LEADS) == 1
