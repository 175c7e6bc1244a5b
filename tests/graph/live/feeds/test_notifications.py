"""The notifications subscription over real websockets: a reminder reaches its user live,
replays after a cursor, and never reaches anyone else."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest

from graph.schedules.runner import Scheduler
from tests.factories import Account, Api, connect
from tests.graph.live.feeds.support import numsub
from tests.graph.schedules.support import make_scheduler, scheduled_account, utc
from tests.live import Server, logged_in

NOTIFICATIONS = """
subscription($since: String) {
  notifications(since: $since) { cursor notification { id kind title body createdAt } }
}
"""
MONDAY = utc(2026, 3, 30, 15, 30)  # 17:30 in Berlin
SILENCE = 0.5  # how long a socket that must receive nothing is watched


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    async with connect(database_url) as connection:
        yield connection


@pytest.fixture
async def scheduler(server: Server, database_url: str) -> AsyncIterator[Scheduler]:
    made = make_scheduler(server.state, database_url)  # on the live server's app
    try:
        yield made
    finally:
        await made.close()


async def listening(server: Server, *accounts: Account) -> None:
    """Until every account's feed has subscribed to its Redis channel."""
    for _ in range(200):
        counts = [await numsub(server, f"englog:user:{a.user_id}") for a in accounts]
        if all(counts):
            return
        await asyncio.sleep(0.025)
    raise AssertionError("the subscriptions did not start")


async def test_a_reminder_reaches_its_users_dashboard_live_and_no_one_else(
    server: Server, http: Api, db: asyncpg.Connection, scheduler: Scheduler
) -> None:
    reminded = await scheduled_account(http, db, "Europe/Berlin", reminderTime="17:30")
    other = await scheduled_account(http, db, "Europe/Berlin", reminderTime="18:30")
    async with (
        logged_in(server, reminded.access_token) as mine,
        logged_in(server, other.access_token) as theirs,
    ):
        my_feed = await mine.subscribe(NOTIFICATIONS)
        their_feed = await theirs.subscribe(NOTIFICATIONS)
        await listening(server, reminded, other)

        await scheduler.tick(MONDAY)

        event = (await my_feed.next())["notifications"]
        assert event["notification"]["kind"] == "LOGGING_REMINDER"
        assert event["notification"]["title"] == "Nothing logged today yet"
        assert event["notification"]["body"].startswith("You have not logged any work for Monday")
        with pytest.raises(TimeoutError):
            await their_feed.message(timeout=SILENCE)

        # The other user's own reminder, an hour later, reaches only them.
        await scheduler.tick(MONDAY + timedelta(hours=1))
        theirs_event = (await their_feed.next())["notifications"]
        assert theirs_event["notification"]["id"] != event["notification"]["id"]
        with pytest.raises(TimeoutError):
            await my_feed.message(timeout=SILENCE)


async def test_a_dashboard_that_was_away_gets_the_reminders_it_missed_after_its_cursor(
    server: Server, http: Api, db: asyncpg.Connection, scheduler: Scheduler
) -> None:
    account = await scheduled_account(http, db, "Europe/Berlin", reminderTime="17:30")
    async with logged_in(server, account.access_token) as socket_:
        feed = await socket_.subscribe(NOTIFICATIONS)
        await listening(server, account)
        await scheduler.tick(MONDAY)
        first = (await feed.next())["notifications"]

    # Away for two days: two reminders are sent meanwhile.
    missed = [MONDAY + timedelta(days=1), MONDAY + timedelta(days=2)]
    for instant in missed:
        await scheduler.tick(instant)

    async with logged_in(server, account.access_token) as socket_:
        feed = await socket_.subscribe(NOTIFICATIONS, {"since": first["cursor"]})
        replayed = [(await feed.next())["notifications"] for _ in missed]
        bodies = [event["notification"]["body"] for event in replayed]
        assert [body.split(",")[0] for body in bodies] == [
            "You have not logged any work for Tuesday",
            "You have not logged any work for Wednesday",
        ]
        cursors = [int(event["cursor"]) for event in replayed]
        assert int(first["cursor"]) < cursors[0] < cursors[1]
        # Then live, with nothing replayed twice.
        await listening(server, account)
        await scheduler.tick(MONDAY + timedelta(days=3))
        live = (await feed.next())["notifications"]
        assert int(live["cursor"]) > cursors[1]
        assert live["notification"]["body"].startswith("You have not logged any work for Thursday")
