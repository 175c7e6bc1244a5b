"""ASGI middleware of the API: the request body cap and the security headers."""

from __future__ import annotations

import json

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph.errors import PAYLOAD_TOO_LARGE


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
