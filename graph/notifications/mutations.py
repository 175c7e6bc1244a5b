from __future__ import annotations

from typing import Any

import strawberry

from db.queries import schedule
from graph import validation as check
from graph.auth.types import User
from graph.context import Info
from graph.errors import FieldErrors, Unauthenticated
from graph.notifications.types import UpdatePreferencesInput


def _changes(errors: FieldErrors, data: UpdatePreferencesInput) -> dict[str, Any]:
    """The Preferences fields to change, checked; null turns a time off, a flag cannot be
    null."""
    changes: dict[str, Any] = {}
    for field, name in (("weekly_report", "weeklyReport"), ("email", "email")):
        value = getattr(data, field)
        if not check.given(value):
            continue
        if value is None:
            errors.add(f"input.{name}", "must be true or false, not null")
        else:
            changes[field] = value
    for field, name, target in (
        ("daily_summary_time", "dailySummaryTime", "daily_summary_at"),
        ("reminder_time", "reminderTime", "reminder_at"),
    ):
        value = getattr(data, field)
        if check.given(value):
            changes[target] = (
                None if value is None else check.clock_time(errors, f"input.{name}", value)
            )
    return changes


@strawberry.type
class NotificationMutation:
    @strawberry.mutation(
        description="Change what EngLog does on its own (weekly report, daily summary, "
        "reminder, e-mail) and the time zone it keeps the times in. Fields left out stay."
    )
    async def update_preferences(self, info: Info, input: UpdatePreferencesInput) -> User:
        user_id = info.context.user_id()
        errors = FieldErrors()
        changes = _changes(errors, input)
        timezone: str | None = None
        if check.given(input.timezone):
            if input.timezone is None:
                errors.add("input.timezone", "must be a time zone, not null")
            else:
                timezone = check.timezone(errors, "input.timezone", input.timezone)
        errors.raise_if_any()
        async with info.context.db() as session, session.begin():
            row = await schedule.update_preferences(
                session, user_id=user_id, changes=changes, timezone=timezone
            )
        if row is None:
            raise Unauthenticated("The account of this token no longer exists")
        return User.from_model(row)
