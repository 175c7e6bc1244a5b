"""An acknowledged socket lives as long as its token, is pinged, and answers pings."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from graph.auth.tokens import Claims, TokenService
from tests.factories import Api
from tests.graph.live.ws.support import WS_SETTINGS
from tests.live import (
    ME,
    Server,
    eventually,
    live_server,
    logged_in,
    me_answers,
    ws_client,
)


@pytest.fixture
def revoked(server: Server) -> Iterator[set[uuid.UUID]]:
    """Users whose tokens the denylist (AppState.is_revoked) says are revoked."""
    users: set[uuid.UUID] = set()

    async def is_revoked(claims: Claims) -> bool:
        return claims.user_id in users

    real, server.state.is_revoked = server.state.is_revoked, is_revoked
    try:
        yield users
    finally:
        server.state.is_revoked = real


async def test_the_server_closes_the_socket_when_its_token_expires(
    server: Server, http: Api
) -> None:
    account = await http.sign_up()
    tokens = TokenService(
        secret=server.state.settings.jwt_secret,
        access_ttl=timedelta(seconds=2),
        refresh_ttl=timedelta(days=1),
    )
    short = tokens.issue_access(uuid.UUID(account.user_id)).token
    async with logged_in(server, short) as client:
        assert await client.execute(ME) == me_answers(account.email)
        assert await client.closed(within=10) == (4403, "Token expired")
    await eventually(lambda: server.connections(account.user_id), 0)


async def test_the_server_closes_the_socket_when_its_token_is_revoked(
    server: Server, http: Api, revoked: set[uuid.UUID]
) -> None:
    account = await http.sign_up()
    async with logged_in(server, account.access_token) as client:
        assert await client.execute(ME) == me_answers(account.email)
        revoked.add(uuid.UUID(account.user_id))
        assert await client.closed() == (4403, "Token revoked")
    await eventually(lambda: server.connections(account.user_id), 0)


async def test_a_revoked_token_is_refused_at_connection_init(
    server: Server, http: Api, revoked: set[uuid.UUID]
) -> None:
    account = await http.sign_up()
    revoked.add(uuid.UUID(account.user_id))
    async with ws_client(server) as client:
        await client.init({"authorization": f"Bearer {account.access_token}"})
        assert await client.closed() == (4403, "Token revoked")
    assert await server.connections(account.user_id) == 0


async def test_a_failing_revocation_check_refuses_the_connection_for_a_retry(
    server: Server, http: Api
) -> None:
    # Neither Redis nor PostgreSQL can say whether the session ended: never let it in
    # unchecked. 1013 ("try again later") is a close graphql-ws clients retry.
    async def is_revoked(claims: Claims) -> bool:
        raise ConnectionError("denylist unavailable")

    account = await http.sign_up()
    real, server.state.is_revoked = server.state.is_revoked, is_revoked
    try:
        async with ws_client(server) as client:
            await client.init({"authorization": f"Bearer {account.access_token}"})
            assert await client.closed() == (
                1013,
                "Sessions cannot be checked right now; try again shortly",
            )
    finally:
        server.state.is_revoked = real
    assert await server.connections(account.user_id) == 0


async def test_other_users_stay_connected_when_one_token_is_revoked(
    server: Server, http: Api, revoked: set[uuid.UUID]
) -> None:
    kept, revoked_account = await http.sign_up(), await http.sign_up()
    async with (
        logged_in(server, kept.access_token) as stays,
        logged_in(server, revoked_account.access_token) as goes,
    ):
        revoked.add(uuid.UUID(revoked_account.user_id))
        assert await goes.closed() == (4403, "Token revoked")
        assert await stays.execute(ME) == me_answers(kept.email)


async def test_the_server_pings_an_acknowledged_socket(server: Server, http: Api) -> None:
    account = await http.sign_up()
    async with logged_in(server, account.access_token) as client:
        for _ in range(3):  # every ENGLOG_WS_PING_SECONDS (0.2 s here), and nothing else
            assert await client.next_raw() == {"type": "ping"}


async def test_a_socket_that_is_sent_frames_is_not_pinged(server: Server, http: Api) -> None:
    # Pongs to the client's pings are frames out: for 1.5 s the socket is never idle for the
    # 0.2 s ping interval, so the server has no reason to ping (it would ~7 times if it
    # pinged on a timer regardless; a loaded machine may leave a gap or two, hence < 3).
    account = await http.sign_up()
    async with logged_in(server, account.access_token) as client:
        for _ in range(30):
            await client.send({"type": "ping"})
            await asyncio.sleep(0.05)
        pongs = pings = 0
        while pongs < 30:  # everything the server sent while it was busy answering
            kind = (await client.next_raw())["type"]
            pongs += kind == "pong"
            pings += kind == "ping"
        assert pings < 3
        assert await client.next_raw() == {"type": "ping"}  # idle now: pinged again


async def test_a_client_ping_is_answered_with_a_pong(server: Server, http: Api) -> None:
    account = await http.sign_up()
    async with logged_in(server, account.access_token) as client:
        await client.send({"type": "ping", "payload": {"sent": 1}})
        assert await client.receive() == {"type": "pong"}
        assert await client.execute(ME) == me_answers(account.email)


async def test_log_out_closes_the_sessions_websocket(server: Server, http: Api) -> None:
    account = await http.sign_up()
    log_out = "mutation($r: String!) { logOut(refreshToken: $r) }"
    async with logged_in(server, account.access_token) as client:
        assert await client.execute(ME) == me_answers(account.email)
        await http.data(log_out, {"r": account.refresh_token})
        assert await client.closed() == (4403, "Token revoked")


LOG_OUT = "mutation($r: String!) { logOut(refreshToken: $r) }"


async def test_an_operation_after_log_out_is_refused_at_once_not_at_the_next_recheck(
    database_url: str, redis_url: str
) -> None:
    # The periodic re-check is an hour away here: only the per-operation check can refuse.
    settings = {**WS_SETTINGS, "ws_auth_recheck_seconds": 3600}
    async with (
        live_server(database_url, redis_url, **settings) as quiet,
        httpx.AsyncClient(base_url=quiet.http_url) as client,
    ):
        http = Api(client)
        account = await http.sign_up()
        async with logged_in(quiet, account.access_token) as socket_:
            assert await socket_.execute(ME) == me_answers(account.email)
            await http.data(LOG_OUT, {"r": account.refresh_token})
            assert await socket_.execute(ME, "2") == [
                {
                    "id": "2",
                    "type": "error",
                    "payload": [
                        {
                            "message": "Token revoked",
                            "extensions": {"code": "UNAUTHENTICATED"},
                        }
                    ],
                }
            ]
            assert await socket_.closed() == (4403, "Token revoked")
