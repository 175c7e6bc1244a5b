"""The scheduler against the real database, its clock driven by the tests (no sleeping).

The instants are those of tests/graph/schedules/test_slots.py: Berlin and New York on both
sides of their 2026 spring-forward changes.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date, datetime, timedelta

import asyncpg
import pytest

from db.queries import schedule
from graph.context import AppState
from graph.schedules.runner import Ran, Scheduler
from tests.factories import Account, Api
from tests.graph.schedules.support import log_at, make_scheduler, scheduled_account, utc

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
SECOND = timedelta(seconds=1)


def ran_for(ran: list[Ran], account: Account, routine: str = schedule.WEEKLY_REPORT) -> list[Ran]:
    user_id = uuid.UUID(account.user_id)
    return [run for run in ran if run.user_id == user_id and run.routine == routine]


async def insights_of(db: asyncpg.Connection, account: Account) -> list[tuple[str, date, date]]:
    rows = await db.fetch(
        "SELECT i.kind, i.period_start, i.period_end, i.status, t.kind AS task "
        "FROM insight AS i JOIN task AS t ON t.id = i.task_id "
        "WHERE i.user_id = $1 ORDER BY i.period_start",
        uuid.UUID(account.user_id),
    )
    assert {(row["status"], row["task"]) for row in rows} <= {("PENDING", "generate_insight")}
    return [(row["kind"], row["period_start"], row["period_end"]) for row in rows]


@pytest.mark.parametrize(
    ("zone", "dues"),
    [
        # Monday 09:00: 08:00 UTC before Berlin's change (29 March), 07:00 UTC after it.
        (BERLIN, [utc(2026, 3, 23, 8), utc(2026, 3, 30, 7)]),
        # 14:00 UTC before New York's (8 March), 13:00 UTC after it.
        (NEW_YORK, [utc(2026, 3, 2, 14), utc(2026, 3, 9, 13)]),
    ],
)
async def test_the_weekly_report_is_requested_at_monday_nine_local_across_a_dst_change(
    api: Api, db: asyncpg.Connection, scheduler: Scheduler, zone: str, dues: list[datetime]
) -> None:
    account = await scheduled_account(api, db, zone)
    for due in dues:
        await log_at(api, account, due - timedelta(days=4))  # the Thursday before

    expected = []
    for due in dues:
        assert ran_for(await scheduler.tick(due - SECOND), account) == []
        [run] = ran_for(await scheduler.tick(due), account)
        monday = (due - timedelta(days=7)).date()
        assert (run.period, run.due_at, run.outcome) == (monday, due, schedule.REQUESTED)
        expected.append(("WEEKLY_REPORT", monday, monday + timedelta(days=6)))
        assert await insights_of(db, account) == expected


async def test_a_week_is_reported_once_across_ticks_restarts_and_concurrent_schedulers(
    api: Api, db: asyncpg.Connection, app_state: AppState, database_url: str
) -> None:
    account = await scheduled_account(api, db, BERLIN)
    due = utc(2026, 3, 30, 7)
    await log_at(api, account, due - timedelta(days=3))
    first = make_scheduler(app_state, database_url)
    assert len(ran_for(await first.tick(due), account)) == 1
    await first.close()

    # A process started afterwards (a restart), and two at once an hour later.
    restarted = make_scheduler(app_state, database_url)
    assert ran_for(await restarted.tick(due + SECOND), account) == []
    others = [make_scheduler(app_state, database_url) for _ in range(2)]
    results = await asyncio.gather(*(other.tick(due + timedelta(hours=1)) for other in others))
    for scheduler in (restarted, *others):
        await scheduler.close()

    assert [ran_for(result, account) for result in results] == [[], []]
    assert len(await insights_of(db, account)) == 1


async def test_concurrent_schedulers_claiming_one_new_week_request_one_report(
    api: Api, db: asyncpg.Connection, app_state: AppState, database_url: str
) -> None:
    account = await scheduled_account(api, db, NEW_YORK)
    due = utc(2026, 3, 9, 13)
    await log_at(api, account, due - timedelta(days=3))
    schedulers = [make_scheduler(app_state, database_url) for _ in range(3)]

    results = await asyncio.gather(*(scheduler.tick(due) for scheduler in schedulers))

    for scheduler in schedulers:
        await scheduler.close()
    assert sorted(len(ran_for(result, account)) for result in results) == [0, 0, 1]
    assert len(await insights_of(db, account)) == 1


async def test_a_week_with_nothing_logged_is_skipped_and_not_tried_again(
    api: Api, db: asyncpg.Connection, scheduler: Scheduler
) -> None:
    account = await scheduled_account(api, db, BERLIN)
    due = utc(2026, 3, 30, 7)
    await log_at(api, account, due + timedelta(hours=1))  # this week, not the reported one

    [run] = ran_for(await scheduler.tick(due), account)
    again = ran_for(await scheduler.tick(due + timedelta(hours=2)), account)

    assert (run.outcome, again) == (schedule.SKIPPED, [])
    assert await insights_of(db, account) == []
    outcome = await db.fetchval(
        "SELECT outcome FROM schedule_run WHERE user_id = $1", uuid.UUID(account.user_id)
    )
    assert outcome == "SKIPPED"


async def test_a_late_scheduler_catches_up_within_a_day_and_not_after(
    api: Api, db: asyncpg.Connection, scheduler: Scheduler
) -> None:
    due = utc(2026, 3, 30, 7)
    late = await scheduled_account(api, db, BERLIN)
    await log_at(api, late, due - timedelta(days=3))
    assert len(ran_for(await scheduler.tick(due + timedelta(hours=23, minutes=59)), late)) == 1

    # A user the scheduler first sees a day after the slot: no longer due.
    too_late = await scheduled_account(api, db, BERLIN)
    await log_at(api, too_late, due - timedelta(days=3))
    assert ran_for(await scheduler.tick(due + timedelta(hours=24)), too_late) == []
    assert len(await insights_of(db, late)) == 1
    assert await insights_of(db, too_late) == []


async def test_no_report_is_requested_for_a_week_before_the_account_existed(
    api: Api, db: asyncpg.Connection, scheduler: Scheduler
) -> None:
    account = await scheduled_account(api, db, BERLIN)
    due = utc(2026, 3, 30, 7)
    await log_at(api, account, due - timedelta(days=3))
    await db.execute(
        'UPDATE "user" SET created_at = $2 WHERE id = $1',
        uuid.UUID(account.user_id),
        due + SECOND,
    )

    assert ran_for(await scheduler.tick(due + timedelta(hours=1)), account) == []


async def test_a_user_who_turned_the_weekly_report_off_gets_none(
    api: Api, db: asyncpg.Connection, scheduler: Scheduler
) -> None:
    account = await scheduled_account(api, db, BERLIN, weeklyReport=False)
    due = utc(2026, 3, 30, 7)
    await log_at(api, account, due - timedelta(days=3))

    assert ran_for(await scheduler.tick(due), account) == []
    assert await insights_of(db, account) == []


async def test_the_daily_summary_is_requested_at_the_users_time_for_that_day(
    api: Api, db: asyncpg.Connection, scheduler: Scheduler
) -> None:
    account = await scheduled_account(api, db, NEW_YORK, dailySummaryTime="18:00")
    # 18:00 New York: 23:00 UTC on Saturday 7 March (EST), 22:00 UTC on Monday 9 March (EDT).
    saturday, monday = utc(2026, 3, 7, 23), utc(2026, 3, 9, 22)
    for due in (saturday, monday):
        await log_at(api, account, due - timedelta(hours=5))

    for due in (saturday, monday):
        assert ran_for(await scheduler.tick(due - SECOND), account, schedule.DAILY_SUMMARY) == []
        [run] = ran_for(await scheduler.tick(due), account, schedule.DAILY_SUMMARY)
        assert (run.due_at, run.outcome) == (due, schedule.REQUESTED)
    assert [row for row in await insights_of(db, account) if row[0] == "DAILY_SUMMARY"] == [
        ("DAILY_SUMMARY", date(2026, 3, 7), date(2026, 3, 7)),
        ("DAILY_SUMMARY", date(2026, 3, 9), date(2026, 3, 9)),
    ]


async def test_a_reminder_goes_to_a_user_with_nothing_logged_that_day_and_by_email_if_opted_in(
    api: Api, db: asyncpg.Connection, scheduler: Scheduler
) -> None:
    idle = await scheduled_account(api, db, BERLIN, reminderTime="17:30", email=True)
    quiet = await scheduled_account(api, db, BERLIN, reminderTime="17:30")
    busy = await scheduled_account(api, db, BERLIN, reminderTime="17:30", email=True)
    due = utc(2026, 3, 30, 15, 30)  # 17:30 CEST, the day after the change
    # 00:30 local that day (22:30 UTC the day before) counts; 23:59 local the day before not.
    await log_at(api, busy, utc(2026, 3, 29, 22, 30))
    await log_at(api, idle, utc(2026, 3, 29, 21, 59))

    assert ran_for(await scheduler.tick(due - SECOND), idle, schedule.LOGGING_REMINDER) == []
    ran = await scheduler.tick(due)

    outcomes = [
        [run.outcome for run in ran_for(ran, account, schedule.LOGGING_REMINDER)]
        for account in (idle, quiet, busy)
    ]
    assert outcomes == [["NOTIFIED"], ["NOTIFIED"], ["SKIPPED"]]
    notifications = await db.fetch(
        "SELECT n.user_id, n.kind, n.title, n.body, e.topic, e.action FROM notification AS n "
        "JOIN event AS e ON e.object_id = n.id ORDER BY n.user_id"
    )
    assert sorted((str(row["user_id"]), row["kind"], row["topic"]) for row in notifications) == (
        sorted((account.user_id, "LOGGING_REMINDER", "notification") for account in (idle, quiet))
    )
    assert {(row["title"], row["body"]) for row in notifications} == {
        (
            "Nothing logged today yet",
            "You have not logged any work for Monday, 30 March. "
            "A minute now saves guessing later in the week.",
        )
    }
    emails = await db.fetch("SELECT user_id, payload FROM task WHERE kind = 'send_email'")
    assert [(str(row["user_id"])) for row in emails] == [idle.user_id]
    payload = json.loads(emails[0]["payload"])
    assert (payload["to"], payload["subject"]) == (idle.email, "Nothing logged today yet")
    assert payload["text"].startswith("Hi Ada,\n\nYou have not logged any work for Monday")
    assert "<p>You have not logged any work for Monday, 30 March." in payload["html"]
    # Not again that day, whatever the clock says.
    later = await scheduler.tick(due + timedelta(minutes=30))
    assert ran_for(later, idle, schedule.LOGGING_REMINDER) == []


async def test_a_reminder_more_than_an_hour_late_is_not_sent(
    api: Api, db: asyncpg.Connection, scheduler: Scheduler
) -> None:
    account = await scheduled_account(api, db, BERLIN, reminderTime="17:30")
    due = utc(2026, 3, 30, 15, 30)

    late = await scheduler.tick(due + timedelta(hours=1))
    assert ran_for(late, account, schedule.LOGGING_REMINDER) == []
    assert await db.fetchval("SELECT count(*) FROM notification") == 0
