"""Personal access tokens: created, listed, revoked, and looked up by their secret's hash."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import AccessToken

# A token's last use is written no more often than this: a script polling every second
# should not turn each of its reads into a write.
LAST_USED_GRANULARITY = sa.text("interval '1 minute'")


def _live() -> sa.ColumnElement[bool]:
    return sa.or_(
        col(AccessToken.expires_at).is_(None), col(AccessToken.expires_at) > sa.func.now()
    )


async def count_tokens(session: AsyncSession, *, user_id: uuid.UUID) -> int:
    query = sa.select(sa.func.count()).where(col(AccessToken.user_id) == user_id)
    return int((await session.execute(query)).scalar_one())


async def lock_owner(session: AsyncSession, *, user_id: uuid.UUID) -> None:
    """Serialises token creation per user (the cap is counted under this lock)."""
    await session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(str(user_id)))))


async def insert_token(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    name: str,
    secret_hash: str,
    scopes: Sequence[str],
    expires_at: datetime | None,
) -> AccessToken:
    query = (
        sa.insert(AccessToken)
        .values(
            user_id=user_id,
            name=name,
            secret_hash=secret_hash,
            scopes=list(scopes),
            expires_at=expires_at,
        )
        .returning(AccessToken)
    )
    return (await session.scalars(query)).one()


async def list_tokens(session: AsyncSession, *, user_id: uuid.UUID) -> list[AccessToken]:
    query = (
        sa.select(AccessToken)
        .where(col(AccessToken.user_id) == user_id)
        .order_by(col(AccessToken.created_at).desc(), col(AccessToken.id))
    )
    return list((await session.scalars(query)).all())


async def delete_token(session: AsyncSession, *, user_id: uuid.UUID, token_id: uuid.UUID) -> bool:
    """Whether this user's token was there (and now is not)."""
    query = (
        sa.delete(AccessToken)
        .where(col(AccessToken.id) == token_id, col(AccessToken.user_id) == user_id)
        .returning(col(AccessToken.id))
    )
    return (await session.execute(query)).first() is not None


async def find_by_hash(session: AsyncSession, *, secret_hash: str) -> AccessToken | None:
    """The token with this hash (expired or not); a live one's last use brought up to date
    (to the minute)."""
    query = sa.select(AccessToken).where(col(AccessToken.secret_hash) == secret_hash)
    row = (await session.scalars(query)).first()
    if row is None:
        return None
    touch = (
        sa.update(AccessToken)
        .where(col(AccessToken.id) == row.id, _live())
        .where(
            sa.or_(
                col(AccessToken.last_used_at).is_(None),
                col(AccessToken.last_used_at) < sa.func.now() - LAST_USED_GRANULARITY,
            )
        )
        .values(last_used_at=sa.func.now())
    )
    await session.execute(touch)
    return row


async def live_ids(session: AsyncSession, ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these tokens still exist and have not expired."""
    if not ids:
        return set()
    query = sa.select(col(AccessToken.id)).where(col(AccessToken.id).in_(list(ids)), _live())
    return set((await session.scalars(query)).all())
