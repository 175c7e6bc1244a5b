"""The refresh token as a browser's HttpOnly cookie, and the CSRF check of requests that carry
it, through the real app."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from starlette.types import ASGIApp

from graph.settings import ApiSettings
from tests.factories import Api
from tests.graph.auth.support import LOG_IN, LOG_OUT, ME, PASSWORD, REFRESH, jti
from tests.live import live_server, logged_in

COOKIE = "englog_refresh"
LOG_IN_COOKIE = """
mutation LogIn($email: String!, $password: String!) {
  logIn(email: $email, password: $password, refreshCookie: true) {
    accessToken refreshToken expiresIn tokenType user { email }
  }
}
"""
SIGN_UP_COOKIE = """
mutation SignUp($input: SignUpInput!) {
  signUp(input: $input, refreshCookie: true) { accessToken refreshToken user { email } }
}
"""
REFRESH_FROM_COOKIE = "mutation { refreshToken { accessToken refreshToken user { email } } }"
LOG_OUT_FROM_COOKIE = "mutation { logOut }"
THIRTY_DAYS = 30 * 24 * 3600


def set_cookies(response: httpx.Response) -> list[str]:
    return response.headers.get_list("set-cookie")


def cookie_header(token: str, *, secure: bool = False) -> str:
    attributes = (
        f"{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/graphql; Max-Age={THIRTY_DAYS}"
    )
    return attributes + ("; Secure" if secure else "")


CLEARED = f"{COOKIE}=; HttpOnly; SameSite=Strict; Path=/graphql; Max-Age=0"


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    cookie: str | None = None,
) -> httpx.Response:
    """A JSON POST; `cookie` sends that refresh cookie instead of the client's jar."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if cookie is not None:
        client.cookies.clear()
        headers["Cookie"] = f"{COOKIE}={cookie}"
    return await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )


