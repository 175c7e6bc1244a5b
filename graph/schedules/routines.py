"""What the scheduler does for one user: which routines are due at an instant, and doing one.

The scheduler's units are routines (the weekly report, the daily summary, the logging
reminder); "job" is the worker's word (the protocol's InsightJob, EmailJob). The table
`schedule_run` and the metric `englog_scheduled_jobs_total` keep their column and label `job`.

A routine is due at its latest slot (graph/schedules/slots.py) while that slot is recent enough
(CATCH_UP: a scheduler that was down catches up, but a reminder hours late is noise) and
not older than the account. Claimed or not is the caller's business (runner.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.queries import notification as notifications
from db.queries import schedule
from db.queries.insight import InsightRequest, period_bounds
from db.queries.schedule import ScheduledUser
from graph.insights.task import Requester, create_insight
from graph.notifications import email
from graph.schedules.slots import Slot, daily_slot, day_bounds, weekly_slot

CATCH_UP = {
    schedule.WEEKLY_REPORT: timedelta(hours=24),
    schedule.DAILY_SUMMARY: timedelta(hours=6),
    schedule.LOGGING_REMINDER: timedelta(hours=1),
}


@dataclass(frozen=True)
class Due:
    user: ScheduledUser
    routine: str
    slot: Slot


def due_routines(user: ScheduledUser, now: datetime) -> list[Due]:
    """The user's routines whose latest slot at or before `now` should run now."""
    preferences, zone = user.preferences, user.timezone
    slots: list[tuple[str, Slot]] = []
    if preferences.weekly_report:
        slots.append((schedule.WEEKLY_REPORT, weekly_slot(now, zone)))
    if preferences.daily_summary_at is not None:
        slots.append((schedule.DAILY_SUMMARY, daily_slot(now, zone, preferences.daily_summary_at)))
    if preferences.reminder_at is not None:
        slots.append((schedule.LOGGING_REMINDER, daily_slot(now, zone, preferences.reminder_at)))
    return [
        Due(user, routine, slot)
        for routine, slot in slots
        if user.created_at <= slot.due_at and now - slot.due_at < CATCH_UP[routine]
    ]


async def run_routine(session: AsyncSession, due: Due) -> str:
    """Does the routine in the caller's transaction; its outcome (db/queries/schedule.py).

    A report of a period with nothing logged is not requested: it would say nothing, and
    an e-mail of it would be noise."""
    user, slot = due.user, due.slot
    if due.routine == schedule.LOGGING_REMINDER:
        start, end = day_bounds(slot.period, user.timezone)
        if await schedule.has_entries(session, user_id=user.id, start=start, end=end):
            return schedule.SKIPPED
        title, body = email.reminder_text(slot.period)
        await notifications.create_notification(
            session, user_id=user.id, kind=schedule.LOGGING_REMINDER, title=title, body=body
        )
        if user.preferences.email:
            await email.send(
                session,
                email=email.reminder_email(
                    to=user.email, first_name=user.first_name, day=slot.period
                ),
                user_id=user.id,
                idempotency_key=f"email:reminder:{user.id}:{slot.period.isoformat()}",
            )
        return schedule.NOTIFIED
    start, end = period_bounds(slot.period, slot.period_end, user.timezone)
    if not await schedule.has_entries(session, user_id=user.id, start=start, end=end):
        return schedule.SKIPPED
    await create_insight(
        session,
        user=Requester(user_id=user.id, timezone=user.timezone, first_name=user.first_name),
        request=InsightRequest(
            kind=due.routine, period_start=slot.period, period_end=slot.period_end
        ),
    )
    return schedule.REQUESTED
