"""The API's spans (core/tracing.py has the process's provider and the worker's share):

- ServerSpans: the server span of each HTTP request and websocket, OpenTelemetry's ASGI
  middleware, which joins the caller's W3C `traceparent`; so the GraphQL operation, its SQL
  and the task it enqueues all belong to the caller's trace.
- GraphQLTracing: Strawberry's spans for the operation and its resolvers.

Spans carry sizes and counts, never the user's text: no query string (a GET's GraphQL
document and variables travel in it), no request body, no resolver arguments, and no header
the middleware would record by an operator's opt-in with a credential in it.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from opentelemetry import trace
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware, get_default_span_details
from opentelemetry.sdk.trace import TracerProvider
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.extensions.base_extension import LifecycleStep
from strawberry.extensions.tracing import OpenTelemetryExtension

from core import tracing

_QUERY_STRING = "englog.query_string"  # the scope key the query string waits under
# OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST lets an operator record headers:
# these are recorded as "[REDACTED]" even then.
SECRET_HEADERS = ["authorization", "cookie", "set-cookie", "proxy-authorization", ".*token.*"]


def span_name(scope: Scope) -> tuple[str, dict[str, Any]]:
    """`POST /graphql`, and `websocket /graphql` (the middleware's own: `HTTP /graphql`)."""
    if scope["type"] == "websocket":
        return f"websocket {scope.get('path', '')}", {}
    name, attributes = get_default_span_details(dict(scope))
    return name, attributes


class ServerSpans:
    """The server span of every HTTP request and websocket, a child of the caller's
    `traceparent` when it sent one. The middleware reads its attributes (`http.target`,
    `http.url`, `url.query`) from the scope, so it is shown the scope without its query
    string, which is put back before the application sees it."""

    def __init__(self, app: ASGIApp, provider: TracerProvider | None) -> None:
        self.app = app
        self._spans = OpenTelemetryMiddleware(
            self._served,
            tracer_provider=provider,
            default_span_details=span_name,
            # A span for every message would be one for every websocket frame.
            exclude_spans=["receive", "send"],
            http_capture_headers_sanitize_fields=SECRET_HEADERS,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        scope[_QUERY_STRING] = scope.get("query_string", b"")
        scope["query_string"] = b""
        await self._spans(scope, receive, send)

    async def _served(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["query_string"] = scope.pop(_QUERY_STRING)
        await self.app(scope, receive, send)


class GraphQLTracing(OpenTelemetryExtension):
    """Strawberry's spans for the operation and its resolvers, without what users wrote: no
    resolver arguments, and the document's size instead of its text (literals in it may be
    the user's). The operation's span is a child of the current one (the server span), and
    internal: the server span is the request's."""

    def __init__(self, *, execution_context: Any = None) -> None:
        super().__init__(
            execution_context=execution_context,
            arg_filter=lambda _kwargs, _info: {},
            tracer_provider=tracing.provider(),
        )

    def on_operation(self) -> Generator[None, None, None]:
        named = self.execution_context.operation_name
        span = self._tracer.start_span(
            f"GraphQL Query: {named}" if named else "GraphQL Query",
            kind=trace.SpanKind.INTERNAL,
            attributes={
                "component": "graphql",
                "query": f"({len(self.execution_context.query or '')} characters)",
            },
        )
        self._span_holder[LifecycleStep.OPERATION] = span
        yield
        # Without an operation name, the document's only operation may still have one: it
        # is known once the document is parsed.
        if not named and self.execution_context.operation_name:
            span.update_name(f"GraphQL Query: {self.execution_context.operation_name}")
        span.end()
