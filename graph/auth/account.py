"""What a signed-in user does to their own account: change its password, export it, delete it."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import User
from db.queries import export
from db.queries import user as users
from graph.auth.denylist import Denylist
from graph.auth.passwords import Passwords
from graph.auth.service import email_taken
from graph.errors import LIMIT_EXCEEDED, AppError, BadUserInput, Unauthenticated

WRONG_PASSWORD = "is not this account's password"  # noqa: S105 - a message, not a secret
NO_ACCOUNT = "The account of this token no longer exists"
DOWNLOAD_PATH = "/export"  # graph/export.py: the export streamed, for accounts of any size
# The rows exportMyData answers at most (its JSON is a few MB): it is built whole in memory.
MAX_QUERY_ROWS = 5_000


async def _confirm(
    session: AsyncSession, passwords: Passwords, user_id: uuid.UUID, password: str, field: str
) -> None:
    """Locks the account for the rest of the transaction once `password` is its password."""
    user = await users.lock_user(session, user_id=user_id)
    if user is None:
        raise Unauthenticated(NO_ACCOUNT)
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
    await denylist.revoke(ended)  # committed: their access tokens die too
    return len(ended)


@dataclass(frozen=True)
class ProfileChanges:
    """Checked values of updateProfile; None: left as it is."""

    first_name: str | None = None
    last_name: str | None = None
    timezone: str | None = None
    email: str | None = None

    def columns(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v is not None}


async def update_profile(
    db: async_sessionmaker[AsyncSession],
    *,
    passwords: Passwords,
    user_id: uuid.UUID,
    changes: ProfileChanges,
    current_password: str | None,
) -> User:
    """Applies the changes in one transaction, under the account's row lock. A new e-mail
    (one that is not the account's already) needs the password: BAD_USER_INPUT on
    `currentPassword` without it or with a wrong one, CONFLICT on `email` when another
    account has it."""
    with email_taken():
        async with db() as session, session.begin():
            user = await users.lock_user(session, user_id=user_id)
            if user is None:
                raise Unauthenticated(NO_ACCOUNT)
            if changes.email is not None and changes.email != user.email.lower():
                if current_password is None:
                    raise BadUserInput({"currentPassword": "is required to change the e-mail"})
                await _confirm(session, passwords, user_id, current_password, "currentPassword")
            return await users.update_profile(session, user_id=user_id, changes=changes.columns())


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
    await denylist.revoke(families)


class ExportTooLarge(AppError):
    code = LIMIT_EXCEEDED

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"This account holds more than {limit} rows: download its export with "
            f"GET {DOWNLOAD_PATH} (Authorization: Bearer <accessToken>)",
            limit=limit,
            download=DOWNLOAD_PATH,
        )


async def export_account(
    db: async_sessionmaker[AsyncSession], *, user_id: uuid.UUID, max_rows: int = MAX_QUERY_ROWS
) -> dict[str, Any]:
    """Every row of the account, read from one snapshot, as one value: for accounts of at
    most `max_rows` rows (ExportTooLarge otherwise), since the whole value is held in
    memory to be answered. `open_export` streams any size."""
    async with db() as session:
        await _one_snapshot(session)
        if await export.count_user_rows(session, user_id=user_id, up_to=max_rows) > max_rows:
            raise ExportTooLarge(max_rows)
        chunks = await export.export_user_data(session, user_id=user_id)
        if chunks is None:
            raise Unauthenticated(NO_ACCOUNT)
        data: dict[str, Any] = json.loads(b"".join([chunk async for chunk in chunks]))
    return data


async def open_export(
    db: async_sessionmaker[AsyncSession],
    *,
    user_id: uuid.UUID,
    batch_rows: int = export.BATCH_ROWS,
) -> AsyncGenerator[bytes, None]:
    """The export of the account as JSON chunks, read from one snapshot as they are
    iterated. The account is looked up here, before any chunk: Unauthenticated when it no
    longer exists. Iterate to the end or `aclose()`: the session is held until then."""
    session = db()
    try:
        await _one_snapshot(session)
        chunks = await export.export_user_data(session, user_id=user_id, batch_rows=batch_rows)
    except BaseException:
        await asyncio.shield(session.close())
        raise
    if chunks is None:
        await session.close()
        raise Unauthenticated(NO_ACCOUNT)
    # Closed also when the download is cut off (the task cancelled): the transaction ends and
    # the connection goes back to the pool either way.
    return then_finally(chunks, lambda: asyncio.shield(session.close()))


async def then_finally(
    chunks: AsyncGenerator[bytes, None], cleanup: Callable[[], Awaitable[None]]
) -> AsyncGenerator[bytes, None]:
    """`chunks`, then `cleanup()` once they are closed: at their end, or when the consumer
    stops early (a download cut off)."""
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        try:
            await chunks.aclose()
        finally:
            await cleanup()


async def _one_snapshot(session: AsyncSession) -> None:
    # The session's first connection opens one REPEATABLE READ transaction: one snapshot.
    await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
