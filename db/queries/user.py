"""Accounts and refresh-token records."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import EndedSession, RefreshToken, User


async def get_user(session: AsyncSession, *, user_id: uuid.UUID) -> User | None:
    return (await session.scalars(sa.select(User).where(col(User.id) == user_id))).one_or_none()


async def get_user_by_email(session: AsyncSession, *, email: str) -> User | None:
    query = sa.select(User).where(sa.func.lower(col(User.email)) == email.lower())
    return (await session.scalars(query)).one_or_none()


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    password_hash: str,
    first_name: str,
    last_name: str,
    timezone: str,
) -> User:
    statement = (
        sa.insert(User)
        .values(
            email=email,
            password_hash=password_hash,
            first_name=first_name,
            last_name=last_name,
            timezone=timezone,
            last_login_at=sa.func.now(),
        )
        .returning(User)
    )
    return (await session.scalars(statement)).one()


async def touch_last_login(session: AsyncSession, *, user_id: uuid.UUID) -> None:
    await session.execute(
        sa.update(User).where(col(User.id) == user_id).values(last_login_at=sa.func.now())
    )


async def record_refresh_token(
    session: AsyncSession,
    *,
    jti: uuid.UUID,
    family_id: uuid.UUID,
    user_id: uuid.UUID,
    expires_at: datetime,
    created_at: datetime,
    device: str | None = None,
    signed_in_at: datetime | None = None,
    last_used_at: datetime | None = None,
) -> None:
    await session.execute(
        sa.insert(RefreshToken).values(
            jti=jti,
            family_id=family_id,
            user_id=user_id,
            expires_at=expires_at,
            created_at=created_at,
            device=device,
            signed_in_at=signed_in_at or created_at,
            last_used_at=last_used_at,
        )
    )


async def lock_refresh_token(session: AsyncSession, *, jti: uuid.UUID) -> RefreshToken | None:
    """The record, row-locked so two concurrent rotations of one token serialise."""
    query = sa.select(RefreshToken).where(col(RefreshToken.jti) == jti).with_for_update()
    return (await session.scalars(query)).one_or_none()


async def mark_replaced(session: AsyncSession, *, jti: uuid.UUID, replaced_by: uuid.UUID) -> None:
    await session.execute(
        sa.update(RefreshToken)
        .where(col(RefreshToken.jti) == jti)
        .values(revoked_at=sa.func.now(), replaced_by=replaced_by)
    )


async def revoke_family(session: AsyncSession, *, family_id: uuid.UUID) -> None:
    await session.execute(
        sa.update(RefreshToken)
        .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=sa.func.now())
    )


async def revoke_user_sessions(
    session: AsyncSession, *, user_id: uuid.UUID, keep_family: uuid.UUID | None = None
) -> list[uuid.UUID]:
    """Revokes every live session of the user but `keep_family`'s; the families revoked."""
    query = (
        sa.update(RefreshToken)
        .where(col(RefreshToken.user_id) == user_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=sa.func.now())
        .returning(col(RefreshToken.family_id))
    )
    if keep_family is not None:
        query = query.where(col(RefreshToken.family_id) != keep_family)
    return sorted(set((await session.scalars(query)).all()))


async def set_password_hash(
    session: AsyncSession, *, user_id: uuid.UUID, password_hash: str
) -> None:
    await session.execute(
        sa.update(User)
        .where(col(User.id) == user_id)
        .values(password_hash=password_hash, updated_at=sa.func.now())
    )


async def update_profile(
    session: AsyncSession, *, user_id: uuid.UUID, changes: Mapping[str, str]
) -> User:
    """Sets these columns (first_name, last_name, timezone, email) of the account."""
    statement = (
        sa.update(User)
        .where(col(User.id) == user_id)
        .values(**changes, updated_at=sa.func.now())
        .returning(User)
    )
    return (await session.scalars(statement.execution_options(populate_existing=True))).one()


async def lock_user(session: AsyncSession, *, user_id: uuid.UUID) -> User | None:
    """The account, row-locked: a password check and what it allows happen as one."""
    query = sa.select(User).where(col(User.id) == user_id).with_for_update()
    return (await session.scalars(query)).one_or_none()


async def delete_user(session: AsyncSession, *, user_id: uuid.UUID) -> list[uuid.UUID]:
    """Deletes the account and, by its foreign keys' cascades, every row of it.

    Returns the session families it had, live or not, for the denylist."""
    families = await session.execute(
        sa.select(col(RefreshToken.family_id), sa.func.max(col(RefreshToken.expires_at)))
        .where(col(RefreshToken.user_id) == user_id)
        .group_by(col(RefreshToken.family_id))
    )
    ended = sorted((family, expires_at) for family, expires_at in families.all())
    if ended:
        # The cascade takes the refresh-token rows, and with them the record that these
        # sessions ended: a denylist rebuilt from PostgreSQL must still know it.
        await session.execute(
            pg_insert(EndedSession)
            .values([{"family_id": f, "expires_at": e} for f, e in ended])
            .on_conflict_do_nothing()
        )
    await session.execute(sa.delete(User).where(col(User.id) == user_id))
    return [family for family, _ in ended]
