"""Subscriptions over HTTP (graphql-sse and Apollo's multipart subscriptions) to a real uvicorn."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from jose import jwt

from db.queries import event as events
from graph.app import going_away
from graph.live.slots import connections_key
from tests.factories import Account, Api, access_claims, entry_input
from tests.live import WITHIN, Server, eventually, live_server, logged_in

SSE = "sse"
MULTIPART = "multipart"
TRANSPORTS = [SSE, MULTIPART]
ACCEPT = {
    SSE: "text/event-stream",
    # What Apollo Client's HttpLink sends for a subscription.
    MULTIPART: 'multipart/mixed;boundary="graphql";subscriptionSpec=1.0,application/json',
}
SECRET = "test-secret-that-is-long-enough-for-hs256!"  # make_settings' jwt_secret

INSIGHT_EVENTS = "subscription { insightEvents { insight { id status } } }"
# From the very start of a new user's events: whatever the test does next arrives, whether
# the feed is already following the user's channel by then (live) or not yet (replayed).
INSIGHTS_SINCE_START = 'subscription { insightEvents(since: "0") { insight { id status } } }'
ENTRY_EVENTS = """
subscription($since: String) { logEntryEvents(since: $since) { action entryId } }
"""
REQUEST = """
mutation($input: RequestInsightInput!) { requestInsight(input: $input) { id status } }
"""
LOG_OUT = "mutation($refreshToken: String!) { logOut(refreshToken: $refreshToken) }"
CREATE = "mutation($input: CreateLogEntryInput!) { createLogEntry(input: $input) { id } }"


@pytest.fixture(scope="module")
async def server(database_url: str, redis_url: str) -> AsyncIterator[Server]:
    async with live_server(
        database_url,
        redis_url,
        ws_ping_seconds=0.2,
        ws_auth_recheck_seconds=0.2,
        ws_max_connections_per_user=3,
    ) as running:
        yield running


@pytest.fixture
async def client(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=WITHIN) as http_client:
        yield http_client


@pytest.fixture
def http(client: httpx.AsyncClient) -> Api:
    return Api(client)


class Stream:
    """One streamed response, read as messages: ("next", result), ("heartbeat", None),
    ("error", errors) (multipart's transport-level error) and ("complete", None)."""

    def __init__(self, transport: str, response: httpx.Response) -> None:
        self.transport = transport
        self.response = response
        self.chunks = response.aiter_text()
        self.buffer = ""
        self.preamble = transport == MULTIPART  # text before the first boundary

    async def message(self) -> tuple[str, Any]:
        return await asyncio.wait_for(self._message(), WITHIN)

    async def _message(self) -> tuple[str, Any]:
        while True:
            parsed = self._parse()
            if parsed is not None:
                return parsed
            try:
                self.buffer += await anext(self.chunks)
            except StopAsyncIteration:
                return "eof", self.buffer

    def _parse(self) -> tuple[str, Any] | None:
        if self.transport == SSE:
            block, separator, rest = self.buffer.partition("\r\n\r\n")
            if not separator:
                return None
            self.buffer = rest
            if block.startswith(":"):
                return "heartbeat", None
            fields = dict(line.partition(": ")[::2] for line in block.split("\r\n"))
            return fields["event"], json.loads(fields["data"]) if fields["data"] else None
        while True:
            if not self.preamble and self.buffer.startswith("--"):
                self.buffer = self.buffer[2:]
                return "complete", None
            part, separator, rest = self.buffer.partition("\r\n--graphql")
            if not separator:
                return None
            self.buffer = rest
            if self.preamble:
                self.preamble = False
                continue
            if not part:  # Strawberry's last result part is followed by an empty one
                continue
            body = json.loads(part.partition("\r\n\r\n")[2])
            if body == {}:
                return "heartbeat", None
            if body.get("payload") is None:
                return "error", body["errors"]
            return "next", body["payload"]

    async def next(self) -> dict[str, Any]:
        """The next result (heartbeats skipped)."""
        kind, value = await self.skipping_heartbeats()
        assert kind == "next", (kind, value)
        result: dict[str, Any] = value
        return result

    async def skipping_heartbeats(self) -> tuple[str, Any]:
        while True:
            kind, value = await self.message()
            if kind != "heartbeat":
                return kind, value

    async def rest(self) -> list[tuple[str, Any]]:
        """Every message up to the end of the response, heartbeats skipped."""
        messages: list[tuple[str, Any]] = []
        while True:
            kind, value = await self.skipping_heartbeats()
            if kind == "eof":
                assert value.strip() == "", value
                return messages
            messages.append((kind, value))


def headers(transport: str | None, token: str | None) -> dict[str, str]:
    values = {"Accept": ACCEPT[transport] if transport else "application/json"}
    if token is not None:
        values["Authorization"] = f"Bearer {token}"
    return values


@asynccontextmanager
async def streaming(
    client: httpx.AsyncClient,
    transport: str,
    query: str,
    token: str | None,
    variables: dict[str, Any] | None = None,
) -> AsyncIterator[Stream]:
    body = {"query": query, "variables": variables or {}}
    async with client.stream(
        "POST", "/graphql", json=body, headers=headers(transport, token)
    ) as response:
        yield Stream(transport, response)


async def feed_members(server: Server, account: Account, topic: str = events.INSIGHT) -> int:
    return len(server.state.feeds.members(uuid.UUID(account.user_id), topic))


async def feeds_open(server: Server) -> int:
    return len(server.state.feeds)


async def connections(server: Server, account: Account) -> int:
    return int(await server.state.redis.zcard(connections_key(uuid.UUID(account.user_id))))


async def channel_subscribers(server: Server, account: Account) -> int:
    counts = await server.state.redis.pubsub_numsub(f"englog:user:{account.user_id}")
    return int(counts[0][1])


async def request_insight(http: Api, account: Account) -> str:
    period = {"kind": "WEEKLY_REPORT", "periodStart": "2026-11-02", "periodEnd": "2026-11-08"}
    data = await http.data(REQUEST, {"input": period}, account.access_token)
    return str(data["requestInsight"]["id"])


async def create_entry(http: Api, account: Account) -> str:
    data = await http.data(CREATE, {"input": entry_input()}, account.access_token)
    return str(data["createLogEntry"]["id"])


def refused(message: str, code: str) -> dict[str, Any]:
    return {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}


def ended(transport: str, message: str, code: str) -> list[tuple[str, Any]]:
    """How a stream that the server ends says why, in each transport."""
    errors = [{"message": message, "extensions": {"code": code}}]
    if transport == SSE:
        return [("next", {"data": None, "errors": errors}), ("complete", None)]
    return [("error", errors), ("complete", None)]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_subscription_over_http_receives_the_insight_a_mutation_requested(
    server: Server, client: httpx.AsyncClient, http: Api, transport: str
) -> None:
    account = await http.sign_up()
    async with streaming(client, transport, INSIGHTS_SINCE_START, account.access_token) as stream:
        assert stream.response.status_code == 200
        await eventually(lambda: feed_members(server, account), 1)
        insight_id = await request_insight(http, account)
        assert await stream.next() == {
            "data": {"insightEvents": {"insight": {"id": insight_id, "status": "PENDING"}}}
        }


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_since_replays_the_missed_events_then_goes_live_without_duplicates(
    server: Server, client: httpx.AsyncClient, http: Api, transport: str
) -> None:
    account = await http.sign_up()
    missed = [await create_entry(http, account), await create_entry(http, account)]
    variables = {"since": "0"}
    async with streaming(
        client, transport, ENTRY_EVENTS, account.access_token, variables
    ) as stream:
        replayed = [(await stream.next())["data"]["logEntryEvents"] for _ in missed]
        assert replayed == [{"action": "CREATED", "entryId": entry_id} for entry_id in missed]
        live = [await create_entry(http, account)]
        assert (await stream.next())["data"]["logEntryEvents"] == {
            "action": "CREATED",
            "entryId": live[0],
        }
        live.append(await create_entry(http, account))
        assert (await stream.next())["data"]["logEntryEvents"] == {
            "action": "CREATED",
            "entryId": live[1],
        }


def _short_lived(account: Account, seconds: int) -> str:
    now = int(datetime.now(UTC).timestamp())
    return str(jwt.encode(access_claims(account.user_id, exp=now + seconds), SECRET, "HS256"))


def _expired(account: Account) -> str:
    now = int(datetime.now(UTC).timestamp())
    return str(
        jwt.encode(access_claims(account.user_id, iat=now - 120, exp=now - 60), SECRET, "HS256")
    )


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    ("token", "message"),
    [
        pytest.param(None, "Authentication required", id="no-token"),
        pytest.param("not-a-jwt", "Invalid token", id="garbage"),
        pytest.param(_expired, "Token expired", id="expired"),
    ],
)
async def test_a_subscription_over_http_without_a_usable_bearer_is_refused_with_401(
    server: Server, client: httpx.AsyncClient, http: Api, transport: str, token: Any, message: str
) -> None:
    account = await http.sign_up()
    bearer = token(account) if callable(token) else token
    async with streaming(client, transport, INSIGHT_EVENTS, bearer) as stream:
        await stream.response.aread()
    response = stream.response
    assert (response.status_code, response.json()) == (401, refused(message, "UNAUTHENTICATED"))
    assert response.headers["www-authenticate"] == "Bearer"
    assert await connections(server, account) == 0


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_revoked_session_is_refused_before_the_stream_starts(
    client: httpx.AsyncClient, http: Api, transport: str
) -> None:
    account = await http.sign_up()
    await http.data(LOG_OUT, {"refreshToken": account.refresh_token})
    async with streaming(client, transport, INSIGHT_EVENTS, account.access_token) as stream:
        await stream.response.aread()
    assert (stream.response.status_code, stream.response.json()) == (
        401,
        refused("Token revoked", "UNAUTHENTICATED"),
    )


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_another_users_events_never_arrive_on_an_http_stream(
    server: Server, client: httpx.AsyncClient, http: Api, transport: str
) -> None:
    account, other = await http.sign_up(), await http.sign_up()
    async with streaming(client, transport, INSIGHTS_SINCE_START, account.access_token) as stream:
        await eventually(lambda: feed_members(server, account), 1)
        await request_insight(http, other)
        own = await request_insight(http, account)
        assert await stream.next() == {
            "data": {"insightEvents": {"insight": {"id": own, "status": "PENDING"}}}
        }


