"""Table models. Importing this package registers every table on SQLModel.metadata."""

from db.models.access_token import AccessToken
from db.models.calendar_feed import CalendarFeed
from db.models.ended_session import EndedSession
from db.models.event import Event
from db.models.idempotency_key import IdempotencyKey
from db.models.insight import Insight
from db.models.log_entry import LogEntry, LogEntryTag
from db.models.notification import Notification, ScheduleRun
from db.models.project import Project
from db.models.refresh_token import RefreshToken
from db.models.running_timer import RunningTimer, RunningTimerTag
from db.models.tag import Tag
from db.models.task import Task
from db.models.user import User

__all__ = [
    "AccessToken",
    "CalendarFeed",
    "EndedSession",
    "Event",
    "IdempotencyKey",
    "Insight",
    "LogEntry",
    "LogEntryTag",
    "Notification",
    "Project",
    "RefreshToken",
    "RunningTimer",
    "RunningTimerTag",
    "ScheduleRun",
    "Tag",
    "Task",
    "User",
]
