"""An account's sessions (its live refresh-token families): listed, ended one at a time or
all but the caller's. Ending one goes the way logOut does: its refresh tokens are revoked in
PostgreSQL, then its access tokens are denied (graph/auth/denylist.py)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.queries import refresh_token as sessions
from db.queries import user as users
from db.queries.refresh_token import SessionRow
from graph.auth import cookies
from graph.auth.denylist import Denylist
from graph.context import Context
from graph.errors import NotFound, Unauthenticated

# Sessions listed at most: far more than anyone signs in from; a script logging in in a loop
# cannot make the answer unbounded. The caller's comes first, then the most recently used.
MAX_LISTED = 100


def current_family(context: Context) -> uuid.UUID | None:
    """The caller's session: its access token's family, else its refresh cookie's (when that
    is a valid token of the same user)."""
    family = context.session_family()
    if family is not None:
        return family
    token = cookies.read(context)
    if token is None:
        return None
    try:
        claims = context.state.tokens.decode(token, "refresh")
    except Unauthenticated:
        return None
    return claims.family_id if claims.user_id == context.user_id() else None


async def list_sessions(
    db: async_sessionmaker[AsyncSession], *, user_id: uuid.UUID, current: uuid.UUID | None
) -> list[SessionRow]:
    async with db() as session:
        return await sessions.list_sessions(
            session, user_id=user_id, first=current, limit=MAX_LISTED
        )


async def end_session(
    db: async_sessionmaker[AsyncSession],
    *,
    denylist: Denylist,
    user_id: uuid.UUID,
    family_id: uuid.UUID,
) -> None:
    """Ends this live session of the account; NOT_FOUND on `id` for any other id (another
    account's, an ended one, an unknown one)."""
    async with db() as session, session.begin():
        ended = await sessions.end_session(session, user_id=user_id, family_id=family_id)
    if not ended:
        raise NotFound("Session", {"id": "is not a session of this account"})
    await denylist.revoke([family_id])  # committed: its access tokens die too


async def end_other_sessions(
    db: async_sessionmaker[AsyncSession],
    *,
    denylist: Denylist,
    user_id: uuid.UUID,
    current: uuid.UUID | None,
) -> int:
    """Ends every session of the account but `current`; how many it ended."""
    async with db() as session, session.begin():
        ended = await users.revoke_user_sessions(session, user_id=user_id, keep_family=current)
    await denylist.revoke(ended)
    return len(ended)
