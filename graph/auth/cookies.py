"""The refresh token of a browser, kept in a cookie that script can never read.

`englog_refresh=<token>; HttpOnly; SameSite=Strict; Path=/graphql; Max-Age=<refresh ttl>`,
plus `Secure` over HTTPS (or in production, which is served behind TLS). Only the HTTP
endpoint reads or writes it: a websocket has no response to set it on, and its messages are
not covered by the CSRF check (graph/auth/csrf.py), so there it is never read either."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from graph.context import Context
from graph.errors import AppError, BadUserInput, Unauthenticated

COOKIE = "englog_refresh"
PATH = "/graphql"
NOT_OVER_WEBSOCKET = "is only available over HTTP (POST /graphql), not on a websocket"


class NoRefreshToken(Unauthenticated):
    """Neither the argument nor the cookie: the same code as a bad refresh token."""

    def __init__(self) -> None:
        AppError.__init__(
            self,
            f"No refresh token: pass `refreshToken`, or send the {COOKIE} cookie",
            fields={"refreshToken": "is required (argument or cookie)"},
        )


def _http(context: Context) -> tuple[Request, Response] | None:
    if isinstance(context.request, Request) and context.response is not None:
        return context.request, context.response
    return None


def require_http(context: Context, field: str = "refreshCookie") -> None:
    """Before any work: a cookie asked for where none can be set is refused."""
    if _http(context) is None:
        raise BadUserInput({field: NOT_OVER_WEBSOCKET})


def read(context: Context) -> str | None:
    """The request's refresh-token cookie, over HTTP only."""
    http = _http(context)
    value = http[0].cookies.get(COOKIE) if http else None
    return value or None


def _set(context: Context, value: str, max_age: int) -> None:
    http = _http(context)
    if http is None:
        return
    request, response = http
    attributes = [f"{COOKIE}={value}", "HttpOnly", "SameSite=Strict", f"Path={PATH}"]
    attributes.append(f"Max-Age={max_age}")
    if request.url.scheme == "https" or context.state.settings.production:
        attributes.append("Secure")
    # One answer sets the cookie once: a later mutation of the same document replaces it.
    prefix = f"{COOKIE}=".encode()
    response.raw_headers[:] = [
        (name, header)
        for name, header in response.raw_headers
        if not (name == b"set-cookie" and header.startswith(prefix))
    ]
    response.raw_headers.append((b"set-cookie", "; ".join(attributes).encode("latin-1")))


def store(context: Context, token: str) -> None:
    """Answers with the cookie holding this refresh token, for its whole lifetime."""
    _set(context, token, int(context.state.tokens.refresh_ttl.total_seconds()))


def clear(context: Context) -> None:
    """Answers with the cookie removed (over HTTP; a no-op on a websocket)."""
    _set(context, "", 0)
