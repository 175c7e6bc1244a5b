"""Sign-up, log-in and refresh-token rotation as plain functions over a session."""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import RefreshToken, User
from db.queries import user as users
from graph.auth.denylist import Denylist
from graph.auth.passwords import Passwords
from graph.auth.tokens import TokenService
from graph.errors import Unauthenticated, unique_conflict


@dataclass(frozen=True)
class Session:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User


def email_taken() -> AbstractContextManager[None]:
    """The account e-mail's unique index: a taken one is CONFLICT on `email`."""
    return unique_conflict(
        index="uq_user_email_lower",
        message="An account with this e-mail already exists",
        fields={"email": "is already registered"},
    )


async def _open_session(
    session: AsyncSession,
    *,
    tokens: TokenService,
    user: User,
    device: str | None,
    rotated: RefreshToken | None = None,
) -> tuple[Session, uuid.UUID]:
    """A new pair: of a new session (a new family), or the one after `rotated`."""
    family_id = rotated.family_id if rotated else uuid.uuid4()
    now = datetime.now(UTC)
    access, refresh = tokens.issue_pair(user.id, family_id, jti=uuid.uuid4(), now=now)
    claims = refresh.claims
    await users.record_refresh_token(
        session,
        jti=claims.jti,
        family_id=family_id,
        user_id=user.id,
        expires_at=claims.expires_at,
        created_at=now,
        device=device,
        signed_in_at=(rotated.signed_in_at or rotated.created_at) if rotated else now,
        last_used_at=now if rotated else None,
    )
    expires_in = int(tokens.access_ttl.total_seconds())
    return Session(access.token, refresh.token, expires_in, user), claims.jti


def _session_again(tokens: TokenService, user: User, record: RefreshToken) -> Session:
    """The pair that issued this refresh token, signed again (the same bytes)."""
    access, refresh = tokens.issue_pair(
        user.id, record.family_id, jti=record.jti, now=record.created_at
    )
    return Session(access.token, refresh.token, int(tokens.access_ttl.total_seconds()), user)


async def sign_up(
    db: async_sessionmaker[AsyncSession],
    *,
    tokens: TokenService,
    passwords: Passwords,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    timezone: str,
    device: str | None = None,
) -> Session:
    password_hash = await passwords.hash(password)
    with email_taken():
        async with db() as session, session.begin():
            user = await users.create_user(
                session,
                email=email,
                password_hash=password_hash,
                first_name=first_name,
                last_name=last_name,
                timezone=timezone,
            )
            result, _ = await _open_session(session, tokens=tokens, user=user, device=device)
            return result


async def log_in(
    db: async_sessionmaker[AsyncSession],
    *,
    tokens: TokenService,
    passwords: Passwords,
    email: str,
    password: str,
    device: str | None = None,
) -> Session:
    async with db() as session:
        user = await users.get_user_by_email(session, email=email.strip())
    # Verified even for an unknown e-mail: the answer must not tell which accounts exist.
    ok = await passwords.verify(user.password_hash if user else None, password)
    if user is None or not ok:
        raise Unauthenticated("Wrong e-mail or password")
    async with db() as session, session.begin():
        await users.touch_last_login(session, user_id=user.id)
        result, _ = await _open_session(session, tokens=tokens, user=user, device=device)
        return result


async def rotate_refresh_token(
    db: async_sessionmaker[AsyncSession],
    *,
    tokens: TokenService,
    denylist: Denylist,
    refresh_token: str,
    grace: timedelta = timedelta(0),
) -> Session:
    """A new pair for a valid refresh token. A token presented twice revokes its whole family,
    except within `grace` of its rotation while its successor is unused: then the client lost
    the answer, and gets the same pair again."""
    claims = tokens.decode(refresh_token, "refresh")
    refusal: str | None = None
    async with db() as session, session.begin():
        record = await users.lock_refresh_token(session, jti=claims.jti)
        user = await users.get_user(session, user_id=claims.user_id) if record else None
        if record is None or user is None or record.user_id != claims.user_id:
            refusal = "Invalid token"
        elif record.revoked_at is not None and record.replaced_by is not None:
            successor = await users.lock_refresh_token(session, jti=record.replaced_by)
            if (
                successor is not None
                and successor.revoked_at is None
                and datetime.now(UTC) - successor.created_at <= grace
            ):
                return _session_again(tokens, user, successor)
            # An already rotated token came back: someone holds a copy. End every session
            # descended from that login; the revocation commits, then the caller is refused.
            await users.revoke_family(session, family_id=record.family_id)
            refusal = "Refresh token reused; every session of this login was revoked"
        elif record.revoked_at is not None:
            refusal = "Session ended"
        else:
            result, new_jti = await _open_session(
                session, tokens=tokens, user=user, device=record.device, rotated=record
            )
            await users.mark_replaced(session, jti=record.jti, replaced_by=new_jti)
            return result
    if record is not None and refusal != "Invalid token":
        await denylist.revoke([record.family_id])  # committed: its access tokens die too
    raise Unauthenticated(refusal or "Invalid token")


async def log_out(
    db: async_sessionmaker[AsyncSession],
    *,
    tokens: TokenService,
    denylist: Denylist,
    refresh_token: str,
) -> bool:
    """Ends the session: its refresh tokens in PostgreSQL, its access tokens in the denylist."""
    claims = tokens.decode(refresh_token, "refresh")
    async with db() as session, session.begin():
        record = await users.lock_refresh_token(session, jti=claims.jti)
        if record is None or record.user_id != claims.user_id:
            raise Unauthenticated("Invalid token")
        await users.revoke_family(session, family_id=record.family_id)
        family = record.family_id
    await denylist.revoke([family])
    return True
