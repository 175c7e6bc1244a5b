"""The /graphql endpoint: Strawberry's ASGI view plus GraphQL-over-HTTP status and media types."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, cast

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)
from strawberry.types import ExecutionResult, SubscriptionExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from graph.auth import csrf
from graph.context import AppState, Context, app_state
from graph.errors import GRAPHQL_VALIDATION_FAILED, RATE_LIMITED, SERVICE_UNAVAILABLE, TIMEOUT
from graph.live import http_streams, ws
from graph.static import GRAPHIQL_PAGE

logger = logging.getLogger("englog.http")

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"

# A \uD800-\uDFFF escape in the raw JSON: only then can a decoded string hold a lone
# surrogate (UTF-8 itself cannot encode one), which no database, log or answer can encode.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class NotARequest(json.JSONDecodeError):
    """JSON that no GraphQL request (nor websocket message) can be, and why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, "", 0)
        self.reason = reason


def _has_lone_surrogate(value: object) -> bool:
    """Whether a string anywhere in decoded JSON holds a lone surrogate (iteratively: the
    decoder allows nesting deep enough to exhaust the stack of a recursive walk)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _wants_graphql_response(accept: str) -> bool:
    """Whether the client prefers application/graphql-response+json (q-values respected)."""
    best: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        best[media.lower()] = max(quality, best.get(media.lower(), 0.0))
    modern = best.get(GRAPHQL_RESPONSE, 0.0)
    legacy = max(best.get(JSON, 0.0), best.get("application/*", 0.0), best.get("*/*", 0.0))
    return modern > 0 and modern >= legacy


class SubResponse(Response):
    """Carries the negotiated media type from get_sub_response to create_response, and an
    admitted HTTP stream from execute_operation to create_streaming_response."""

    graphql_response_json: bool = False
    stream: http_streams.HttpStream | None = None


class GraphQLView(GraphQL[Context, None]):
    """Also the websocket endpoint: graphql-transport-ws only, with graph.live.ws's policy; and
    subscriptions over HTTP (graphql-sse, multipart), with graph.live.http_streams's."""

    graphql_transport_ws_handler_class = ws.GraphQLTransportWSHandler

    def __init__(self, *, ping_seconds: float = 15.0, **kwargs: Any) -> None:
        # Only the websocket protocol whose connection policy graph.live.ws implements: the legacy
        # graphql-ws would skip the expiry and the counting. The HTTP streams have theirs.
        kwargs.setdefault(
            "subscription_protocols",
            (GRAPHQL_TRANSPORT_WS_PROTOCOL, MULTIPART_SUBSCRIPTION_PROTOCOL, GRAPHQL_SSE_PROTOCOL),
        )
        super().__init__(**kwargs)
        self.stream_transport_classes_by_protocol = http_streams.transports(ping_seconds)
        # The protocols of the requests they serve ("sse", "multipart-subscription").
        self.stream_protocols = frozenset(
            transport.protocol
            for name, transport in self.stream_transport_classes_by_protocol.items()
            if name in self.protocols
        )
        self.streams = http_streams.HttpStreams()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Before anything runs: a request with the refresh cookie that a foreign page could
        # have sent is refused (graph/auth/csrf.py).
        if scope["type"] == "http" and (refused := csrf.refusal(Request(scope))) is not None:
            await refused(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> ExecutionResult | list[ExecutionResult] | SubscriptionExecutionResult:
        admitted = await self.streams.admit(
            method=request_adapter.method,
            data=request_data,
            context=context,
            sub_response=sub_response,
            stream_protocols=self.stream_protocols,
        )
        if isinstance(admitted, ExecutionResult):
            return admitted  # refused: sub_response has the status
        try:
            result = await super().execute_operation(
                request, request_adapter, request_data, context, root_value, sub_response
            )
        except BaseException:
            if admitted is not None:
                await admitted.release(self.streams)
            raise
        if admitted is None:
            return result
        if isinstance(sub_response, SubResponse) and isinstance(
            result, SubscriptionExecutionResult
        ):
            sub_response.stream = admitted
            return cast(SubscriptionExecutionResult, http_streams.results(result, context))
        await admitted.release(self.streams)
        return result

    async def create_streaming_response(
        self,
        request: Request | WebSocket,
        stream: Callable[[], AsyncIterator[str]],
        sub_response: Response,
        headers: Mapping[str, str],
    ) -> Response:
        admitted = sub_response.stream if isinstance(sub_response, SubResponse) else None
        if admitted is None:  # not one of ours (@defer's multipart)
            return await super().create_streaming_response(request, stream, sub_response, headers)
        return http_streams.StreamResponse(
            stream,
            admitted,
            self.streams,
            status_code=sub_response.status_code or 200,
            headers={**sub_response.headers, **headers},
        )

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        # Strawberry checks the types of query, variables and extensions but not this one; a
        # number or an object became 'Unknown operation named "5"', a request error of the
        # right status only with graphql-response+json (GraphQL-over-HTTP: a malformed request).
        for item in data if isinstance(data, list) else [data]:
            if not isinstance(item.operation_name, (str, type(None))):
                raise HTTPException(
                    400,
                    "The GraphQL operation's `operationName` must be a string or null, "
                    "if provided.",
                )
        return data

    def parse_json(self, data: str | bytes) -> Any:
        try:
            return self.decode_json(data)
        except NotARequest as exc:
            raise HTTPException(400, exc.reason) from exc
        except json.JSONDecodeError as exc:
            raise HTTPException(400, "Unable to parse request body as JSON") from exc

    def decode_json(self, data: str | bytes) -> object:
        """A JSON object (an HTTP request's body or a websocket message), UTF-8, without lone
        surrogates. Anything else raises a JSONDecodeError: Strawberry answers those with 400
        over HTTP and closes a websocket with 4400, where it failed with a 500 or a 1011."""
        try:
            # Strictly UTF-8 (json.loads would let encoded surrogates through), a BOM allowed.
            text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
        except UnicodeDecodeError as exc:
            raise NotARequest("The request body is not valid UTF-8") from exc
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            raise
        except (ValueError, RecursionError) as exc:
            # An integer over Python's 4,300 digits; nesting deeper than the stack.
            raise NotARequest("Unable to parse request body as JSON") from exc
        if not isinstance(value, dict):  # batching is off: an array is refused too
            raise NotARequest("Expected a JSON object")
        if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
            raise NotARequest("The JSON holds a lone UTF-16 surrogate (\\uD800-\\uDFFF)")
        return value

    @functools.cached_property
    def graphql_ide_html(self) -> str:
        """Strawberry's GraphiQL as graph/static/refresh.py vendored it: every asset from
        this process (no CDN), no inline script, and subscriptions that send the
        Authorization header typed in its headers editor as the connection_init payload
        (graph/live/ws.py reads it there)."""
        return GRAPHIQL_PAGE.read_text(encoding="utf-8")

    def _state(self, request: Request | WebSocket) -> AppState:
        return app_state(request.app)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None = None
    ) -> Context:
        state = self._state(request)
        if isinstance(request, WebSocket):
            # Authenticated by connection_init (on_ws_connect), never by handshake headers.
            return ws.create_context(state, request)
        context = Context(
            state=state,
            request=request,
            response=response if isinstance(response, Response) else None,
            authorization=request.headers.get("authorization"),
        )
        await context.check_revocation()
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        await ws.authenticate(context)
        return cast(UnsetType, UNSET)  # an ack without a payload

    def is_websocket_origin_allowed(self, request: WebSocket, origin: str) -> bool:
        # Asked for cross-origin handshakes only (no Origin header, or the API's own origin,
        # is always allowed). An empty list means any origin in development, none in
        # production.
        if not self.allowed_origins and not self._state(request).settings.production:
            return True
        return super().is_websocket_origin_allowed(request, origin)

    async def get_sub_response(self, request: Request | WebSocket) -> SubResponse:
        response = SubResponse()
        response.status_code = None  # type: ignore[assignment]  # "not set": create_response decides
        del response.headers["content-length"]
        response.graphql_response_json = _wants_graphql_response(request.headers.get("accept", ""))
        return response

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        timeout = context.state.settings.request_timeout_seconds
        try:
            async with asyncio.timeout(timeout):
                return await super().execute_single(
                    request, request_adapter, sub_response, context, root_value, request_data
                )
        except TimeoutError:
            # Cancelled where it was: an open transaction rolls back, nothing half written.
            logger.warning("an operation ran over %.1f s and was cancelled", timeout)
            error = GraphQLError(
                f"The operation took longer than {timeout:g} s and was cancelled",
                extensions={"code": TIMEOUT},
            )
            return ExecutionResult(data=None, errors=[error])
        except HTTPException as exc:
            # GraphQL-over-HTTP: a mutation over GET is 405 Method Not Allowed.
            if isinstance(exc.__cause__, InvalidOperationTypeError):
                raise HTTPException(405, exc.reason) from exc
            if isinstance(exc.__cause__, CannotGetOperationTypeError):
                # No such operation in the document (GetOperation() failed): a request error,
                # so 200 with application/json and 400 with graphql-response+json (6.4.1).
                error = GraphQLError(exc.reason, extensions={"code": GRAPHQL_VALIDATION_FAILED})
                return ExecutionResult(data=None, errors=[error])
            raise

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        modern = isinstance(sub_response, SubResponse) and sub_response.graphql_response_json
        status = 200
        if (
            modern
            and isinstance(response_data, dict)
            and (_is_request_error(response_data) or _only_rate_limited(response_data))
        ):
            # A request error (parse, validation, variable coercion): no execution happened,
            # so the response has no `data` and the status is 4xx (GraphQL-over-HTTP 6.4.2).
            # A logIn or signUp refused by its own rate limit did nothing either: the same
            # 429 answer as an operation refused by the per-user limit (README).
            response_data = {k: v for k, v in response_data.items() if k != "data"}  # type: ignore[assignment]
            status = _request_error_status(response_data)
        response = Response(
            json.dumps(response_data, separators=(",", ":"), ensure_ascii=False),
            status_code=status,
            media_type=GRAPHQL_RESPONSE if modern else JSON,
        )
        response.headers.raw.extend(
            (k, v) for k, v in sub_response.headers.raw if k.lower() != b"content-type"
        )
        if sub_response.status_code:
            response.status_code = sub_response.status_code
        if sub_response.background:
            response.background = sub_response.background
        return response


def _request_error_status(response: GraphQLHTTPResponse) -> int:
    """400, or 429 / 503 / 504 when every error says the request was refused for that."""
    errors: list[dict[str, Any]] = list(response.get("errors") or [])  # type: ignore[arg-type]
    codes = {(error.get("extensions") or {}).get("code") for error in errors}
    for code, status in ((RATE_LIMITED, 429), (SERVICE_UNAVAILABLE, 503), (TIMEOUT, 504)):
        if codes == {code}:
            return status
    return 400


def _only_rate_limited(response: GraphQLHTTPResponse) -> bool:
    """Whether nothing was answered and every error is a RATE_LIMITED field error."""
    if response.get("data") is not None:
        return False
    errors: list[dict[str, Any]] = list(response.get("errors") or [])  # type: ignore[arg-type]
    codes = {(error.get("extensions") or {}).get("code") for error in errors}
    return codes == {RATE_LIMITED}


def _is_request_error(response: GraphQLHTTPResponse) -> bool:
    if response.get("data") is not None:
        return False
    errors: list[dict[str, Any]] = list(response.get("errors") or [])  # type: ignore[arg-type]
    # Field errors carry a path; errors raised before execution never do.
    return bool(errors) and all(not error.get("path") for error in errors)
