"""Sessions: the live refresh-token families of an account, listed and ended."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import RefreshToken


@dataclass(frozen=True)
class SessionRow:
    family_id: uuid.UUID
    device: str | None
    signed_in_at: datetime
    last_used_at: datetime


def _live(user_id: uuid.UUID) -> sa.ColumnElement[bool]:
    return sa.and_(
        col(RefreshToken.user_id) == user_id,
        col(RefreshToken.revoked_at).is_(None),
        col(RefreshToken.expires_at) > sa.func.now(),
    )


async def list_sessions(
    session: AsyncSession, *, user_id: uuid.UUID, first: uuid.UUID | None, limit: int
) -> list[SessionRow]:
    """The account's live sessions, `first`'s first, then the most recently used; at most
    `limit`. A family has one live token at most: a rotation revokes the token it replaces
    in the same transaction, under its row lock (graph/auth/service.py)."""
    used = sa.func.coalesce(col(RefreshToken.last_used_at), col(RefreshToken.created_at))
    signed_in = sa.func.coalesce(col(RefreshToken.signed_in_at), col(RefreshToken.created_at))
    live = (
        sa.select(
            col(RefreshToken.family_id),
            col(RefreshToken.device),
            signed_in.label("signed_in_at"),
            used.label("last_used_at"),
        )
        .where(_live(user_id))
        .subquery()
    )
    order = [live.c.last_used_at.desc(), live.c.family_id]
    if first is not None:
        order.insert(0, (live.c.family_id == first).desc())
    query = sa.select(live).order_by(*order).limit(limit)
    rows = (await session.execute(query)).all()
    return [SessionRow(r.family_id, r.device, r.signed_in_at, r.last_used_at) for r in rows]


async def end_session(session: AsyncSession, *, user_id: uuid.UUID, family_id: uuid.UUID) -> bool:
    """Revokes the live tokens of this session of the account; whether it had any."""
    statement = (
        sa.update(RefreshToken)
        .where(_live(user_id), col(RefreshToken.family_id) == family_id)
        .values(revoked_at=sa.func.now())
        .returning(col(RefreshToken.jti))
    )
    return bool((await session.scalars(statement)).all())
