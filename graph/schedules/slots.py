"""When the scheduler's routines are due: pure functions of an instant and a user's time zone.

A slot is a wall-clock time in the user's zone turned into an instant with `zoneinfo`:
- a time that does not exist on a spring-forward day (02:30 in Berlin on 2026-03-29) is
  read with the offset before the change, so it falls an hour later in local terms (03:30);
- a time that happens twice on a fall-back day is its first occurrence (fold=0);
and either way a routine is claimed per period (a day or a week), so it runs once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKLY_REPORT_AT = time(9, 0)  # Monday 09:00 in the user's zone (DESIGN.md section 1)


@dataclass(frozen=True)
class Slot:
    """A routine's latest due instant at or before some moment, and the period it is for."""

    due_at: datetime  # in UTC
    period: date  # the local day, or the Monday of the reported week
    period_end: date


def _instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def weekly_slot(now: datetime, timezone: str) -> Slot:
    """The latest Monday 09:00 (user's zone) at or before `now`; the period is the week
    before it, Monday to Sunday."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone).date()
    monday = local - timedelta(days=local.weekday())
    due = _instant(monday, WEEKLY_REPORT_AT, zone)
    if due > now:
        monday -= timedelta(days=7)
        due = _instant(monday, WEEKLY_REPORT_AT, zone)
    return Slot(
        due_at=due, period=monday - timedelta(days=7), period_end=monday - timedelta(days=1)
    )


def daily_slot(now: datetime, timezone: str, at: time) -> Slot:
    """The latest `at` (user's zone) at or before `now`; the period is that local day."""
    zone = ZoneInfo(timezone)
    day = now.astimezone(zone).date()
    due = _instant(day, at, zone)
    if due > now:
        day -= timedelta(days=1)
        due = _instant(day, at, zone)
    return Slot(due_at=due, period=day, period_end=day)


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """[00:00, next day 00:00) of a local day, in UTC (23 or 25 hours on DST days)."""
    zone = ZoneInfo(timezone)
    return _instant(day, time(), zone), _instant(day + timedelta(days=1), time(), zone)
