"""Websockets on /graphql (graphql-transport-ws): who may connect, for how long, how many.

- `connection_init` carries `{"authorization": "Bearer <accessToken>"}`; the HTTP headers of
  the handshake are not looked at. A missing, invalid, expired, revoked or non-access token,
  or a user already at ENGLOG_WS_MAX_CONNECTIONS_PER_USER, is refused with 4403.
- A connection lives no longer than its token: it is closed with 4403 "Token expired" at the
  token's expiry, and with 4403 "Token revoked" when `AppState.is_revoked` says so (asked at
  connection_init and every ENGLOG_WS_AUTH_RECHECK_SECONDS).
- The server pings every ENGLOG_WS_PING_SECONDS (Strawberry pings only on the legacy
  protocol), and answers client pings with pongs as Strawberry does.
- A graceful shutdown (SIGTERM) closes every socket with 1001 "Server shutting down" once
  the process accepts no new connection (graph/app.py `going_away`), where uvicorn alone
  would drop them with 1012; clients reconnect, to another process, and resume with `since`.

Why 4403 for all of these: it is the protocol's code for "this connection is not allowed",
and the graphql-ws reference client retries it with back-off, calling `connectionParams`
again, so a client that refreshed its token reconnects by itself. 4401 is the protocol's
code for a subscribe before connection_ack, and that client never retries it; 4429 means
"too many connection_init messages" there and is fatal too. The close reason says which.

Caps: Strawberry answers a subscribe beyond ENGLOG_WS_MAX_SUBSCRIPTIONS_PER_CONNECTION (it
counts every in-flight operation) with an `error` message and keeps the socket open. The
connections of a user are counted in Redis for all API processes (see below); when Redis is
unreachable connections are let in and a warning is logged. The browser-origin allow-list is
GraphQLView's (graph/http.py), checked before the handshake is accepted.

Context: the connection's Context is built once and authenticated by connection_init. Each
operation runs with its own copy of it (DataLoaders of its own, the token decoded again), and
that copy gets fresh DataLoaders after every `next` it sends, so each subscription event is
resolved with loaders of its own, as each HTTP request is.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import uuid
from contextlib import suppress
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from graphql import GraphQLError
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
)

from graph.auth.tokens import Claims
from graph.context import AppState, Context
from graph.errors import ServiceUnavailable, Unauthenticated, classify_message
from graph.live.fanout import FastSocket
from graph.live.feeds import stop_task
from graph.live.shared import Delivery
from graph.redis_faults import REDIS_FAULTS

logger = logging.getLogger("englog.ws")

FORBIDDEN = 4403
INTERNAL_SERVER_ERROR = 4500
# The server is shutting down (RFC 6455 "going away"): clients reconnect, to another process.
GOING_AWAY = 1001
GOING_AWAY_REASON = "Server shutting down"
# RFC 6455 "try again later": the session could not be checked (neither Redis nor PostgreSQL
# answered). graphql-ws clients retry it, where 4500 is fatal for them.
TRY_AGAIN_LATER = 1013
REDIS_TIMEOUT = 1.0  # a connection_init never waits longer than this on the counter
MIN_SLOT_TTL = 30.0


class Rejected(Exception):
    """connection_init refused: the socket is closed with this code and reason."""

    def __init__(self, reason: str, code: int = FORBIDDEN) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclasses.dataclass(eq=False)
class WebSocketContext(Context):
    """A websocket's Context, built once per connection and authenticated by connection_init."""

    connection_params: dict[str, object] | None = None  # the connection_init payload
    claims: Claims | None = None  # of the access token the connection was accepted with
    slot: str | None = None  # this connection's member in the user's set of connections


def create_context(state: AppState, websocket: WebSocket) -> WebSocketContext:
    return WebSocketContext(state=state, request=websocket, response=None)


