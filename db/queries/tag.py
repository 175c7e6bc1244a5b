"""Tags: per user, unique by lower(name); usage_count is kept by a trigger."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import LogEntryTag, Tag


async def list_tags(session: AsyncSession, *, user_id: uuid.UUID) -> Sequence[Tag]:
    query = sa.select(Tag).where(col(Tag.user_id) == user_id).order_by(sa.func.lower(col(Tag.name)))
    return (await session.scalars(query)).all()


async def list_popular_tags(
    session: AsyncSession, *, user_id: uuid.UUID, limit: int
) -> Sequence[Tag]:
    query = (
        sa.select(Tag)
        .where(col(Tag.user_id) == user_id)
        .order_by(col(Tag.usage_count).desc(), sa.func.lower(col(Tag.name)))
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def get_tag(session: AsyncSession, *, user_id: uuid.UUID, tag_id: uuid.UUID) -> Tag | None:
    query = sa.select(Tag).where(col(Tag.id) == tag_id, col(Tag.user_id) == user_id)
    return (await session.scalars(query)).one_or_none()


async def create_tag(session: AsyncSession, *, user_id: uuid.UUID, values: dict[str, Any]) -> Tag:
    query = sa.insert(Tag).values(user_id=user_id, **values).returning(Tag)
    return (await session.scalars(query)).one()


async def update_tag(
    session: AsyncSession, *, user_id: uuid.UUID, tag_id: uuid.UUID, values: dict[str, Any]
) -> Tag | None:
    query = (
        sa.update(Tag)
        .where(col(Tag.id) == tag_id, col(Tag.user_id) == user_id)
        .values(**values, updated_at=sa.func.now())
        .returning(Tag)
    )
    return (await session.scalars(query)).one_or_none()


async def delete_tag(session: AsyncSession, *, user_id: uuid.UUID, tag_id: uuid.UUID) -> bool:
    query = (
        sa.delete(Tag)
        .where(col(Tag.id) == tag_id, col(Tag.user_id) == user_id)
        .returning(col(Tag.id))
    )
    return (await session.scalars(query)).first() is not None


# Tag names are one tag when PostgreSQL's lower() makes them equal (the unique index's rule),
# which Python's str.lower() does not always agree with ("İ", a final "Σ"): so PostgreSQL
# lowers them, picks each new tag's first spelling, upserts them in one fixed order (so that
# concurrent writers lock the same rows in the same order) and maps every given name to its id.
_ENSURE_TAGS = sa.text(
    """
    WITH given AS (
        SELECT name, lower(name) AS key, position
        FROM unnest(CAST(:names AS text[])) WITH ORDINALITY AS t(name, position)
    ),
    first AS (
        SELECT DISTINCT ON (key) name, key FROM given ORDER BY key, position
    ),
    upserted AS (
        INSERT INTO tag (user_id, name)
        SELECT :user_id, name FROM first ORDER BY key
        -- DO UPDATE (a no-op write) rather than DO NOTHING, so existing rows come back too.
        ON CONFLICT (user_id, lower(name)) DO UPDATE SET name = tag.name
        RETURNING id, lower(name) AS key
    )
    SELECT DISTINCT given.name, upserted.id FROM given JOIN upserted USING (key)
    """
).columns(name=sa.Text, id=sa.Uuid)


async def ensure_tags(
    session: AsyncSession, *, user_id: uuid.UUID, names: Sequence[str]
) -> dict[str, uuid.UUID]:
    """Ids of the user's tags with these names (keyed by the names as given), creating the
    missing ones."""
    if not names:
        return {}
    rows = await session.execute(_ENSURE_TAGS, {"names": list(names), "user_id": user_id})
    return {row.name: row.id for row in rows}


async def load_tags_by_entry(
    session: AsyncSession, *, user_id: uuid.UUID, entry_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Tag]]:
    query = (
        sa.select(col(LogEntryTag.entry_id), Tag)
        .join(Tag, col(Tag.id) == col(LogEntryTag.tag_id))
        .where(col(LogEntryTag.entry_id).in_(entry_ids), col(Tag.user_id) == user_id)
        .order_by(sa.func.lower(col(Tag.name)))
    )
    result: dict[uuid.UUID, list[Tag]] = {entry_id: [] for entry_id in entry_ids}
    for entry_id, tag in (await session.execute(query)).all():
        result[entry_id].append(tag)
    return result
