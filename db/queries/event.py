"""The event log behind subscriptions: written in the changing transaction, read on resume."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import Event

INSIGHT = "insight"
LOG_ENTRY = "log_entry"
NOTIFICATION = "notification"
# Where a transaction's events wait until it commits, to be published then.
PENDING_KEY = "englog_events"
MAX_REPLAY = 1000


@dataclass(frozen=True)
class EventRecord:
    id: int
    user_id: uuid.UUID
    topic: str
    action: str
    object_id: uuid.UUID


async def record_events(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    topic: str,
    action: str,
    object_ids: Sequence[uuid.UUID],
) -> list[EventRecord]:
    """Appends events in the caller's transaction (one statement); published after commit.

    The per-user transaction-scoped advisory lock orders a user's event writers, so ids
    commit in increasing order for each user and `id > cursor` replays have no holes.
    """
    if not object_ids:
        return []
    await session.execute(
        sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(str(user_id), 0)))
    )
    rows = [
        {"user_id": user_id, "topic": topic, "action": action, "object_id": object_id}
        for object_id in object_ids
    ]
    statement = sa.insert(Event).values(rows).returning(col(Event.id), col(Event.object_id))
    records = [
        EventRecord(event_id, user_id, topic, action, object_id)
        for event_id, object_id in (await session.execute(statement)).all()
    ]
    records.sort(key=lambda record: record.id)
    session.info.setdefault(PENDING_KEY, []).extend(records)
    return records


async def record_event(
    session: AsyncSession, *, user_id: uuid.UUID, topic: str, action: str, object_id: uuid.UUID
) -> EventRecord:
    [record] = await record_events(
        session, user_id=user_id, topic=topic, action=action, object_ids=[object_id]
    )
    return record


async def events_after(
    session: AsyncSession, *, user_id: uuid.UUID, topic: str, after: int, limit: int = MAX_REPLAY
) -> list[EventRecord]:
    """The user's events of a topic after the cursor, oldest first."""
    query = (
        sa.select(Event)
        .where(col(Event.user_id) == user_id, col(Event.topic) == topic, col(Event.id) > after)
        .order_by(col(Event.id))
        .limit(limit)
    )
    return [
        EventRecord(row.id, row.user_id, row.topic, row.action, row.object_id)
        for row in (await session.scalars(query)).all()
    ]


async def latest_event_id(session: AsyncSession, *, user_id: uuid.UUID, topic: str) -> int:
    query = sa.select(sa.func.max(col(Event.id))).where(
        col(Event.user_id) == user_id, col(Event.topic) == topic
    )
    return int((await session.scalar(query)) or 0)
