"""Subscriptions over HTTP (graphql-sse and Apollo's multipart subscriptions) to a real uvicorn:
what arrives, for whom, and when a stream ends."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import Api
from tests.graph.live.http_streams.support import (
    ENTRY_EVENTS,
    INSIGHT_EVENTS,
    INSIGHTS_SINCE_START,
    LOG_OUT,
    MULTIPART,
    SSE,
    TRANSPORTS,
    channel_subscribers,
    connections,
    create_entry,
    ended,
    expired,
    feed_members,
    feeds_open,
    refused,
    request_insight,
    short_lived,
    streaming,
)
from tests.live import Server, eventually, logged_in


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


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    ("token", "message"),
    [
        pytest.param(None, "Authentication required", id="no-token"),
        pytest.param("not-a-jwt", "Invalid token", id="garbage"),
        pytest.param(expired, "Token expired", id="expired"),
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
    token = short_lived(account, 2)
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
