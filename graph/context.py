"""The typed per-request (per-connection on websockets) context every resolver receives."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from graph.access_tokens import service as access_tokens
from graph.auth.denylist import Denylist
from graph.auth.passwords import Passwords
from graph.auth.tokens import Claims, TokenService
from graph.errors import AppError, ServiceUnavailable, Unauthenticated
from graph.limits import RateLimiter
from graph.live.hub import EventHub
from graph.loaders import Loaders
from graph.settings import ApiSettings

logger = logging.getLogger("englog.auth")

# For annotations only: these modules work with a Context or the state, so they import this
# one; the lifespan (graph/app.py `build_state`) builds them.
if TYPE_CHECKING:
    from graph.live.feeds import Feeds
    from graph.live.http_streams import HttpStreams
    from graph.live.slots import ConnectionSlots
    from graph.prometheus import ApiMetrics
    from graph.tasks.server import WorkerProtocol

# Where the lifespan puts the state on the application (app.state.englog).
STATE_KEY = "englog"


@dataclass
class AppState:
    """What the lifespan opens once per process and every request shares; built, wired, by
    graph/app.py `build_state` (the one composition root)."""

    settings: ApiSettings
    engine: AsyncEngine
    db: async_sessionmaker[AsyncSession]
    redis: Redis
    tokens: TokenService
    passwords: Passwords
    hub: EventHub
    # One reader per (user, topic) of the event log for all of this process's subscriptions.
    feeds: Feeds = field(repr=False)
    # Rate limits per operation, per sign-in and per insight, in Redis (graph/limits.py).
    limiter: RateLimiter = field(repr=False)
    # Revoked sessions (graph/auth/denylist.py); `is_revoked` asks it unless a test replaced it.
    denylist: Denylist = field(repr=False)
    # Whether a valid token has been revoked: the denylist's, or a test's. HTTP requests ask
    # it once each; websockets at connection_init and every ENGLOG_WS_AUTH_RECHECK_SECONDS.
    is_revoked: Callable[[Claims], Awaitable[bool]] = field(repr=False)
    # Prometheus metrics of this process (graph/prometheus.py, served at /metrics).
    metrics: ApiMetrics = field(repr=False)
    # This process's subscriptions over HTTP (graph/live/http_streams.py), ended at shutdown.
    http_streams: HttpStreams = field(repr=False)
    # This process's websocket connections, counted per user in Redis (graph/live/slots.py).
    # Set by build_state once the state exists: the slots ask it for the settings, Redis and
    # the revocation checks.
    ws_slots: ConnectionSlots = field(init=False, repr=False)
    # The worker protocol's server (graph/tasks/server.py) and its bound port, once it serves.
    worker_protocol: WorkerProtocol | None = field(default=None, repr=False)
    grpc_port: int = 0

    async def revoked_sessions(self, claims: Sequence[Claims]) -> list[bool]:
        """Whether each token's session is revoked, in one denylist look-up. It never fails
        open: when neither Redis nor PostgreSQL can answer it raises ServiceUnavailable, and
        the caller refuses (the tokens are not taken as valid). Personal access tokens are
        asked of PostgreSQL, all in one query (graph/access_tokens/service.py)."""
        personal = [c for c in claims if c.personal_token_id is not None]
        sessions = [c for c in claims if c.personal_token_id is None]
        try:
            gone_tokens = await self._revoked_personal(personal)
            answers = dict(zip(map(id, personal), gone_tokens, strict=True))
            if self.is_revoked == self.denylist.is_revoked:
                gone = await self.denylist.revoked_families(
                    {c.family_id for c in sessions if c.family_id is not None}
                )
                answers.update((id(c), c.family_id in gone) for c in sessions)
            else:  # a replacement (tests)
                answers.update([(id(c), await self.is_revoked(c)) for c in sessions])
            return [answers[id(c)] for c in claims]
        except Exception as exc:
            logger.warning("token revocation cannot be checked; refusing (%r)", exc)
            raise ServiceUnavailable(
                "Sessions cannot be checked right now; try again shortly", retryAfter=1
            ) from None

    async def _revoked_personal(self, claims: list[Claims]) -> list[bool]:
        return await access_tokens.revoked(self.db, claims) if claims else []

    async def revoked(self, claims: Claims) -> bool:
        """`revoked_sessions` of one token."""
        return (await self.revoked_sessions([claims]))[0]


@dataclass
class Context:
    state: AppState
    request: Request | WebSocket
    response: Response | None
    authorization: str | None = None
    _user_id: uuid.UUID | None = field(default=None, repr=False)
    # The request's personal access token, once looked up (`verify`); copied with the
    # context into each websocket operation's.
    _personal: Claims | None = field(default=None, repr=False)
    _loaders: Loaders | None = field(default=None, init=False, repr=False)
    _revoked: bool = field(default=False, init=False, repr=False)
    # Why the token's session could not be checked (the check refuses: never fails open), or
    # why its personal access token was refused.
    _unchecked: AppError | None = field(default=None, init=False, repr=False)

    @property
    def db(self) -> async_sessionmaker[AsyncSession]:
        return self.state.db

    @property
    def loaders(self) -> Loaders:
        """This request's (or subscription event's) DataLoaders, made when first needed."""
        if self._loaders is None:
            self._loaders = Loaders.create(self.db, self.user_id)
        return self._loaders

    def fresh_loaders(self) -> None:
        """Forgets the loaders: what they cached is not served to the next event."""
        self._loaders = None

    def _bearer(self) -> str:
        header = self.authorization
        if not header:
            raise Unauthenticated()
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("Expected 'Authorization: Bearer <accessToken>'")
        return token.strip()

    def _claims(self) -> Claims:
        token = self._bearer()
        if access_tokens.is_personal(token):
            if self._personal is None:  # never looked up (`verify`): not taken on trust
                raise Unauthenticated("Invalid token")
            return self._personal
        return self.state.tokens.decode(token, "access")

    async def verify(self, token: str) -> Claims:
        """The claims of a bearer token: an access JWT's (decoded) or a personal access
        token's (looked up, and kept for this context). Unauthenticated when it is not valid,
        ServiceUnavailable when a personal token cannot be looked up now."""
        if not access_tokens.is_personal(token):
            return self.state.tokens.decode(token, "access")
        self._personal = await access_tokens.verify(self.db, token)
        return self._personal

    def personal_token(self) -> Claims | None:
        """The personal access token the request was authenticated with, if it was one."""
        return self._personal

    async def check_revocation(self) -> None:
        """Before an HTTP request runs: a valid token of a revoked session is refused."""
        try:
            token = self._bearer()
        except Unauthenticated:
            return  # answered when (if) a resolver asks for the user
        if access_tokens.is_personal(token):
            try:  # looked up: its row is the check (a revoked one has none)
                self._user_id = (await self.verify(token)).user_id
            except (Unauthenticated, ServiceUnavailable) as exc:
                self._unchecked = exc  # answered, coded, when (if) a resolver asks
            return
        try:
            claims = self._claims()
        except Unauthenticated:
            return  # answered when (if) a resolver asks for the user
        try:
            revoked = await self.state.revoked(claims)
        except ServiceUnavailable as exc:
            self._unchecked = exc  # answered, coded, when (if) a resolver asks for the user
            return
        if revoked:
            self._revoked = True
        else:
            self._user_id = claims.user_id

    def session_family(self) -> uuid.UUID | None:
        """The signed-in session (its refresh tokens' family), from the access token; None
        for a personal access token (it belongs to no session)."""
        return self.token_claims().family_id

    def token_claims(self) -> Claims:
        """The claims of the request's valid token (UNAUTHENTICATED as `user_id`)."""
        self.user_id()  # refuses a missing, bad or revoked token first
        return self._claims()

    def user_id(self) -> uuid.UUID:
        """The authenticated user; UNAUTHENTICATED without a valid access token."""
        if self._revoked:
            raise Unauthenticated("Token revoked")
        if self._unchecked is not None:
            raise self._unchecked
        if self._user_id is None:
            self._user_id = self._claims().user_id
        return self._user_id


Info: TypeAlias = StrawberryInfo[Context, None]


def app_state(app: Starlette) -> AppState:
    """The process's state, as the lifespan set it on the application: the one way to it,
    for requests (`app_state(request.app)`), the shutdown, operators and tests. LookupError
    before the lifespan has started."""
    state: AppState | None = getattr(app.state, STATE_KEY, None)
    if state is None:
        raise LookupError("the application's lifespan has not started")
    return state
