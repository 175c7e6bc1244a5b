"""The running timer: at most one a user (uq_running_timer_user), its tags, its events."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import RunningTimer, RunningTimerTag, Tag
from db.queries.event import record_event

# The event topic of timerEvents (ck_event_topic allows it since migration 0006).
TIMER = "running_timer"
ONE_PER_USER = "uq_running_timer_user"
STARTED = "STARTED"
UPDATED = "UPDATED"
STOPPED = "STOPPED"
DISCARDED = "DISCARDED"


async def get_timer(
    session: AsyncSession, *, user_id: uuid.UUID, for_update: bool = False
) -> RunningTimer | None:
    query = sa.select(RunningTimer).where(col(RunningTimer.user_id) == user_id)
    if for_update:
        query = query.with_for_update()
    return (await session.scalars(query)).one_or_none()


async def load_timers(
    session: AsyncSession, *, timer_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, RunningTimer]:
    query = sa.select(RunningTimer).where(col(RunningTimer.id).in_(list(timer_ids)))
    return {row.id: row for row in (await session.scalars(query)).all()}


async def load_timer_tags(
    session: AsyncSession, *, timer_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[Tag]]:
    """Each timer's tags, by name (case-insensitively)."""
    query = (
        sa.select(col(RunningTimerTag.timer_id), Tag)
        .join(Tag, col(Tag.id) == col(RunningTimerTag.tag_id))
        .where(col(RunningTimerTag.timer_id).in_(list(timer_ids)))
        .order_by(sa.func.lower(col(Tag.name)))
    )
    result: dict[uuid.UUID, list[Tag]] = {timer_id: [] for timer_id in timer_ids}
    for timer_id, tag in (await session.execute(query)).all():
        result[timer_id].append(tag)
    return result


async def owned_tag_ids(
    session: AsyncSession, *, user_id: uuid.UUID, tag_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    if not tag_ids:
        return set()
    query = sa.select(col(Tag.id)).where(
        col(Tag.id).in_(list(tag_ids)), col(Tag.user_id) == user_id
    )
    return set((await session.scalars(query)).all())


async def _set_tags(
    session: AsyncSession, *, timer_id: uuid.UUID, tag_ids: Sequence[uuid.UUID]
) -> None:
    await session.execute(
        sa.delete(RunningTimerTag).where(col(RunningTimerTag.timer_id) == timer_id)
    )
    if tag_ids:
        await session.execute(
            sa.insert(RunningTimerTag),
            [{"timer_id": timer_id, "tag_id": tag_id} for tag_id in sorted(set(tag_ids))],
        )


async def create_timer(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    values: dict[str, Any],
    tag_ids: Sequence[uuid.UUID],
) -> RunningTimer:
    """Inserts the user's timer; a second one fails on ONE_PER_USER (IntegrityError), in the
    statement itself, so of two concurrent starts exactly one wins."""
    query = sa.insert(RunningTimer).values(user_id=user_id, **values).returning(RunningTimer)
    row = (await session.scalars(query)).one()
    await _set_tags(session, timer_id=row.id, tag_ids=tag_ids)
    await record_event(session, user_id=user_id, topic=TIMER, action=STARTED, object_id=row.id)
    return row


async def update_timer(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    values: dict[str, Any],
    tag_ids: Sequence[uuid.UUID] | None,
) -> RunningTimer | None:
    """Changes the user's running timer (tags replaced when given); None when none runs."""
    query = (
        sa.update(RunningTimer)
        .where(col(RunningTimer.user_id) == user_id)
        .values(**values, updated_at=sa.func.now())
        .returning(RunningTimer)
        .execution_options(synchronize_session=False)
    )
    row = (await session.scalars(query)).one_or_none()
    if row is None:
        return None
    if tag_ids is not None:
        await _set_tags(session, timer_id=row.id, tag_ids=tag_ids)
    await record_event(session, user_id=user_id, topic=TIMER, action=UPDATED, object_id=row.id)
    return row


async def delete_timer(
    session: AsyncSession, *, user_id: uuid.UUID, action: str
) -> uuid.UUID | None:
    """Deletes the user's timer (its tags go with it), recording `action` (STOPPED or
    DISCARDED); its id, or None when none runs."""
    query = (
        sa.delete(RunningTimer)
        .where(col(RunningTimer.user_id) == user_id)
        .returning(col(RunningTimer.id))
    )
    timer_id = (await session.scalars(query)).one_or_none()
    if timer_id is not None:
        await record_event(session, user_id=user_id, topic=TIMER, action=action, object_id=timer_id)
    return timer_id