OVER_ALIASED = (
    "subscription { insightEvents { "
    + " ".join(f"a{index}: cursor" for index in range(16))
    + " } }"
)
OVER_COST = (
    "{ a: logEntries(first: 100) { edges { node { tags { id } } } } "
    + " ".join(
        f"b{index}: logEntries(first: 100) {{ edges {{ node {{ tags {{ id }} }} }} }}"
        for index in range(4)
    )
    + " }"
)


@pytest.mark.parametrize(
    ("transport", "query", "message"),
    [
        pytest.param(
            MULTIPART,
            OVER_ALIASED,
            "16 aliases found. Allowed: 15",
            id="multipart-aliases",
        ),
        pytest.param(SSE, OVER_ALIASED, "16 aliases found. Allowed: 15", id="sse-aliases"),
    ],
)
async def test_a_document_over_the_limits_is_refused_with_a_code_on_an_http_stream(
    client: httpx.AsyncClient, http: Api, transport: str, query: str, message: str
) -> None:
    account = await http.sign_up()
    async with streaming(client, transport, query, account.access_token) as stream:
        result = await stream.next()
        assert [error["extensions"]["code"] for error in result["errors"]] == [
            "GRAPHQL_VALIDATION_FAILED"
        ]
        assert result["errors"][0]["message"] == message
        assert await stream.rest() == [("complete", None)]


