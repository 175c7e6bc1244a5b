"""Notifications: written with their event in the caller's transaction, like every change
a subscriber must see."""

from __future__ import annotations

import uuid
from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import Notification
from db.queries.event import NOTIFICATION, record_event


async def create_notification(
    session: AsyncSession, *, user_id: uuid.UUID, kind: str, title: str, body: str
) -> Notification:
    statement = (
        sa.insert(Notification)
        .values(user_id=user_id, kind=kind, title=title, body=body)
        .returning(Notification)
    )
    notification = (await session.scalars(statement)).one()
    await record_event(
        session, user_id=user_id, topic=NOTIFICATION, action=kind, object_id=notification.id
    )
    return notification


async def load_notifications(
    session: AsyncSession, *, ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, Notification]:
    query = sa.select(Notification).where(col(Notification.id).in_(list(ids)))
    return {row.id: row for row in (await session.scalars(query)).all()}