async def browser_log_in(api: Api, email: str) -> tuple[httpx.Response, str]:
    """logIn with the cookie: the response and the refresh token it set."""
    response = await gql(api.client, LOG_IN_COOKIE, {"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response, api.client.cookies[COOKIE]


async def live_jtis(pg: asyncpg.Connection, user_id: str) -> list[uuid.UUID]:
    rows = await pg.fetch(
        "SELECT jti FROM refresh_token WHERE user_id = $1 AND revoked_at IS NULL",
        uuid.UUID(user_id),
    )
    return [row["jti"] for row in rows]


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert body["data"] is None, body
    (error,) = body["errors"]
    return {"message": error["message"], "extensions": error["extensions"]}


# The cookie


async def test_log_in_with_refresh_cookie_sets_the_cookie_and_answers_no_token(
    api: Api, pg: asyncpg.Connection
) -> None:
    account = await api.sign_up()

    response, token = await browser_log_in(api, account.email)

    assert set_cookies(response) == [cookie_header(token)]
    payload = response.json()["data"]["logIn"]
    assert payload == {
        "accessToken": payload["accessToken"],
        "refreshToken": None,
        "expiresIn": 900,
        "tokenType": "Bearer",
        "user": {"email": account.email},
    }
    assert jti(token) in await live_jtis(pg, account.user_id)


async def test_sign_up_with_refresh_cookie_sets_the_cookie(api: Api) -> None:
    account = {
        "email": "cookie@example.com",
        "password": PASSWORD,
        "firstName": "Ada",
        "lastName": "Lovelace",
    }
    response = await gql(api.client, SIGN_UP_COOKIE, {"input": account})

    token = api.client.cookies[COOKIE]
    assert set_cookies(response) == [cookie_header(token)]
    assert response.json()["data"]["signUp"]["refreshToken"] is None
    refreshed = await gql(api.client, REFRESH_FROM_COOKIE)
    assert refreshed.json()["data"]["refreshToken"]["user"] == {"email": "cookie@example.com"}


@pytest.fixture
async def https_client(app: ASGIApp) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://englog.test") as client:
        yield client


async def test_the_cookie_is_secure_over_https(api: Api, https_client: httpx.AsyncClient) -> None:
    account = await api.sign_up()

    response = await gql(
        https_client, LOG_IN_COOKIE, {"email": account.email, "password": PASSWORD}
    )

    assert set_cookies(response) == [cookie_header(https_client.cookies[COOKIE], secure=True)]


async def test_refresh_without_an_argument_rotates_the_cookie(
    api: Api, pg: asyncpg.Connection
) -> None:
    account = await api.sign_up()
    _, first = await browser_log_in(api, account.email)

    response = await gql(api.client, REFRESH_FROM_COOKIE)

    second = api.client.cookies[COOKIE]
    assert second != first
    assert set_cookies(response) == [cookie_header(second)]
    payload = response.json()["data"]["refreshToken"]
    assert payload["refreshToken"] is None
    assert await api.data(ME, token=payload["accessToken"]) == {
        "me": {"id": account.user_id, "email": account.email}
    }
    row = await pg.fetchrow(
        "SELECT revoked_at, replaced_by FROM refresh_token WHERE jti = $1", jti(first)
    )
    assert row is not None
    assert row["revoked_at"] is not None
    assert row["replaced_by"] == jti(second)
    assert jti(second) in await live_jtis(pg, account.user_id)


async def test_an_argument_refresh_asking_for_the_cookie_answers_in_the_cookie(api: Api) -> None:
    account = await api.sign_up()
    query = """mutation($t: String) { refreshToken(refreshToken: $t, refreshCookie: true) {
        refreshToken } }"""

    response = await gql(api.client, query, {"t": account.refresh_token})

    assert response.json() == {"data": {"refreshToken": {"refreshToken": None}}}
    assert set_cookies(response) == [cookie_header(api.client.cookies[COOKIE])]


async def test_an_old_cookie_presented_again_revokes_the_whole_login(
    api: Api, pg: asyncpg.Connection, settings: ApiSettings
) -> None:
    account = await api.sign_up()
    _, first = await browser_log_in(api, account.email)
    refreshed = await gql(api.client, REFRESH_FROM_COOKIE)
    access = refreshed.json()["data"]["refreshToken"]["accessToken"]
    current = api.client.cookies[COOKIE]
    # Past the grace window: the reuse is a stolen copy, not a lost answer.
    await pg.execute(
        "UPDATE refresh_token SET created_at = created_at - interval '1 hour' WHERE jti = $1",
        jti(current),
    )

    reused = await gql(api.client, REFRESH_FROM_COOKIE, cookie=first)

    assert error_of(reused) == {
        "message": "Refresh token reused; every session of this login was revoked",
        "extensions": {"code": "UNAUTHENTICATED"},
    }
    assert set_cookies(reused) == [CLEARED]
    assert await live_jtis(pg, account.user_id) == [jti(account.refresh_token)]
    after = await gql(api.client, REFRESH_FROM_COOKIE, cookie=current)
    assert error_of(after)["message"] == "Session ended"
    denied = await api.error(ME, token=access)
    assert denied["extensions"]["code"] == "UNAUTHENTICATED"
    assert settings.refresh_grace_seconds < 3600


async def test_log_out_without_an_argument_ends_the_cookies_session_and_clears_it(
    api: Api, pg: asyncpg.Connection
) -> None:
    account = await api.sign_up()
    response, token = await browser_log_in(api, account.email)
    access = response.json()["data"]["logIn"]["accessToken"]

    out = await gql(api.client, LOG_OUT_FROM_COOKIE)

    assert out.json() == {"data": {"logOut": True}}
    assert set_cookies(out) == [CLEARED]
    assert COOKIE not in api.client.cookies
    assert await live_jtis(pg, account.user_id) == [jti(account.refresh_token)]
    assert (await api.error(ME, token=access))["message"] == "Token revoked"
    again = await gql(api.client, REFRESH_FROM_COOKIE, cookie=token)
    assert error_of(again)["message"] == "Session ended"


async def test_log_out_with_an_argument_clears_the_cookie_too(api: Api) -> None:
    account = await api.sign_up()

    out = await gql(api.client, LOG_OUT, {"refreshToken": account.refresh_token})

    assert out.json() == {"data": {"logOut": True}}
    assert set_cookies(out) == [CLEARED]


@pytest.mark.parametrize("query", [REFRESH_FROM_COOKIE, LOG_OUT_FROM_COOKIE])
async def test_no_argument_and_no_cookie_is_unauthenticated_on_refresh_token(
    api: Api, query: str
) -> None:
    response = await gql(api.client, query)

    assert error_of(response) == {
        "message": "No refresh token: pass `refreshToken`, or send the englog_refresh cookie",
        "extensions": {
            "code": "UNAUTHENTICATED",
            "fields": {"refreshToken": "is required (argument or cookie)"},
        },
    }


@pytest.mark.parametrize(
    "cookie",
    ["not-a-jwt", "x" * 4000, "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."],
    ids=["garbage", "oversized", "unsigned"],
)
async def test_a_bad_cookie_is_refused_and_cleared(api: Api, cookie: str) -> None:
    response = await gql(api.client, REFRESH_FROM_COOKIE, cookie=cookie)

    assert error_of(response) == {
        "message": "Invalid token",
        "extensions": {"code": "UNAUTHENTICATED"},
    }
    assert set_cookies(response) == [CLEARED]


async def test_an_access_token_is_not_a_refresh_cookie(api: Api) -> None:
    account = await api.sign_up()

    response = await gql(api.client, REFRESH_FROM_COOKIE, cookie=account.access_token)

    assert error_of(response)["message"] == "Invalid token"


async def test_token_clients_get_the_refresh_token_in_the_body_and_no_cookie(api: Api) -> None:
    account = await api.sign_up()

    logged = await gql(api.client, LOG_IN, {"email": account.email, "password": PASSWORD})
    refreshed = await gql(
        api.client, REFRESH, {"refreshToken": logged.json()["data"]["logIn"]["refreshToken"]}
    )

    assert set_cookies(logged) == []
    assert set_cookies(refreshed) == []
    assert isinstance(refreshed.json()["data"]["refreshToken"]["refreshToken"], str)
    assert COOKIE not in api.client.cookies


async def test_the_argument_wins_over_the_cookie(api: Api) -> None:
    account = await api.sign_up()
    await browser_log_in(api, account.email)
    cookie = api.client.cookies[COOKIE]

    response = await gql(api.client, REFRESH, {"refreshToken": account.refresh_token})

    payload = response.json()["data"]["refreshToken"]
    assert isinstance(payload["refreshToken"], str)
    assert set_cookies(response) == []
    assert api.client.cookies[COOKIE] == cookie


async def test_on_a_websocket_the_cookie_is_refused_and_never_read(
    database_url: str, redis_url: str
) -> None:
    async with (
        live_server(database_url, redis_url) as server,
        httpx.AsyncClient(base_url=server.http_url) as client,
    ):
        api = Api(client)
        account = await api.sign_up()
        await browser_log_in(api, account.email)
        cookie = client.cookies[COOKIE]
        async with logged_in(server, account.access_token) as socket:
            asks = await socket.execute(
                f'mutation {{ logIn(email: "{account.email}", password: "{PASSWORD}", '
                "refreshCookie: true) { accessToken } }",
                "a",
            )
            bare = await socket.execute("mutation { refreshToken { accessToken } }", "b")
        assert asks[0]["payload"]["errors"][0]["extensions"] == {
            "code": "BAD_USER_INPUT",
            "fields": {
                "refreshCookie": "is only available over HTTP (POST /graphql), not on a websocket"
            },
        }
        assert bare[0]["payload"]["errors"][0]["extensions"]["fields"] == {
            "refreshToken": "is required (argument or cookie)"
        }
        # The HTTP cookie still works: nothing on the socket touched it.
        refreshed = await gql(client, REFRESH_FROM_COOKIE, cookie=cookie)
        assert refreshed.json()["data"]["refreshToken"]["user"] == {"email": account.email}


# CSRF


async def test_a_text_plain_post_with_the_cookie_is_refused_before_it_runs(
    api: Api, pg: asyncpg.Connection
) -> None:
    account = await api.sign_up()
    await browser_log_in(api, account.email)
    live = await live_jtis(pg, account.user_id)

    response = await api.client.post(
        "/graphql",
        content='{"query": "mutation { logOut }"}',
        headers={"Content-Type": "text/plain"},
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "errors": [
            {
                "message": "This request carries the englog_refresh cookie, so it must be sent "
                "with Content-Type: application/json or a non-empty X-EngLog-CSRF header",
                "extensions": {"code": "CSRF"},
            }
        ]
    }
    assert set_cookies(response) == []
    assert sorted(await live_jtis(pg, account.user_id)) == sorted(live)


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""],
)
async def test_other_simple_posts_with_the_cookie_are_refused(api: Api, content_type: str) -> None:
    account = await api.sign_up()
    await browser_log_in(api, account.email)

    response = await api.client.post(
        "/graphql", content="query=%7B__typename%7D", headers={"Content-Type": content_type}
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {"code": "CSRF"}


async def test_a_get_with_the_cookie_and_no_header_is_refused(api: Api) -> None:
    account = await api.sign_up()
    await browser_log_in(api, account.email)

    response = await api.client.get(
        "/graphql",
        params={"query": "{ me { email } }"},
        headers={"Accept": "application/graphql-response+json"},
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/graphql-response+json"
    assert response.json()["errors"][0]["extensions"] == {"code": "CSRF"}


async def test_a_get_with_the_cookie_and_the_header_runs(api: Api) -> None:
    account = await api.sign_up()
    await browser_log_in(api, account.email)

    response = await api.client.get(
        "/graphql",
        params={"query": "{ me { email } }"},
        headers={"X-EngLog-CSRF": "1", "Authorization": f"Bearer {account.access_token}"},
    )

    assert response.status_code == 200
    assert response.json() == {"data": {"me": {"email": account.email}}}


async def test_an_empty_csrf_header_does_not_count(api: Api) -> None:
    account = await api.sign_up()
    await browser_log_in(api, account.email)

    response = await api.client.get(
        "/graphql", params={"query": "{ __typename }"}, headers={"X-EngLog-CSRF": "  "}
    )

    assert response.status_code == 400


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
async def test_a_json_post_with_the_cookie_runs(api: Api, content_type: str) -> None:
    account = await api.sign_up()
    await browser_log_in(api, account.email)

    response = await api.client.post(
        "/graphql",
        content='{"query": "{ __typename }"}',
        headers={"Content-Type": content_type},
    )

    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_a_graphql_response_body_type_with_the_cookie_passes_the_csrf_check(
    api: Api,
) -> None:
    account = await api.sign_up()
    await browser_log_in(api, account.email)

    response = await api.client.post(
        "/graphql",
        content='{"query": "{ __typename }"}',
        headers={"Content-Type": "application/graphql-response+json"},
    )

    # Not a request body type Strawberry reads, but not a simple request either.
    assert (response.status_code, response.text) == (400, "Unsupported content type")


async def test_requests_without_the_cookie_are_unchanged(api: Api) -> None:
    get = await api.client.get("/graphql", params={"query": "{ __typename }"})
    plain = await api.client.post(
        "/graphql", content='{"query": "{ __typename }"}', headers={"Content-Type": "text/plain"}
    )

    assert get.status_code == 200
    assert get.json() == {"data": {"__typename": "Query"}}
    assert "CSRF" not in plain.text


async def test_the_graphiql_page_is_served_with_the_cookie(api: Api) -> None:
    account = await api.sign_up()
    await browser_log_in(api, account.email)

    response = await api.client.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
