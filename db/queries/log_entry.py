"""Log entries: keyset pages, filters, and all-or-nothing writes with their tags."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import LogEntry, LogEntryTag, Tag
from db.models.log_entry import SEARCH_CONFIG
from db.queries.event import LOG_ENTRY, record_event, record_events
from db.queries.pagination import PageCursor, keyset_page
from db.queries.tag import ensure_tags


@dataclass(frozen=True)
class EntryData:
    """A validated entry to write (the GraphQL layer has checked every limit)."""

    title: str
    type: str
    start_time: datetime
    end_time: datetime
    description: str | None = None
    project_id: uuid.UUID | None = None
    value_rating: str = "MEDIUM"
    impact_level: str = "TEAM"
    tags: Sequence[str] = ()


@dataclass(frozen=True)
class EntryFilter:
    start_from: datetime | None = None
    start_to: datetime | None = None
    project_ids: Sequence[uuid.UUID] | None = None
    types: Sequence[str] | None = None
    tags: Sequence[str] | None = None
    value_ratings: Sequence[str] | None = None
    impact_levels: Sequence[str] | None = None
    search: str | None = None


@dataclass
class EntryPage:
    entries: list[LogEntry]
    has_next_page: bool
    conditions: list[Any] = field(repr=False, default_factory=list)


def _conditions(user_id: uuid.UUID, where: EntryFilter) -> list[Any]:
    conditions: list[Any] = [col(LogEntry.user_id) == user_id]
    if where.start_from is not None:
        conditions.append(col(LogEntry.start_time) >= where.start_from)
    if where.start_to is not None:
        conditions.append(col(LogEntry.start_time) < where.start_to)
    if where.project_ids is not None:
        conditions.append(col(LogEntry.project_id).in_(list(where.project_ids)))
    if where.types is not None:
        conditions.append(col(LogEntry.type).in_(list(where.types)))
    if where.value_ratings is not None:
        conditions.append(col(LogEntry.value_rating).in_(list(where.value_ratings)))
    if where.impact_levels is not None:
        conditions.append(col(LogEntry.impact_level).in_(list(where.impact_levels)))
    if where.tags is not None:
        # Any of the tags (case-insensitive), as the other list filters are "any of".
        tagged = (
            sa.select(col(LogEntryTag.entry_id))
            .join(Tag, col(Tag.id) == col(LogEntryTag.tag_id))
            .where(
                col(Tag.user_id) == user_id,
                sa.func.lower(col(Tag.name)).in_([name.lower() for name in where.tags]),
            )
        )
        conditions.append(col(LogEntry.id).in_(tagged))
    if where.search:
        query = sa.func.websearch_to_tsquery(
            sa.literal_column(f"'{SEARCH_CONFIG}'::regconfig"), where.search
        )
        conditions.append(col(LogEntry.search_vector).op("@@")(query))
    return conditions


async def list_entries(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    where: EntryFilter,
    first: int,
    after: PageCursor | None,
) -> EntryPage:
    """One page, newest first (start_time DESC, id DESC): a stable keyset order."""
    conditions = _conditions(user_id, where)
    rows, has_next = await keyset_page(
        session,
        LogEntry,
        time_column=col(LogEntry.start_time),
        id_column=col(LogEntry.id),
        conditions=conditions,
        first=first,
        after=after,
    )
    return EntryPage(entries=rows, has_next_page=has_next, conditions=conditions)


async def count_entries(session: AsyncSession, *, conditions: list[Any]) -> int:
    query = sa.select(sa.func.count()).select_from(LogEntry).where(*conditions)
    return int((await session.scalar(query)) or 0)


async def get_entry(
    session: AsyncSession, *, user_id: uuid.UUID, entry_id: uuid.UUID
) -> LogEntry | None:
    query = sa.select(LogEntry).where(
        col(LogEntry.id) == entry_id, col(LogEntry.user_id) == user_id
    )
    return (await session.scalars(query)).one_or_none()


def _row(user_id: uuid.UUID, data: EntryData) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "project_id": data.project_id,
        "title": data.title,
        "description": data.description,
        "type": data.type,
        "start_time": data.start_time,
        "end_time": data.end_time,
        "value_rating": data.value_rating,
        "impact_level": data.impact_level,
    }


async def _link_tags(
    session: AsyncSession, *, user_id: uuid.UUID, tags_by_entry: dict[uuid.UUID, Sequence[str]]
) -> None:
    names = [name for names in tags_by_entry.values() for name in names]
    tag_ids = await ensure_tags(session, user_id=user_id, names=names)
    links = {
        (entry_id, tag_ids[name])
        for entry_id, entry_names in tags_by_entry.items()
        for name in entry_names
    }
    if links:
        await session.execute(
            sa.insert(LogEntryTag),
            [{"entry_id": entry_id, "tag_id": tag_id} for entry_id, tag_id in sorted(links)],
        )


async def create_entries(
    session: AsyncSession, *, user_id: uuid.UUID, items: Sequence[EntryData]
) -> list[LogEntry]:
    """Inserts the entries and their tags; the caller's transaction makes it all or nothing."""
    statement = sa.insert(LogEntry).returning(LogEntry, sort_by_parameter_order=True)
    created = list(
        (await session.scalars(statement, [_row(user_id, item) for item in items])).all()
    )
    await _link_tags(
        session,
        user_id=user_id,
        tags_by_entry={entry.id: item.tags for entry, item in zip(created, items, strict=True)},
    )
    await record_events(
        session,
        user_id=user_id,
        topic=LOG_ENTRY,
        action="CREATED",
        object_ids=[entry.id for entry in created],
    )
    return created