async def authenticate(context: Context) -> None:
    """on_ws_connect: admit the connection_init's bearer, or raise Rejected."""
    if not isinstance(context, WebSocketContext):  # get_context builds one for every socket
        raise Rejected("Forbidden")
    params = context.connection_params or {}
    header = next((value for key, value in params.items() if key.lower() == "authorization"), None)
    if not isinstance(header, str) or not header.strip():
        raise Rejected("Missing authorization")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Rejected("Expected 'Bearer <accessToken>'")
    state = context.state
    try:
        claims = state.tokens.decode(token.strip(), "access")
    except Unauthenticated as exc:
        raise Rejected(str(exc)) from None  # "Token expired" or "Invalid token"
    try:
        revoked = await state.revoked(claims)
    except ServiceUnavailable as exc:
        raise Rejected(str(exc), TRY_AGAIN_LATER) from None  # refused, never let in unchecked
    if revoked:
        raise Rejected("Token revoked")
    slot = uuid.uuid4().hex
    if not await acquire_slot(state, claims.user_id, slot):
        raise Rejected("Too many connections")
    state.ws_slots.add(claims.user_id, slot)
    context.authorization = header.strip()
    context.claims = claims
    context.slot = slot


# --- connections per user, counted across API processes ---------------------------------
#
# A sorted set per user: one member per live connection, scored with the time it lapses
# unless its process refreshes it (ConnectionSlots). A process that dies without closing its
# sockets leaves members that lapse on their own, instead of a counter that stays high
# forever (an INCR/DECR counter would, as long as any of the user's sockets kept refreshing
# its TTL). Scores are
# the API processes' clocks: NTP-level skew is nothing against a TTL of 30 s or more.

