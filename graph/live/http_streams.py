"""Subscriptions over HTTP on /graphql: Strawberry's graphql-sse ("distinct connections
mode") and Apollo's multipart subscriptions, chosen by the Accept header (graph/http.py
enables them), under the websockets' connection policy (graph/live/ws.py) for one stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from graphql import GraphQLError, OperationType, get_operation_ast, parse
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send
from strawberry.http import GraphQLRequestData
from strawberry.http.streaming import (
    HTTPStreamTransport,
    MultipartSubscriptionTransport,
    SSETransport,
)
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL, MULTIPART_SUBSCRIPTION_PROTOCOL
from strawberry.types import ExecutionResult

from graph.auth.tokens import Claims
from graph.context import AppState, Context
from graph.errors import (
    LIMIT_EXCEEDED,
    SERVICE_UNAVAILABLE,
    UNAUTHENTICATED,
    ErrorCodes,
    Unauthenticated,
)
from graph.live import slots
from graph.live.feeds import stop_task

logger = logging.getLogger("englog.http_streams")

NOT_ACCEPTABLE = "NOT_ACCEPTABLE"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
SHUTTING_DOWN = "Server shutting down"
STREAMING_ACCEPT = (
    "A subscription over HTTP needs `Accept: text/event-stream` (graphql-sse) or "
    "`Accept: multipart/mixed;subscriptionSpec=1.0, application/json` (multipart "
    "subscriptions), or a websocket (graphql-transport-ws)"
)


def transports(ping_seconds: float) -> dict[str, type[HTTPStreamTransport]]:
    """Strawberry's two HTTP stream transports, keeping streams alive every `ping_seconds`.

    `Accept: text/event-stream` (graphql-sse): an event `next` per result
    (`data: {"data": …}`), a final `complete`, a `: ping` comment as heartbeat; queries and
    mutations may use it too (one `next`). `Accept: multipart/mixed;subscriptionSpec=1.0,
    application/json` (Apollo Client's HttpLink): a part `{"payload": {"data": …}}` per
    result, a `{}` part as heartbeat; subscriptions only.
    """

    class Multipart(MultipartSubscriptionTransport):
        heartbeat_interval = ping_seconds

    class ServerSentEvents(SSETransport):
        def __init__(self) -> None:
            super().__init__(heartbeat_interval=ping_seconds)

    return {MULTIPART_SUBSCRIPTION_PROTOCOL: Multipart, GRAPHQL_SSE_PROTOCOL: ServerSentEvents}


def operation_type(data: GraphQLRequestData, max_tokens: int) -> OperationType | None:
    """The requested operation's type; None when the document does not say (it does not
    parse, or names no such operation): Strawberry then answers that as it does."""
    if not data.query:
        return None
    try:
        document = parse(data.query, max_tokens=max_tokens)
    except GraphQLError:
        return None
    operation = get_operation_ast(document, data.operation_name)
    return operation.operation if operation is not None else None


def _refusal(sub_response: Response, status: int, message: str, code: str) -> ExecutionResult:
    sub_response.status_code = status
    return ExecutionResult(data=None, errors=[GraphQLError(message, extensions={"code": code})])


@dataclass(eq=False)
class HttpStream:
    """One admitted stream: its user's slot, its token, and how (and why) it ends.

    It lives no longer than its token: at the token's expiry, or once the denylist says its
    session is revoked (HttpStreams.end_revoked), it ends with a last result of one
    UNAUTHENTICATED error ("Token expired", "Token revoked"), as a shutdown ends it with
    SERVICE_UNAVAILABLE.
    """

    state: AppState
    protocol: str
    claims: Claims | None = None
    slot: str | None = None
    ended: asyncio.Future[tuple[str, str]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    released: bool = False

    def end(self, message: str, code: str = UNAUTHENTICATED) -> None:
        if not self.ended.done():
            self.ended.set_result((message, code))

    def seconds_left(self) -> float | None:
        if self.claims is None:
            return None
        return (self.claims.expires_at - datetime.now(UTC)).total_seconds()

    def last_words(self, message: str, code: str) -> str:
        """The final result and the end of the stream, in this stream's protocol."""
        errors: list[object] = [{"message": message, "extensions": {"code": code}}]
        if self.protocol == MultipartSubscriptionTransport.protocol:
            # Apollo's spec: a transport-level error is a part with a null payload.
            multipart = MultipartSubscriptionTransport()
            part = multipart.encode_multipart_data({"payload": None, "errors": errors}, _json)
            return part + multipart.encode_complete()
        transport = SSETransport()
        return transport.encode_next({"data": None, "errors": errors}, _json) + (
            transport.encode_complete()
        )

    async def release(self, streams: HttpStreams) -> None:
        if self.released:
            return
        self.released = True
        streams.closed(self)
        if self.claims is not None and self.slot is not None:
            self.state.metrics.subscriptions.dec()
            self.state.ws_slots.discard(self.slot)
            await slots.release_slot(self.state, self.claims.user_id, self.slot)