async def test_a_query_over_the_cost_limit_is_refused_with_a_code_over_sse(
    client: httpx.AsyncClient, http: Api
) -> None:
    account = await http.sign_up()
    async with streaming(client, SSE, OVER_COST, account.access_token) as stream:
        result = await stream.next()
        assert result["data"] is None
        assert [error["extensions"]["code"] for error in result["errors"]] == [
            "GRAPHQL_VALIDATION_FAILED"
        ]
        assert result["errors"][0]["extensions"]["maxCost"] == 10_000
        assert await stream.rest() == [("complete", None)]


async def test_a_query_over_sse_answers_one_result_then_completes(
    client: httpx.AsyncClient, http: Api
) -> None:
    account = await http.sign_up()
    async with streaming(client, SSE, "{ me { email } }", account.access_token) as stream:
        assert await stream.rest() == [
            ("next", {"data": {"me": {"email": account.email}}}),
            ("complete", None),
        ]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_client_that_goes_away_leaves_no_subscriber_behind(
    server: Server, client: httpx.AsyncClient, http: Api, transport: str
) -> None:
    account = await http.sign_up()
    async with streaming(client, transport, INSIGHT_EVENTS, account.access_token):
        await eventually(lambda: channel_subscribers(server, account), 1)
        assert await feed_members(server, account) == 1
        assert await connections(server, account) == 1
    await eventually(lambda: feed_members(server, account), 0)
    await eventually(lambda: channel_subscribers(server, account), 0)
    await eventually(lambda: connections(server, account), 0)
    await eventually(lambda: feeds_open(server), 0)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_revoked_session_ends_the_http_stream(
    server: Server, client: httpx.AsyncClient, http: Api, transport: str
) -> None:
    account = await http.sign_up()
    async with streaming(client, transport, INSIGHT_EVENTS, account.access_token) as stream:
        await eventually(lambda: feed_members(server, account), 1)
        await http.data(LOG_OUT, {"refreshToken": account.refresh_token})
        assert await stream.rest() == ended(transport, "Token revoked", "UNAUTHENTICATED")
    await eventually(lambda: feed_members(server, account), 0)
    await eventually(lambda: connections(server, account), 0)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_the_http_stream_ends_when_its_token_expires(
    server: Server, client: httpx.AsyncClient, http: Api, transport: str
) -> None:
    account = await http.sign_up()
    token = _short_lived(account, 2)
    async with streaming(client, transport, INSIGHT_EVENTS, token) as stream:
        assert stream.response.status_code == 200
        assert await stream.rest() == ended(transport, "Token expired", "UNAUTHENTICATED")
    await eventually(lambda: feed_members(server, account), 0)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_an_idle_http_stream_is_kept_alive_with_heartbeats(
    client: httpx.AsyncClient, http: Api, transport: str
) -> None:
    account = await http.sign_up()
    async with streaming(client, transport, INSIGHT_EVENTS, account.access_token) as stream:
        assert await stream.message() == ("heartbeat", None)
        assert await stream.message() == ("heartbeat", None)


