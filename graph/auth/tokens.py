"""JWTs: HS256 only (pinned on decode), typed access and refresh tokens."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from jose import JWTError, jwt

from graph.errors import Unauthenticated

ALGORITHM = "HS256"
# "personal": a personal access token (graph/access_tokens), looked up, never decoded.
TokenType = Literal["access", "refresh", "worker", "personal"]
WORKER_SESSION_TTL = timedelta(hours=12)


@dataclass(frozen=True)
class Claims:
    user_id: uuid.UUID
    jti: uuid.UUID
    token_type: TokenType
    expires_at: datetime
    family_id: uuid.UUID | None = None
    # A personal access token's row (its jti too), and whether its scopes allow no writes.
    personal_token_id: uuid.UUID | None = None
    read_only: bool = False


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
        """Claims of a valid token of the expected type; Unauthenticated otherwise.

        The signature proves who signed a token, not that its claims are well formed: each
        claim is checked for the exact type and range this service signs, so a token signed
        elsewhere with the secret (or by a bug) is refused, never an error further on."""
        try:
            # exp and iat are checked below (jose takes any int()-able value: a string, a
            # float, 1e20, and a huge exp then overflowed datetime); jose's own checks of the
            # other claims raise TypeError on a list or an object.
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "require_sub": True,
                    "require_jti": True,
                },
            )
        except (JWTError, TypeError, ValueError, OverflowError):
            raise Unauthenticated("Invalid token") from None
        if not isinstance(payload, dict) or payload.get("typ") != expected:
            raise Unauthenticated("Invalid token")
        expires = _timestamp(payload.get("exp"))
        if expires is None or ("iat" in payload and _timestamp(payload["iat"]) is None):
            raise Unauthenticated("Invalid token")
        user_id = _uuid(payload.get("sub"))
        jti = _uuid(payload.get("jti"))
        family = payload.get("fam")
        family_id = _uuid(family) if family is not None else None
        if user_id is None or jti is None or (family is not None and family_id is None):
            raise Unauthenticated("Invalid token")
        if expires <= datetime.now(UTC):
            raise Unauthenticated("Token expired")
        return Claims(
            user_id=user_id,
            jti=jti,
            token_type=expected,
            expires_at=expires,
            family_id=family_id,
        )


# The last second of year 9999: every instant a datetime (and PostgreSQL's timestamptz as the
# driver sends it) can hold.
MAX_TIMESTAMP = 253_402_300_799


def _timestamp(value: object) -> datetime | None:
    """A NumericDate as this service signs it: whole seconds (bool is not one) in years 1970
    to 9999."""
    if type(value) is not int or not 0 <= value <= MAX_TIMESTAMP:
        return None
    return datetime.fromtimestamp(value, UTC)


def _uuid(value: object) -> uuid.UUID | None:
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