async def list_most_used_tag_names(
    session: AsyncSession, *, user_id: uuid.UUID, limit: int
) -> list[str]:
    """The user's most used tag names, most used first (then by name)."""
    popular = (
        sa.select(col(Tag.name))
        .where(col(Tag.user_id) == user_id)
        .order_by(col(Tag.usage_count).desc(), sa.func.lower(col(Tag.name)))
        .limit(limit)
    )
    return list((await session.scalars(popular)).all())


async def store_suggestions(
    session: AsyncSession,
    *,
    entry_id: uuid.UUID,
    tags: Sequence[str],
    skills: Sequence[str],
    model: str,
) -> bool:
    """Stores a worker's tag and skill suggestions (replacing earlier ones); False when the
    entry no longer exists. The entry's updated_at stays: the user changed nothing."""
    statement = (
        sa.update(LogEntry)
        .where(col(LogEntry.id) == entry_id)
        .values(suggestions={"tags": list(tags), "skills": list(skills), "model": model})
        .returning(col(LogEntry.user_id))
        .execution_options(synchronize_session=False)
    )
    user_id = (await session.execute(statement)).scalar_one_or_none()
    if user_id is None:
        return False
    await record_event(
        session, user_id=user_id, topic=LOG_ENTRY, action="ENRICHED", object_id=entry_id
    )
    return True


async def update_entry(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    entry_id: uuid.UUID,
    values: dict[str, Any],
    tags: Sequence[str] | None,
) -> LogEntry | None:
    """Applies the given columns; tags, when given, replace the entry's tag set."""
    statement = (
        sa.update(LogEntry)
        .where(col(LogEntry.id) == entry_id, col(LogEntry.user_id) == user_id)
        .values(**values, updated_at=sa.func.now())
        .returning(LogEntry)
        # The caller may have loaded this row in the same session: refresh it from RETURNING.
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    entry = (await session.scalars(statement)).one_or_none()
    if entry is None:
        return None
    if tags is not None:
        await session.execute(sa.delete(LogEntryTag).where(col(LogEntryTag.entry_id) == entry_id))
        await _link_tags(session, user_id=user_id, tags_by_entry={entry_id: tags})
    await record_event(
        session, user_id=user_id, topic=LOG_ENTRY, action="UPDATED", object_id=entry_id
    )
    return entry


async def delete_entry(session: AsyncSession, *, user_id: uuid.UUID, entry_id: uuid.UUID) -> bool:
    statement = (
        sa.delete(LogEntry)
        .where(col(LogEntry.id) == entry_id, col(LogEntry.user_id) == user_id)
        .returning(col(LogEntry.id))
    )
    if (await session.scalars(statement)).first() is None:
        return False
    await record_event(
        session, user_id=user_id, topic=LOG_ENTRY, action="DELETED", object_id=entry_id
    )
    return True