_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
"""


def connections_key(user_id: uuid.UUID) -> str:
    return f"englog:ws:connections:{user_id}"


def slot_ttl(state: AppState) -> float:
    return max(3 * state.settings.ws_ping_seconds, MIN_SLOT_TTL)


async def acquire_slot(state: AppState, user_id: uuid.UUID, slot: str) -> bool:
    """Whether the user is under the cap (the slot is then taken); True if Redis is away."""
    ttl = slot_ttl(state)
    now = time.time()
    script = state.redis.register_script(_ACQUIRE)
    args: list[str | float] = [
        now,
        now + ttl,
        slot,
        state.settings.ws_max_connections_per_user,
        int(ttl * 1000),
    ]
    try:
        async with asyncio.timeout(REDIS_TIMEOUT):
            taken = await script(keys=[connections_key(user_id)], args=args)
    except REDIS_FAULTS:
        logger.warning(
            "websocket connection counter unavailable: connection allowed", exc_info=True
        )
        return True
    return bool(taken)


class ConnectionSlots:
    """This process's websocket connections, kept counted in Redis together.

    Every ENGLOG_WS_PING_SECONDS one pipeline refreshes every live connection's member (one
    ZADD a user), and counts it again if Redis lost it: a round trip a process, not one a
    connection (at 10,000 sockets those were a third of the process's CPU).

    It also knows every open socket's handler, counted or not yet, so that a shutdown can
    close them all with 1001 (`close_all`).
    """

    def __init__(self, state: AppState) -> None:
        self.state = state
        self.revocations = RevocationChecks(state)
        self._slots: dict[str, uuid.UUID] = {}
        self._task: asyncio.Task[None] | None = None
        self._handlers: set[GraphQLTransportWSHandler] = set()
        self._checker: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._slots)

    def opened(self, handler: GraphQLTransportWSHandler) -> None:
        self._handlers.add(handler)
        if self._checker is None or self._checker.done():
            self._checker = asyncio.create_task(self._recheck(), name="englog-ws-revocations")

    def closed(self, handler: GraphQLTransportWSHandler) -> None:
        self._handlers.discard(handler)

    async def close_all(self, code: int, reason: str) -> None:
        """Closes every open socket with `code` and `reason` (closing handshakes included;
        the caller bounds the wait)."""
        handlers = list(self._handlers)
        if handlers:
            await asyncio.gather(*(handler.close(code, reason) for handler in handlers))

    def add(self, user_id: uuid.UUID, slot: str) -> None:
        self._slots[slot] = user_id
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._keep(), name="englog-ws-slots")

    def discard(self, slot: str) -> None:
        self._slots.pop(slot, None)

    async def _recheck(self) -> None:
        """Every ENGLOG_WS_AUTH_RECHECK_SECONDS, one denylist look-up for every signed-in
        socket of the process (one MGET), not one a socket: at 10,000 sockets the single
        look-ups were a tenth of the process's CPU. A revoked session's sockets close."""
        while self._handlers:
            await asyncio.sleep(self.state.settings.ws_auth_recheck_seconds)
            await self.close_revoked()

    async def close_revoked(self) -> None:
        signed_in = [
            (handler, handler.connection_context.claims)
            for handler in list(self._handlers)
            if isinstance(handler.connection_context, WebSocketContext)
            and handler.connection_context.claims is not None
            and not handler.closing
        ]
        if not signed_in:
            return
        try:
            revoked = await self.state.revoked_sessions([claims for _, claims in signed_in])
        except ServiceUnavailable as exc:
            # Not known to be valid any more: these sockets go, and their clients come back
            # (1013 is retried) and resume with `since` once the check can be answered.
            await asyncio.gather(*(h.close(TRY_AGAIN_LATER, str(exc)) for h, _ in signed_in))
            return
        closing = [handler for (handler, _), gone in zip(signed_in, revoked, strict=True) if gone]
        if closing:
            await asyncio.gather(*(h.close(FORBIDDEN, "Token revoked") for h in closing))

    async def _keep(self) -> None:
        while self._slots:
            await asyncio.sleep(self.state.settings.ws_ping_seconds)
            await self.refresh()

    async def refresh(self) -> None:
        ttl = slot_ttl(self.state)
        lapse = time.time() + ttl
        members: dict[uuid.UUID, dict[str, float]] = {}
        for slot, user_id in self._slots.items():
            members.setdefault(user_id, {})[slot] = lapse
        if not members:
            return
        try:
            async with asyncio.timeout(REDIS_TIMEOUT):
                async with self.state.redis.pipeline(transaction=False) as pipe:
                    for user_id, slots in members.items():
                        pipe.zadd(connections_key(user_id), slots)
                        pipe.pexpire(connections_key(user_id), int(ttl * 1000))
                    await pipe.execute()
        except REDIS_FAULTS:
            logger.debug("could not refresh websocket connection slots", exc_info=True)

    async def close(self) -> None:
        self._slots.clear()
        for task in (self._task, self._checker):
            if task is not None:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task


class RevocationChecks:
    """Every operation on a socket asks whether its session was revoked, as every HTTP
    request does (logOut ends a session at once, on sockets too). The operations that ask in
    the same turn of the event loop share one denylist look-up, as the periodic re-check
    does: a burst of subscribes costs one MGET, not one each."""

    def __init__(self, state: AppState) -> None:
        self.state = state
        self._waiting: list[tuple[Claims, asyncio.Future[bool]]] = []
        self._flushing: set[asyncio.Task[None]] = set()

    async def revoked(self, claims: Claims) -> bool:
        """Whether the session is revoked; ServiceUnavailable when that cannot be known."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((claims, future))
        if len(self._waiting) == 1:
            asyncio.get_running_loop().call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        waiting, self._waiting = self._waiting, []
        task = asyncio.create_task(self._answer(waiting), name="englog-ws-revocation-batch")
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)

    async def _answer(self, waiting: list[tuple[Claims, asyncio.Future[bool]]]) -> None:
        try:
            answers = await self.state.revoked_sessions([claims for claims, _ in waiting])
        except Exception as exc:
            for _, future in waiting:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), revoked in zip(waiting, answers, strict=True):
            if not future.done():
                future.set_result(revoked)


async def release_slot(state: AppState, user_id: uuid.UUID, slot: str) -> None:
    try:
        async with asyncio.timeout(REDIS_TIMEOUT):
            await state.redis.zrem(connections_key(user_id), slot)
    except REDIS_FAULTS:  # the member lapses by itself
        logger.debug("could not release a websocket connection slot", exc_info=True)


# --- the protocol handler -------------------------------------------------------------------

# The context of the operation running in the current task (see GraphQLTransportWSHandler).
_operation_context: ContextVar[Context | None] = ContextVar("englog_ws_operation", default=None)


class GraphQLTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's graphql-transport-ws handler, plus EngLog's connection policy."""

    connection_context: Context

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = self.connection_context.state.settings
        self.max_subscriptions_per_connection = settings.ws_max_subscriptions_per_connection
        self.connection_init_wait_timeout = timedelta(
            seconds=settings.ws_connection_init_timeout_seconds
        )
        self.watchers: list[asyncio.Task[None]] = []
        self.closing = False
        self.last_sent = time.monotonic()  # a frame out keeps the socket alive: no ping due
        # Where feeds write this socket's live frames themselves (graph/live/fanout.py),
        # if they can.
        adapter = self.websocket
        self.fast = (
            FastSocket.of(adapter.ws.scope) if isinstance(adapter, ASGIWebSocketAdapter) else None
        )
        self.deliveries: dict[str, Delivery] = {}  # of the running operations, by id

    # Strawberry reads `self.context` wherever it needs one. Inside an operation's task that
    # is the operation's own copy, so concurrent operations never share DataLoaders.
    @property
    def context(self) -> Context:
        context = _operation_context.get()
        return self.connection_context if context is None else context

    @context.setter
    def context(self, value: Context) -> None:
        self.connection_context = value

    async def handle(self) -> None:
        state = self.connection_context.state
        state.ws_slots.opened(self)
        state.metrics.websockets.inc()
        try:
            await super().handle()
        finally:
            state.ws_slots.closed(self)
            state.metrics.websockets.dec()

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        if await self._refused(operation):
            return
        context = dataclasses.replace(self.connection_context, _user_id=None)
        _operation_context.set(context)  # this task's own: run_operation is its top level
        # Live shared events are written straight to the socket (graph/live/shared.py).
        delivery = Delivery(operation.id, self.send_text, fast=self.fast, wrote=self.wrote)
        delivery.activate()
        self.deliveries[operation.id] = delivery
        subscriptions = self.connection_context.state.metrics.subscriptions
        subscriptions.inc()
        try:
            await super().run_operation(operation)
        finally:
            subscriptions.dec()
            if self.deliveries.get(operation.id) is delivery:
                del self.deliveries[operation.id]

    async def _refused(self, operation: Operation[Context, None]) -> bool:
        """Whether the operation was refused because its session is revoked (the socket then
        closes, as the periodic re-check would close it) or cannot be checked now."""
        claims = getattr(self.connection_context, "claims", None)
        if claims is None:
            return False
        state = self.connection_context.state
        try:
            revoked = await state.ws_slots.revocations.revoked(claims)
        except ServiceUnavailable as exc:
            await operation.send_initial_errors([GraphQLError(str(exc), extensions=exc.extensions)])
            return True
        if not revoked:
            return False
        refusal = Unauthenticated("Token revoked")
        await operation.send_initial_errors(
            [GraphQLError(str(refusal), extensions=refusal.extensions)]
        )
        await self.close(FORBIDDEN, "Token revoked")
        return True

    async def cleanup_operation(self, operation_id: str) -> None:
        # The client completed it (or the handler ends it): no frame of it may go out from
        # here on. Its task is cancelled but runs later; until then its feed must not write
        # for it (graph/live/fanout.py), so its delivery loses the direct path at once.
        delivery = self.deliveries.pop(operation_id, None)
        if delivery is not None:
            delivery.fast = None
        await super().cleanup_operation(operation_id)

    async def send_message(self, message: Message) -> None:
        context = _operation_context.get()
        if context is not None and message["type"] == "next":
            # The next event is resolved only once this frame is out: it gets loaders of its
            # own, so nothing cached while resolving one event is served for another.
            context.fresh_loaders()
        if message["type"] == "error":
            # Errors found before execution (parse, validation, variables) go out before
            # Strawberry's extensions finish, so ErrorCodes has not coded them yet.
            for error in message["payload"]:
                extensions = error.setdefault("extensions", {})
                if "code" not in extensions:
                    extensions.update(classify_message(error.get("message", "")))
        self.last_sent = time.monotonic()
        await super().send_message(message)
        if message["type"] == "next":
            self.connection_context.state.metrics.events_delivered.inc()

    def wrote(self, at: float) -> None:
        """A feed wrote frames of this socket itself at `at` (graph/live/fanout.py)."""
        self.last_sent = at

    async def send_text(self, frame: str) -> bool:
        """Writes a frame built elsewhere (graph/live/shared.py); False when the socket is gone."""
        assert isinstance(self.websocket, ASGIWebSocketAdapter)
        self.last_sent = time.monotonic()
        try:
            await self.websocket.ws.send_text(frame)
        except (WebSocketDisconnect, RuntimeError, OSError):
            return False
        self.connection_context.state.metrics.events_delivered.inc()
        return True

    async def handle_message(self, message: Message) -> None:
        # Strawberry catches a missing key only: a subscribe whose payload is not an object
        # raised a TypeError out of the handler (no close frame), and variables that are not
        # an object went unanswered. A message of the wrong shape closes with 4400.
        problem = malformed(cast("dict[str, Any]", message))
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except Rejected as rejection:
            logger.info("websocket connection_init refused: %s", rejection.reason)
            await self.close(rejection.code, rejection.reason)
            return
        except WebSocketDisconnected:
            raise  # the peer left before the ack: nothing to answer
        except Exception:
            logger.exception("websocket connection_init failed")
            await self.close(INTERNAL_SERVER_ERROR, "Internal server error")
            return
        if self.connection_acknowledged and not self.watchers:
            self.watch()

    def watch(self) -> None:
        """Once acknowledged: pings and the close at expiry (revocation: ConnectionSlots)."""
        context = self.connection_context
        assert isinstance(context, WebSocketContext)
        assert context.claims is not None
        task = asyncio.create_task(self.watch_connection(context.state, context.claims))
        task.add_done_callback(self._task_done)
        self.watchers.append(task)

    async def watch_connection(self, state: AppState, claims: Claims) -> None:
        """One timer a socket for two duties (revocation is checked for all sockets of the
        process at once, ConnectionSlots):

        - a ping when nothing else went out for ENGLOG_WS_PING_SECONDS: a busy socket is not
          idle, and 10,000 sockets each pinged and ponged amid events cost a fifth of the CPU
          (its slot in the user's count is refreshed with the process's others, ConnectionSlots);
        - the close when the token expires.
        """
        ping = state.settings.ws_ping_seconds
        expiry = time.monotonic() + (claims.expires_at - datetime.now(UTC)).total_seconds()
        while True:
            wake = min(self.last_sent + ping, expiry)
            await asyncio.sleep(max(0.0, wake - time.monotonic()))
            now = time.monotonic()
            if now >= expiry:
                await self.close(FORBIDDEN, "Token expired")
                return
            if now - self.last_sent >= ping:
                try:
                    await self.send_message({"type": "ping"})
                except (WebSocketDisconnected, RuntimeError):  # closed meanwhile
                    return

    async def close(self, code: int, reason: str) -> None:
        if self.closing:
            return
        self.closing = True
        # The peer may be gone already, or Strawberry may have closed first.
        with suppress(WebSocketDisconnected, WebSocketDisconnect, RuntimeError):
            await self.websocket.close(code=code, reason=reason)

    async def shutdown(self) -> None:
        for task in self.watchers:
            task.cancel()
        if self.watchers:
            await asyncio.wait(self.watchers)
        context = self.connection_context
        try:
            # Strawberry cancels each operation once and waits for it; one whose cancellation
            # was swallowed in a database call would keep the handler waiting forever.
            tasks = [operation.task for operation in self.operations.values() if operation.task]
            for operation_id in list(self.operations):
                await self.cleanup_operation(operation_id)
            for task in tasks:
                await stop_task(task)
            await super().shutdown()
        finally:
            if isinstance(context, WebSocketContext) and context.claims and context.slot:
                context.state.ws_slots.discard(context.slot)
                await release_slot(context.state, context.claims.user_id, context.slot)


_OPTIONAL_OBJECTS = ("variables", "extensions")


def malformed(message: dict[str, Any]) -> str | None:
    """Why a graphql-transport-ws message has the wrong shape, or None."""
    kind = message.get("type")
    if kind == "subscribe":
        payload = message.get("payload")
        if not isinstance(message.get("id"), str) or not isinstance(payload, dict):
            return "Invalid subscribe message: expected a string id and an object payload"
        if not isinstance(payload.get("query"), str):
            return "Invalid subscribe message: payload.query must be a string"
        for key in _OPTIONAL_OBJECTS:
            if payload.get(key) is not None and not isinstance(payload[key], dict):
                return f"Invalid subscribe message: payload.{key} must be an object"
        name = payload.get("operationName")
        if name is not None and not isinstance(name, str):
            return "Invalid subscribe message: payload.operationName must be a string"
    elif kind == "complete" and not isinstance(message.get("id"), str):
        return "Invalid complete message: expected a string id"
    return None