def _json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class HttpStreams:
    """The open HTTP streams of a view (one a process): the revocation re-check of them all,
    and their end at shutdown (graph/app.py `going_away`)."""

    def __init__(self) -> None:
        self._open: set[HttpStream] = set()
        self._checker: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._open)

    async def admit(
        self,
        *,
        method: str,
        data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        sub_response: Response,
        stream_protocols: frozenset[str],
    ) -> ExecutionResult | HttpStream | None:
        """Before the operation runs: a refusal (with sub_response's status set), the stream
        it may open, or None for an ordinary request.

        Refused before anything runs, with a coded error as JSON: a subscription without a
        streaming Accept (406, NOT_ACCEPTABLE), a mutation over GET (405,
        METHOD_NOT_ALLOWED), a query or mutation asking for multipart subscriptions (406); a
        subscription without a valid bearer (401, UNAUTHENTICATED) or beyond the user's
        ENGLOG_WS_MAX_CONNECTIONS_PER_USER, counted with their websockets (429,
        LIMIT_EXCEEDED). Batches and multipart uploads are off: Strawberry answers 400.
        """
        if isinstance(data, list):
            return None  # batching is off: refused while parsing already
        state = context.state
        streaming = data.protocol in stream_protocols
        # Only a document with the keyword can be a subscription: the hot path parses nothing.
        if not streaming and "subscription" not in (data.query or ""):
            return None
        kind = operation_type(data, state.settings.max_query_tokens)
        if not streaming:
            if kind == OperationType.SUBSCRIPTION:
                return _refusal(sub_response, 406, STREAMING_ACCEPT, NOT_ACCEPTABLE)
            return None
        if method == "GET" and kind == OperationType.MUTATION:
            return _refusal(sub_response, 405, "A mutation needs POST", METHOD_NOT_ALLOWED)
        stream = HttpStream(state, data.protocol)
        if kind != OperationType.SUBSCRIPTION:
            if data.protocol == MultipartSubscriptionTransport.protocol and kind is not None:
                message = "Multipart subscriptions carry subscriptions only"
                return _refusal(sub_response, 406, message, NOT_ACCEPTABLE)
            self.opened(stream)
            return stream
        try:
            # Missing, malformed, expired, invalid or revoked: refused as HTTP operations are.
            claims = context.token_claims()  # an access JWT's or a personal token's
            user_id = claims.user_id
        except Unauthenticated as exc:
            sub_response.headers["www-authenticate"] = "Bearer"
            return _refusal(sub_response, 401, str(exc), UNAUTHENTICATED)
        slot = uuid.uuid4().hex
        if not await slots.acquire_slot(state, user_id, slot):
            return _refusal(sub_response, 429, "Too many connections", LIMIT_EXCEEDED)
        state.ws_slots.add(user_id, slot)
        state.metrics.subscriptions.inc()
        stream.claims, stream.slot = claims, slot
        self.opened(stream)
        return stream

    def opened(self, stream: HttpStream) -> None:
        self._open.add(stream)
        if stream.claims is not None and (self._checker is None or self._checker.done()):
            self._checker = asyncio.create_task(
                self._recheck(stream.state), name="englog-http-stream-revocations"
            )

    def closed(self, stream: HttpStream) -> None:
        self._open.discard(stream)

    def end_all(self, message: str = SHUTTING_DOWN, code: str = SERVICE_UNAVAILABLE) -> None:
        for stream in list(self._open):
            stream.end(message, code)

    async def _recheck(self, state: AppState) -> None:
        while any(stream.claims is not None for stream in self._open):
            await asyncio.sleep(state.settings.ws_auth_recheck_seconds)
            await self.end_revoked(state)

    async def end_revoked(self, state: AppState) -> None:
        """One denylist look-up for every signed-in open stream (as graph/live/slots.py does)."""
        signed_in = [
            (stream, stream.claims)
            for stream in list(self._open)
            if stream.claims is not None and not stream.ended.done()
        ]
        if not signed_in:
            return
        revoked = await state.revoked_sessions([claims for _, claims in signed_in])
        for (stream, _), gone in zip(signed_in, revoked, strict=True):
            if gone:
                stream.end("Token revoked")

    async def close(self) -> None:
        if self._checker is not None:
            await stop_task(self._checker)


