"""ASGI middleware of the API: the request ids of the log lines, the request body cap and the
security headers."""

from __future__ import annotations

import json
import re
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.logs import request_id, trace_id
from graph.errors import PAYLOAD_TOO_LARGE

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")


class RequestIds:
    """Gives every HTTP request and websocket a request id (and the caller's trace id) for the
    log lines written while it is served (core/logs.py), and answers the request id in
    X-Request-ID. The request id is the client's X-Request-ID when it is a plausible one,
    else a new one; the trace id is the W3C `traceparent` header's, when a caller sent one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        given = headers.get("x-request-id", "")
        rid = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        parent = _TRACEPARENT.match(headers.get("traceparent", ""))
        rid_token = request_id.set(rid)
        trace_token = trace_id.set(parent.group(1) if parent else None)

        async def answering(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["x-request-id"] = rid
            await send(message)

        try:
            # A websocket's frames go straight out: a wrapper per frame costs at 10,000 sockets.
            await self.app(scope, receive, answering if scope["type"] == "http" else send)
        finally:
            request_id.reset(rid_token)
            trace_id.reset(trace_token)


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Refuses an HTTP request whose body is over `max_bytes` with 413 and a coded error,
    by its Content-Length or, for a chunked body, as soon as the bytes read pass the cap
    (so a client cannot make the server buffer more than that)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > self.max_bytes):
                await self._refuse(send)
                return
        received = 0
        started = False

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited, tracked)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {
                "errors": [
                    {
                        "message": f"The request body is over {self.max_bytes} bytes",
                        "extensions": {"code": PAYLOAD_TOO_LARGE, "maxBytes": self.max_bytes},
                    }
                ]
            }
        ).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


# Every answer: no MIME sniffing, never framed, no referrer leaks, and a content policy. The
# one page (GraphiQL) runs only this process's scripts and styles (graph/static/); its
# bundled fonts and images are data: URLs, and 'self' covers its same-origin websocket.
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
STRICT_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
PAGE_CSP = (
    b"content-security-policy",
    b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    b"font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    b"frame-ancestors 'none'",
)
HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, production: bool) -> None:
        self.app = app
        self.production = production

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    headers.setdefault(name.decode(), value.decode())
                content_type = headers.get("content-type", "")
                policy = PAGE_CSP if content_type.startswith("text/html") else STRICT_CSP
                headers.setdefault(policy[0].decode(), policy[1].decode())
                if self.production:  # behind TLS (ENGLOG_TLS_* or the proxy): HTTPS only
                    headers.setdefault(HSTS[0].decode(), HSTS[1].decode())
            await send(message)

        await self.app(scope, receive, with_headers)
