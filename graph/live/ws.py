"""The websocket handler on /graphql: Strawberry's graphql-transport-ws plus EngLog's policy
(connection_init's bearer, caps, a lifetime bounded by the token, pings, per-operation
contexts). Close codes: graph/live/close_codes.py; per-user counts: graph/live/slots.py.
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
from graph.live.close_codes import FORBIDDEN, INTERNAL_SERVER_ERROR, TRY_AGAIN_LATER
from graph.live.fanout import FastSocket
from graph.live.feeds import stop_task
from graph.live.shared import Delivery
from graph.live.slots import acquire_slot, release_slot

logger = logging.getLogger("englog.ws")


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
    """on_ws_connect: admit the connection_init's bearer, or raise Rejected.

    Only `{"authorization": "Bearer <accessToken>"}` in the payload counts, never the
    handshake's HTTP headers (the browser-origin allow-list is GraphQLView's, graph/http.py,
    checked before the handshake is accepted). A missing, invalid, expired, revoked or
    non-access token, or a user at ENGLOG_WS_MAX_CONNECTIONS_PER_USER, is refused with 4403.
    """
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
        # An access JWT (decoded) or a personal access token (looked up: unknown, revoked and
        # expired ones are refused here, live ones re-checked with the process's others).
        claims = await context.verify(token.strip())
        revoked = await state.revoked(claims)
    except Unauthenticated as exc:
        raise Rejected(str(exc)) from None  # "Token expired" or "Invalid token"
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


# The context of the operation running in the current task (see GraphQLTransportWSHandler).
_operation_context: ContextVar[Context | None] = ContextVar("englog_ws_operation", default=None)


class GraphQLTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's graphql-transport-ws handler, plus EngLog's connection policy."""

    connection_context: Context

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = self.connection_context.state.settings
        # Strawberry counts every in-flight operation, and answers one beyond the cap with an
        # `error` message, keeping the socket open.
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
    # is the operation's own copy (DataLoaders of its own, the token decoded again, fresh
    # loaders after each `next`), so concurrent operations and events never share loaders.
    @property
    def context(self) -> Context:
        context = _operation_context.get()
        return self.connection_context if context is None else context

    @context.setter
    def context(self, value: Context) -> None:
        self.connection_context = value

    @property
    def claims(self) -> Claims | None:
        context = self.connection_context
        return context.claims if isinstance(context, WebSocketContext) else None

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
        claims = self.claims
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
        process at once, graph/live/slots.py):

        - a ping when nothing else went out for ENGLOG_WS_PING_SECONDS (Strawberry pings only
          on the legacy protocol; client pings it answers itself): a busy socket is not idle,
          and 10,000 sockets each pinged and ponged amid events cost a fifth of the CPU (its
          slot in the user's count is refreshed with the process's others, ConnectionSlots);
        - the close with 4403 "Token expired" when the token expires.
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