async def test_http_streams_and_websockets_share_the_users_connection_cap(
    server: Server, client: httpx.AsyncClient, http: Api
) -> None:
    account = await http.sign_up()
    async with (
        logged_in(server, account.access_token),
        streaming(client, SSE, INSIGHT_EVENTS, account.access_token) as first,
        streaming(client, MULTIPART, INSIGHT_EVENTS, account.access_token) as second,
    ):
        assert (first.response.status_code, second.response.status_code) == (200, 200)
        assert await connections(server, account) == 3
        async with streaming(client, SSE, INSIGHT_EVENTS, account.access_token) as third:
            await third.response.aread()
        assert (third.response.status_code, third.response.json()) == (
            429,
            refused("Too many connections", "LIMIT_EXCEEDED"),
        )
    await eventually(lambda: connections(server, account), 0)


NEEDS_STREAMING = (
    "A subscription over HTTP needs `Accept: text/event-stream` (graphql-sse) or "
    "`Accept: multipart/mixed;subscriptionSpec=1.0, application/json` (multipart "
    "subscriptions), or a websocket (graphql-transport-ws)"
)


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_subscription_without_a_streaming_accept_is_refused_with_406(
    client: httpx.AsyncClient, http: Api, method: str
) -> None:
    account = await http.sign_up()
    request = {"query": INSIGHT_EVENTS}
    if method == "GET":
        response = await client.get(
            "/graphql", params=request, headers=headers(None, account.access_token)
        )
    else:
        response = await client.post(
            "/graphql", json=request, headers=headers(None, account.access_token)
        )
    assert (response.status_code, response.json()) == (
        406,
        refused(NEEDS_STREAMING, "NOT_ACCEPTABLE"),
    )


