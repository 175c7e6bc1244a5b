"""A user's entries read for a download (CSV, JSON, Markdown, the calendar feed): one query,
rows in batches from a server-side cursor, with their project's name and tag names joined
in SQL, so an export holds one batch in memory however many entries it covers. And the
calendar feed's secret (only its hash), by which the feed finds its user."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import CalendarFeed, LogEntry, LogEntryTag, Project, Tag, User
from db.queries.log_entry import EntryFilter
from db.queries.log_entry import _conditions as entry_conditions

BATCH_ROWS = 500


@dataclass(frozen=True)
class ExportedEntry:
    """One entry as the downloads show it. `week`, `week_minutes` and `project_minutes` are
    set in the by-week order only: the entry's ISO week (its Monday, in the user's days),
    and the minutes of that week, and of its project in that week."""

    id: uuid.UUID
    title: str
    description: str | None
    type: str
    project_id: uuid.UUID | None
    project: str | None
    tags: list[str]
    start_time: datetime
    end_time: datetime
    duration_minutes: int
    value_rating: str
    impact_level: str
    week: datetime | None = None
    week_minutes: int | None = None
    project_minutes: int | None = None


async def user_timezone(session: AsyncSession, *, user_id: uuid.UUID) -> str | None:
    """The user's time zone; None when the account does not exist."""
    query = sa.select(col(User.timezone)).where(col(User.id) == user_id)
    return (await session.execute(query)).scalar_one_or_none()


def _tag_names(user_id: uuid.UUID) -> sa.ScalarSelect[Any]:
    return (
        sa.select(
            sa.func.coalesce(
                sa.func.array_agg(aggregate_order_by(col(Tag.name), sa.func.lower(col(Tag.name)))),
                sa.text("'{}'::text[]"),
            )
        )
        .select_from(LogEntryTag)
        .join(Tag, col(Tag.id) == col(LogEntryTag.tag_id))
        .where(col(LogEntryTag.entry_id) == col(LogEntry.id), col(Tag.user_id) == user_id)
        .scalar_subquery()
    )


def export_query(
    user_id: uuid.UUID,
    where: EntryFilter,
    *,
    by_week_in: str | None = None,
    newest: int | None = None,
) -> sa.Select[Any]:
    """The entries of `where`, oldest first; `by_week_in` (a time zone) orders them by ISO
    week, then project name, then start, with the week's and project's minutes; `newest`
    keeps only the newest rows (still answered oldest first)."""
    columns: list[Any] = [
        col(LogEntry.id),
        col(LogEntry.title),
        col(LogEntry.description),
        col(LogEntry.type),
        col(LogEntry.project_id),
        col(Project.name).label("project"),
        _tag_names(user_id).label("tags"),
        col(LogEntry.start_time),
        col(LogEntry.end_time),
        col(LogEntry.duration_minutes),
        col(LogEntry.value_rating),
        col(LogEntry.impact_level),
    ]
    order: list[Any] = [col(LogEntry.start_time), col(LogEntry.id)]
    if by_week_in is not None:
        week = sa.func.date_trunc(
            "week", sa.func.timezone(by_week_in, col(LogEntry.start_time))
        ).label("week")
        minutes = sa.func.sum(col(LogEntry.duration_minutes))
        columns += [
            week,
            minutes.over(partition_by=week).label("week_minutes"),
            minutes.over(partition_by=[week, col(LogEntry.project_id)]).label("project_minutes"),
        ]
        order = [week, col(Project.name).asc().nulls_last(), *order]
    query = (
        sa.select(*columns)
        .select_from(LogEntry)
        .outerjoin(Project, col(Project.id) == col(LogEntry.project_id))
        .where(*entry_conditions(user_id, where))
    )
    if newest is not None:
        latest = query.order_by(col(LogEntry.start_time).desc(), col(LogEntry.id).desc())
        inner = latest.limit(newest).subquery()
        return sa.select(inner).order_by(inner.c.start_time, inner.c.id)
    return query.order_by(*order)


async def stream_entries(
    session: AsyncSession, query: sa.Select[Any], *, batch_rows: int = BATCH_ROWS
) -> AsyncGenerator[list[ExportedEntry], None]:
    """The rows of `export_query`, a batch at a time."""
    result = await session.stream(query.execution_options(yield_per=batch_rows))
    try:
        async for rows in result.mappings().partitions():
            yield [ExportedEntry(**row) for row in rows]
    finally:
        await result.close()


async def get_feed(session: AsyncSession, *, user_id: uuid.UUID) -> CalendarFeed | None:
    return await session.get(CalendarFeed, user_id)


async def put_feed(session: AsyncSession, *, user_id: uuid.UUID, secret_hash: str) -> datetime:
    """Sets the user's feed secret, replacing any other (its URL stops working); when."""
    insert = pg_insert(CalendarFeed).values(user_id=user_id, secret_hash=secret_hash)
    query = insert.on_conflict_do_update(
        index_elements=[col(CalendarFeed.user_id)],
        set_={"secret_hash": insert.excluded.secret_hash, "created_at": sa.func.now()},
    ).returning(col(CalendarFeed.created_at))
    created_at: datetime = (await session.execute(query)).scalar_one()
    return created_at


async def delete_feed(session: AsyncSession, *, user_id: uuid.UUID) -> bool:
    query = sa.delete(CalendarFeed).where(col(CalendarFeed.user_id) == user_id)
    return bool((await session.execute(query)).rowcount)  # type: ignore[attr-defined]


async def feed_owner(session: AsyncSession, *, secret_hash: str) -> uuid.UUID | None:
    query = sa.select(col(CalendarFeed.user_id)).where(col(CalendarFeed.secret_hash) == secret_hash)
    return (await session.execute(query)).scalar_one_or_none()
