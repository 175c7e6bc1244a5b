"""Everything stored about one user, as one JSON document (the GDPR export)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from db.models import (
    Event,
    Insight,
    LogEntry,
    LogEntryTag,
    Notification,
    Project,
    RefreshToken,
    ScheduleRun,
    Tag,
    Task,
    User,
)

FORMAT = "englog-export/1"
# Not the user's data but the means to check it; nothing else is left out.
SECRET_COLUMNS = {"password_hash"}


def _rows(rows: Any) -> list[dict[str, Any]]:
    return [_row(row) for row in rows]


def _row(row: SQLModel) -> dict[str, Any]:
    return {
        key: value
        for key, value in row.model_dump(mode="json").items()
        if key not in SECRET_COLUMNS
    }


async def export_user_data(session: AsyncSession, *, user_id: uuid.UUID) -> dict[str, Any] | None:
    """Every row of the user, in one snapshot (call inside a REPEATABLE READ transaction).

    None when the account does not exist."""
    user = (await session.scalars(sa.select(User).where(col(User.id) == user_id))).one_or_none()
    if user is None:
        return None

    async def all_of(model: type[SQLModel], *order: Any) -> list[dict[str, Any]]:
        owner = model.user_id  # type: ignore[attr-defined]
        query = sa.select(model).where(owner == user_id).order_by(*order)
        return _rows((await session.scalars(query)).all())

    entry_tags = await session.scalars(
        sa.select(LogEntryTag)
        .join(LogEntry, col(LogEntry.id) == col(LogEntryTag.entry_id))
        .where(col(LogEntry.user_id) == user_id)
        .order_by(col(LogEntryTag.entry_id), col(LogEntryTag.tag_id))
    )
    return {
        "format": FORMAT,
        "exported_at": datetime.now(UTC).isoformat(),
        "user": _row(user),
        "projects": await all_of(Project, col(Project.created_at), col(Project.id)),
        "tags": await all_of(Tag, col(Tag.created_at), col(Tag.id)),
        "log_entries": await all_of(LogEntry, col(LogEntry.start_time), col(LogEntry.id)),
        "log_entry_tags": _rows(entry_tags.all()),
        "insights": await all_of(Insight, col(Insight.created_at), col(Insight.id)),
        "tasks": await all_of(Task, col(Task.created_at), col(Task.id)),
        "events": await all_of(Event, col(Event.id)),
        "sessions": await all_of(RefreshToken, col(RefreshToken.created_at), col(RefreshToken.jti)),
        "notifications": await all_of(
            Notification, col(Notification.created_at), col(Notification.id)
        ),
        "schedule_runs": await all_of(ScheduleRun, col(ScheduleRun.period), col(ScheduleRun.job)),
    }
