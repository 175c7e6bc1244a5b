"""Cross-origin preflights: the headers browsers' GraphQL clients send are allowed for the
configured origins, and other origins are still refused."""

from __future__ import annotations

from tests.factories import make_settings, serve

APP = "https://app.example.com"
ASKED = (
    "traceparent, tracestate, x-request-id, apollographql-client-name, "
    "apollographql-client-version, apollo-require-preflight, authorization, content-type"
)


def preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": ASKED,
    }


async def test_a_preflight_asking_for_trace_and_apollo_headers_is_allowed(
    database_url: str, redis_url: str
) -> None:
    async with serve(make_settings(database_url, redis_url, allowed_origins=[APP])) as client:
        response = await client.options("/graphql", headers=preflight(APP))
    assert (response.status_code, response.text) == (200, "OK")
    assert response.headers["access-control-allow-origin"] == APP
    given = response.headers["access-control-allow-headers"]
    # Starlette answers the CORS-safelisted headers capitalised besides the lower-case list.
    allowed = {header.strip().lower() for header in given.split(",")}
    assert allowed == {
        "accept",
        "accept-language",
        "content-language",
        "content-type",
        "authorization",
        "traceparent",
        "tracestate",
        "x-request-id",
        "apollographql-client-name",
        "apollographql-client-version",
        "apollo-require-preflight",
    }


async def test_a_preflight_from_another_origin_is_still_refused(
    database_url: str, redis_url: str
) -> None:
    async with serve(make_settings(database_url, redis_url, allowed_origins=[APP])) as client:
        response = await client.options("/graphql", headers=preflight("https://evil.example"))
    assert (response.status_code, response.text) == (400, "Disallowed CORS origin")
    assert "access-control-allow-origin" not in response.headers
