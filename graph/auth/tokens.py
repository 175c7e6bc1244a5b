"""JWTs: HS256 only (pinned on decode), typed access and refresh tokens."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from jose import JWTError, jwt

from graph.errors import Unauthenticated

ALGORITHM = "HS256"
TokenType = Literal["access", "refresh", "worker"]
WORKER_SESSION_TTL = timedelta(hours=12)


@dataclass(frozen=True)
class Claims:
    user_id: uuid.UUID
    jti: uuid.UUID
    token_type: TokenType
    expires_at: datetime
    family_id: uuid.UUID | None = None


@dataclass(frozen=True)
class IssuedToken:
    token: str
    claims: Claims


class TokenService:
    def __init__(self, *, secret: str, access_ttl: timedelta, refresh_ttl: timedelta) -> None:
        self._secret = secret
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl

    def _issue(
        self,
        user_id: uuid.UUID,
        token_type: TokenType,
        ttl: timedelta,
        family_id: uuid.UUID | None,
        *,
        jti: uuid.UUID | None = None,
        now: datetime | None = None,
    ) -> IssuedToken:
        now = now or datetime.now(UTC)
        claims = Claims(
            user_id=user_id,
            jti=jti or uuid.uuid4(),
            token_type=token_type,
            expires_at=now + ttl,
            family_id=family_id,
        )
        payload: dict[str, object] = {
            "sub": str(user_id),
            "jti": str(claims.jti),
            "typ": token_type,
            "iat": int(now.timestamp()),
            "exp": int(claims.expires_at.timestamp()),
        }
        if family_id is not None:
            payload["fam"] = str(family_id)
        return IssuedToken(jwt.encode(payload, self._secret, algorithm=ALGORITHM), claims)

    def issue_access(self, user_id: uuid.UUID, family_id: uuid.UUID | None = None) -> IssuedToken:
        """`family_id`: the session's, so revoking the session revokes the token (denylist)."""
        return self._issue(user_id, "access", self.access_ttl, family_id)

    def issue_refresh(self, user_id: uuid.UUID, family_id: uuid.UUID) -> IssuedToken:
        return self._issue(user_id, "refresh", self.refresh_ttl, family_id)

    def issue_pair(
        self, user_id: uuid.UUID, family_id: uuid.UUID, *, jti: uuid.UUID, now: datetime
    ) -> tuple[IssuedToken, IssuedToken]:
        """An access and a refresh token of one session, both issued at `now`.

        Everything in them follows from (user, family, refresh jti, now) and the TTLs, so the
        same arguments sign the same two tokens again: a refresh whose answer was lost can be
        answered again with the very same pair."""
        access_jti = uuid.uuid5(jti, "access")
        access = self._issue(user_id, "access", self.access_ttl, family_id, jti=access_jti, now=now)
        refresh = self._issue(user_id, "refresh", self.refresh_ttl, family_id, jti=jti, now=now)
        return access, refresh

    def issue_worker(self, worker_id: uuid.UUID) -> IssuedToken:
        """A worker's gRPC session: stateless, so any API process accepts it."""
        return self._issue(worker_id, "worker", WORKER_SESSION_TTL, None)

    def decode(self, token: str, expected: TokenType) -> Claims:
        """Claims of a valid token of the expected type; Unauthenticated otherwise."""
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"require_exp": True, "require_sub": True, "require_jti": True},
            )
        except JWTError as exc:
            expired = "expired" in str(exc).lower()
            raise Unauthenticated("Token expired" if expired else "Invalid token") from None
        if payload.get("typ") != expected:
            raise Unauthenticated("Invalid token")
        try:
            family = payload.get("fam")
            return Claims(
                user_id=uuid.UUID(str(payload["sub"])),
                jti=uuid.UUID(str(payload["jti"])),
                token_type=expected,
                expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
                family_id=uuid.UUID(str(family)) if family is not None else None,
            )
        except (KeyError, TypeError, ValueError):
            raise Unauthenticated("Invalid token") from None
