from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from db.models import Notification as NotificationRow
from db.queries.schedule import Preferences as PreferencesData
from db.queries.schedule import clock_text


@strawberry.type(
    description="What EngLog does on its own for the user. Times are HH:MM in the user's "
    "own time zone (User.timezone), daylight-saving changes included."
)
class Preferences:
    weekly_report: bool = strawberry.field(
        description="A WEEKLY_REPORT insight of the week before, requested every Monday at "
        "09:00 (when anything was logged that week). On unless turned off."
    )
    daily_summary_time: str | None = strawberry.field(
        description="When a DAILY_SUMMARY of the day is requested (when anything was logged "
        "that day); null: never."
    )
    email: bool = strawberry.field(
        description="Whether finished insights and reminders are also sent by e-mail. Off "
        "unless turned on."
    )
    reminder_time: str | None = strawberry.field(
        description="When to remind the user who has logged nothing that day (a "
        "LOGGING_REMINDER notification, and an e-mail if `email` is on); null: never."
    )

    @classmethod
    def from_data(cls, data: PreferencesData) -> Preferences:
        return cls(
            weekly_report=data.weekly_report,
            daily_summary_time=clock_text(data.daily_summary_at),
            email=data.email,
            reminder_time=clock_text(data.reminder_at),
        )


@strawberry.input(description="Changes to the preferences; a field left out stays as it is.")
class UpdatePreferencesInput:
    weekly_report: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Turn the Monday weekly report on or off."
    )
    daily_summary_time: str | None = strawberry.field(
        default=strawberry.UNSET, description="HH:MM for a daily summary; null turns it off."
    )
    email: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Send finished insights and reminders by e-mail."
    )
    reminder_time: str | None = strawberry.field(
        default=strawberry.UNSET, description="HH:MM for a logging reminder; null turns it off."
    )
    timezone: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The IANA time zone the times above (and day boundaries) are in.",
    )


@strawberry.enum(description="What a notification is about.")
class NotificationKind(Enum):
    LOGGING_REMINDER = "LOGGING_REMINDER"


@strawberry.type(description="Something EngLog tells the user on its own.")
class Notification:
    id: strawberry.ID = strawberry.field(description="The notification's id (a UUID).")
    kind: NotificationKind = strawberry.field(description="What it is about.")
    title: str = strawberry.field(description="One line for a toast or a list.")
    body: str = strawberry.field(description="The message.")
    created_at: datetime = strawberry.field(description="When it was sent.")

    @classmethod
    def from_model(cls, row: NotificationRow) -> Notification:
        return cls(
            id=strawberry.ID(str(row.id)),
            kind=NotificationKind(row.kind),
            title=row.title,
            body=row.body,
            created_at=row.created_at,
        )


@strawberry.type(description="A notification as it is sent.")
class NotificationEvent:
    cursor: str = strawberry.field(
        description="Pass it as `since` to resume right after this notification."
    )
    notification: Notification = strawberry.field(description="The notification.")