async def test_a_subscription_over_get_with_sse_streams(
    server: Server, client: httpx.AsyncClient, http: Api
) -> None:
    account = await http.sign_up()
    async with client.stream(
        "GET",
        "/graphql",
        params={"query": INSIGHTS_SINCE_START},
        headers=headers(SSE, account.access_token),
    ) as response:
        stream = Stream(SSE, response)
        await eventually(lambda: feed_members(server, account), 1)
        insight_id = await request_insight(http, account)
        assert await stream.next() == {
            "data": {"insightEvents": {"insight": {"id": insight_id, "status": "PENDING"}}}
        }


async def test_a_mutation_over_get_with_sse_is_refused_with_405(
    client: httpx.AsyncClient, http: Api
) -> None:
    account = await http.sign_up()
    response = await client.get(
        "/graphql",
        params={"query": 'mutation { logOut(refreshToken: "x") }'},
        headers=headers(SSE, account.access_token),
    )
    assert (response.status_code, response.json()) == (
        405,
        refused("A mutation needs POST", "METHOD_NOT_ALLOWED"),
    )


async def test_a_query_asking_for_a_multipart_subscription_is_refused_with_406(
    client: httpx.AsyncClient, http: Api
) -> None:
    account = await http.sign_up()
    response = await client.post(
        "/graphql",
        json={"query": "{ me { email } }"},
        headers=headers(MULTIPART, account.access_token),
    )
    assert (response.status_code, response.json()) == (
        406,
        refused("Multipart subscriptions carry subscriptions only", "NOT_ACCEPTABLE"),
    )


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_batch_of_subscriptions_is_refused_with_400(
    client: httpx.AsyncClient, http: Api, transport: str
) -> None:
    account = await http.sign_up()
    response = await client.post(
        "/graphql",
        json=[{"query": INSIGHT_EVENTS}, {"query": INSIGHT_EVENTS}],
        headers=headers(transport, account.access_token),
    )
    assert (response.status_code, response.text) == (400, "Expected a JSON object")


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_subscription_in_a_multipart_upload_is_refused_with_400(
    client: httpx.AsyncClient, http: Api, transport: str
) -> None:
    account = await http.sign_up()
    response = await client.post(
        "/graphql",
        data={"operations": json.dumps({"query": INSIGHT_EVENTS}), "map": "{}"},
        files={"0": ("a.txt", b"a")},
        headers=headers(transport, account.access_token),
    )
    assert (response.status_code, response.text) == (400, "Unsupported content type")


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_shutdown_ends_the_http_streams_with_service_unavailable(
    database_url: str, redis_url: str, transport: str
) -> None:
    async with (
        live_server(database_url, redis_url, ws_ping_seconds=0.2) as server,
        httpx.AsyncClient(base_url=server.http_url, timeout=WITHIN) as client,
    ):
        account = await Api(client).sign_up()
        async with streaming(client, transport, INSIGHT_EVENTS, account.access_token) as stream:
            await eventually(lambda: feed_members(server, account), 1)
            await going_away(server.app)
            assert await stream.rest() == ended(
                transport, "Server shutting down", "SERVICE_UNAVAILABLE"
            )
        await eventually(lambda: feeds_open(server), 0)
