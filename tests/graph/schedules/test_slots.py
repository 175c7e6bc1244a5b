"""The instants the scheduler's routines fall due, across daylight-saving changes in two zones.

2026: Europe/Berlin springs forward on Sunday 29 March (02:00 → 03:00) and falls back on
Sunday 25 October (03:00 → 02:00); America/New_York on 8 March and 1 November.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from graph.schedules.slots import daily_slot, day_bounds, weekly_slot
from tests.graph.schedules.support import utc

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
TICK = timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("zone", "monday_before", "due_before", "monday_after", "due_after"),
    [
        # Monday 09:00 is 08:00 UTC in winter (CET) and 07:00 UTC in summer (CEST).
        (BERLIN, date(2026, 3, 23), utc(2026, 3, 23, 8), date(2026, 3, 30), utc(2026, 3, 30, 7)),
        (
            BERLIN,
            date(2026, 10, 19),
            utc(2026, 10, 19, 7),
            date(2026, 10, 26),
            utc(2026, 10, 26, 8),
        ),
        # 14:00 UTC in winter (EST), 13:00 UTC in summer (EDT).
        (NEW_YORK, date(2026, 3, 2), utc(2026, 3, 2, 14), date(2026, 3, 9), utc(2026, 3, 9, 13)),
        (
            NEW_YORK,
            date(2026, 10, 26),
            utc(2026, 10, 26, 13),
            date(2026, 11, 2),
            utc(2026, 11, 2, 14),
        ),
    ],
)
def test_the_weekly_report_falls_due_at_monday_nine_local_on_both_sides_of_a_dst_change(
    zone: str, monday_before: date, due_before: datetime, monday_after: date, due_after: datetime
) -> None:
    assert due_after - due_before != timedelta(days=7)  # the week across the change
    # Until a microsecond before the next Monday's slot, the latest is the one before.
    assert weekly_slot(due_after - TICK, zone).due_at == due_before
    for monday, due in ((monday_before, due_before), (monday_after, due_after)):
        slot = weekly_slot(due, zone)
        assert (slot.due_at, slot.period, slot.period_end) == (
            due,
            monday - timedelta(days=7),
            monday - timedelta(days=1),
        )
        # A microsecond earlier the latest slot is the week before's.
        earlier = weekly_slot(due - TICK, zone)
        assert earlier.period == monday - timedelta(days=14)
        assert earlier.due_at < due - timedelta(days=6)


@pytest.mark.parametrize(
    ("zone", "day", "at", "due"),
    [
        # 02:30 does not exist on spring-forward day: read with the winter offset, it is 03:30.
        (BERLIN, date(2026, 3, 29), time(2, 30), utc(2026, 3, 29, 1, 30)),
        (NEW_YORK, date(2026, 3, 8), time(2, 30), utc(2026, 3, 8, 7, 30)),
        # Times that happen twice on fall-back day: the first of them.
        (BERLIN, date(2026, 10, 25), time(2, 30), utc(2026, 10, 25, 0, 30)),
        (NEW_YORK, date(2026, 11, 1), time(1, 30), utc(2026, 11, 1, 5, 30)),
        # Ordinary days either side.
        (BERLIN, date(2026, 3, 28), time(17, 0), utc(2026, 3, 28, 16)),
        (BERLIN, date(2026, 3, 30), time(17, 0), utc(2026, 3, 30, 15)),
        (NEW_YORK, date(2026, 3, 7), time(17, 0), utc(2026, 3, 7, 22)),
        (NEW_YORK, date(2026, 3, 9), time(17, 0), utc(2026, 3, 9, 21)),
    ],
)
def test_a_daily_time_falls_due_once_a_local_day_including_gaps_and_repeats(
    zone: str, day: date, at: time, due: datetime
) -> None:
    slot = daily_slot(due, zone, at)
    assert (slot.due_at, slot.period, slot.period_end) == (due, day, day)
    assert daily_slot(due - TICK, zone, at).period == day - timedelta(days=1)
    # A repeated hour (fall back) does not make the day's slot due again.
    assert daily_slot(due + timedelta(hours=1), zone, at).due_at == due


def test_local_days_are_23_and_25_hours_long_on_dst_days() -> None:
    assert day_bounds(date(2026, 3, 29), BERLIN) == (utc(2026, 3, 28, 23), utc(2026, 3, 29, 22))
    assert day_bounds(date(2026, 10, 25), BERLIN) == (utc(2026, 10, 24, 22), utc(2026, 10, 25, 23))
    assert day_bounds(date(2026, 3, 8), NEW_YORK) == (utc(2026, 3, 8, 5), utc(2026, 3, 9, 4))
