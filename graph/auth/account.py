"""What a signed-in user does to their own account: change its password, export it, delete it."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.queries import user as users
from db.queries.export import export_user_data
from graph.auth.denylist import Denylist
from graph.auth.passwords import Passwords
from graph.errors import BadUserInput, Unauthenticated

WRONG_PASSWORD = "is not this account's password"  # noqa: S105 - a message, not a secret


async def _confirm(
    session: AsyncSession, passwords: Passwords, user_id: uuid.UUID, password: str, field: str
) -> None:
    """Locks the account for the rest of the transaction once `password` is its password."""
    user = await users.lock_user(session, user_id=user_id)
    if user is None:
        raise Unauthenticated("The account of this token no longer exists")
    if not await passwords.verify(user.password_hash, password):
        raise BadUserInput({field: WRONG_PASSWORD})


async def change_password(
    db: async_sessionmaker[AsyncSession],
    *,
    passwords: Passwords,
    denylist: Denylist,
    user_id: uuid.UUID,
    current_family: uuid.UUID | None,
    current_password: str,
    new_password: str,
) -> int:
    """Sets a new password and ends every session but the caller's; how many it ended."""
    new_hash = await passwords.hash(new_password)
    async with db() as session, session.begin():
        await _confirm(session, passwords, user_id, current_password, "currentPassword")
        await users.set_password_hash(session, user_id=user_id, password_hash=new_hash)
        ended = await users.revoke_user_sessions(
            session, user_id=user_id, keep_family=current_family
        )
    await denylist.revoked(ended)  # committed: their access tokens die too
    return len(ended)


async def delete_account(
    db: async_sessionmaker[AsyncSession],
    *,
    passwords: Passwords,
    denylist: Denylist,
    user_id: uuid.UUID,
    password: str,
) -> None:
    """Removes the account and every row of it in one transaction, after the password."""
    async with db() as session, session.begin():
        await _confirm(session, passwords, user_id, password, "password")
        families = await users.delete_user(session, user_id=user_id)
    await denylist.revoked(families)


async def export_account(
    db: async_sessionmaker[AsyncSession], *, user_id: uuid.UUID
) -> dict[str, Any]:
    """Every row of the account, read from one snapshot."""
    async with db() as session:
        # The session's first connection opens one REPEATABLE READ transaction: one snapshot.
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        data = await export_user_data(session, user_id=user_id)
    if data is None:
        raise Unauthenticated("The account of this token no longer exists")
    return data
