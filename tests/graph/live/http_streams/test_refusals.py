"""What an HTTP stream refuses, and with which status and code: over-limit documents, the
wrong accept, method or body, batches and uploads, and a server going away."""

from __future__ import annotations

import json

import httpx
import pytest

from graph.app import going_away
from tests.factories import Api
from tests.graph.live.http_streams.support import (
    INSIGHT_EVENTS,
    INSIGHTS_SINCE_START,
    MULTIPART,
    SSE,
    TRANSPORTS,
    Stream,
    ended,
    feed_members,
    feeds_open,
    headers,
    refused,
    request_insight,
    streaming,
)
from tests.live import WITHIN, Server, eventually, live_server

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
