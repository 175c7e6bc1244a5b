"""Personal access tokens for scripts: issued, listed, revoked, and verified on each use.

A token is `englog_pat_` and 43 URL-safe characters (256 random bits): the prefix tells it
from a JWT at a glance (the auth layer's and a secret scanner's), and only its SHA-256 is
stored. A slow hash (bcrypt, argon2) exists to make guessing a *low-entropy* password
costly; nobody can enumerate 2**256 secrets whatever the hash costs, so SHA-256 is as safe
here and lets each request look its token up by an index instead of paying ~100 ms.

Revoking deletes the row, so the next request (or a socket's next revocation re-check)
finds nothing: personal tokens live in PostgreSQL only, never in the Redis denylist.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import AccessToken
from db.queries import access_token as queries
from graph.auth.tokens import Claims
from graph.errors import Conflict, NotFound, ServiceUnavailable, Unauthenticated, is_unavailable

PREFIX = "englog_pat_"
SECRET_BYTES = 32
MAX_TOKENS_PER_USER = 50
READ, WRITE = "read", "write"
# The expiry of a token that has none, for code that needs one (a socket's lifetime).
NEVER = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


def is_personal(token: str) -> bool:
    return token.startswith(PREFIX)


def secret_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def claims_of(row: AccessToken) -> Claims:
    return Claims(
        user_id=row.user_id,
        jti=row.id,
        token_type="personal",  # noqa: S106 - a kind of token, not a secret
        expires_at=row.expires_at or NEVER,
        personal_token_id=row.id,
        read_only=WRITE not in row.scopes,
    )


def _unavailable(exc: Exception) -> ServiceUnavailable:
    return ServiceUnavailable("Access tokens cannot be checked right now; try again", retryAfter=1)


async def verify(db: async_sessionmaker[AsyncSession], token: str) -> Claims:
    """The claims of a live personal token; Unauthenticated for an unknown, revoked or
    expired one, ServiceUnavailable when PostgreSQL cannot answer (never fails open)."""
    try:
        async with db() as session, session.begin():
            row = await queries.find_by_hash(session, secret_hash=secret_hash(token))
    except Exception as exc:
        if is_unavailable(exc):
            raise _unavailable(exc) from None
        raise
    if row is None:
        raise Unauthenticated("Invalid token")
    if row.expires_at is not None and row.expires_at <= datetime.now(UTC):
        raise Unauthenticated("Token expired")
    return claims_of(row)


async def revoked(db: async_sessionmaker[AsyncSession], claims: Sequence[Claims]) -> list[bool]:
    """Whether each personal token is gone (revoked, its account deleted) or expired, in
    one query."""
    ids = {c.personal_token_id for c in claims if c.personal_token_id is not None}
    async with db() as session:
        live = await queries.live_ids(session, ids)
    return [c.personal_token_id not in live for c in claims]


async def create_token(
    db: async_sessionmaker[AsyncSession],
    *,
    user_id: uuid.UUID,
    name: str,
    scopes: Sequence[str],
    expires_at: datetime | None,
) -> tuple[str, AccessToken]:
    """A new token (its secret, shown this once) and its row; CONFLICT on `name` past
    MAX_TOKENS_PER_USER."""
    token = PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    async with db() as session, session.begin():
        await queries.lock_owner(session, user_id=user_id)
        if await queries.count_tokens(session, user_id=user_id) >= MAX_TOKENS_PER_USER:
            raise Conflict(
                f"At most {MAX_TOKENS_PER_USER} access tokens an account",
                {"name": f"at most {MAX_TOKENS_PER_USER} tokens; revoke one first"},
            )
        row = await queries.insert_token(
            session,
            user_id=user_id,
            name=name,
            secret_hash=secret_hash(token),
            scopes=scopes,
            expires_at=expires_at,
        )
    return token, row


async def list_tokens(
    db: async_sessionmaker[AsyncSession], *, user_id: uuid.UUID
) -> list[AccessToken]:
    async with db() as session:
        return await queries.list_tokens(session, user_id=user_id)


async def revoke_token(
    db: async_sessionmaker[AsyncSession], *, user_id: uuid.UUID, token_id: uuid.UUID | None
) -> None:
    """Deletes this user's token; NOT_FOUND on `id` for any other id."""
    if token_id is not None:
        async with db() as session, session.begin():
            if await queries.delete_token(session, user_id=user_id, token_id=token_id):
                return
    raise NotFound("Access token", {"id": "is not an access token of this account"})