async def results(source: AsyncIterator[Any], context: Context) -> AsyncGenerator[Any, None]:
    """The operation's results as they go out: coded here, since ErrorCodes' on_operation
    runs only once a stream has ended, and each event resolved with loaders of its own."""
    try:
        async for result in source:
            if isinstance(result, ExecutionResult) and result.errors:
                result.errors = [ErrorCodes._process(error) for error in result.errors]
            yield result
            # The next event is resolved once this one is out: loaders of its own.
            context.fresh_loaders()
    finally:
        aclose = getattr(source, "aclose", None)
        if aclose is not None:
            await aclose()


async def _body(
    chunks: Callable[[], AsyncIterator[str]], stream: HttpStream
) -> AsyncGenerator[str, None]:
    """Strawberry's chunks (results and heartbeats), until they end or the stream must."""
    source = chunks()
    pending: asyncio.Task[str] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.create_task(_next(source))
            left = stream.seconds_left()
            waiting: set[asyncio.Future[Any]] = {pending, stream.ended}
            done, _ = await asyncio.wait(
                waiting,
                timeout=None if left is None else max(0.0, left),
                return_when=asyncio.FIRST_COMPLETED,
            )
            if pending in done:
                finished, pending = pending, None
                try:
                    chunk = finished.result()
                except StopAsyncIteration:
                    return
                yield chunk
                continue
            message, code = (
                stream.ended.result() if stream.ended.done() else ("Token expired", UNAUTHENTICATED)
            )
            logger.info("an HTTP stream ended: %s", message)
            yield stream.last_words(message, code)
            return
    finally:
        if pending is not None:
            await stop_task(pending)
        aclose = getattr(source, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()


async def _next(source: AsyncIterator[str]) -> str:
    return await anext(source)


class StreamResponse(StreamingResponse):
    """A StreamingResponse that always gives its stream's slot back, however it ends (even
    when the client left before the body began). A client that goes away cancels the body
    at once (Starlette listens for the disconnect), which leaves the user's feed."""

    def __init__(
        self,
        chunks: Callable[[], AsyncIterator[str]],
        stream: HttpStream,
        streams: HttpStreams,
        *,
        status_code: int,
        headers: Mapping[str, str],
    ) -> None:
        self.chunks = _body(chunks, stream)
        super().__init__(self.chunks, status_code=status_code, headers=headers)
        self.stream = stream
        self.streams = streams

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.chunks.aclose()
            await self.stream.release(self.streams)
