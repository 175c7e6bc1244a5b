"""CSRF protection for requests that carry the refresh-token cookie (Apollo's csrfPrevention).

A cross-site page can make a browser send "simple" requests (a form's POST, an <img>'s GET)
with the cookie attached, without a CORS preflight. A request carrying the cookie is run
only if no simple request could have been it: a JSON content type, or an X-EngLog-CSRF header
(any non-empty value) — both need a preflight, which a foreign origin does not pass. Requests
without the cookie (token clients, GET queries) are unaffected: they hold no ambient
credential. GraphiQL's page (a GET for text/html with no query) executes nothing and is
served as before."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response

from graph.auth.cookies import COOKIE

CSRF = "CSRF"
HEADER = "x-englog-csrf"
JSON_TYPES = frozenset({"application/json", "application/graphql-response+json"})
MESSAGE = (
    f"This request carries the {COOKIE} cookie, so it must be sent with "
    "Content-Type: application/json or a non-empty X-EngLog-CSRF header"
)


def _is_page(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return (
        request.method == "GET"
        and "query" not in request.query_params
        and ("text/html" in accept or "*/*" in accept)
    )


def refusal(request: Request) -> Response | None:
    """The 400 answer for a request that a cross-site page could have sent with the
    cookie; None when it may run."""
    if COOKIE not in request.cookies or _is_page(request):
        return None
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type in JSON_TYPES or request.headers.get(HEADER, "").strip():
        return None
    modern = "application/graphql-response+json" in request.headers.get("accept", "")
    body = {"errors": [{"message": MESSAGE, "extensions": {"code": CSRF}}]}
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=400,
        media_type="application/graphql-response+json" if modern else "application/json",
    )
