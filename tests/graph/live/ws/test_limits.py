"""Who may open a socket (browser origins) and how many: operations a socket, sockets a user."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import cast

import asyncpg
import pytest
from websockets.exceptions import InvalidStatus

from db.engine import asyncpg_dsn
from englog.certs import write_certificates
from tests.factories import Api
from tests.live import (
    ME,
    Server,
    eventually,
    live_server,
    logged_in,
    me_answers,
    ws_client,
)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
async def production(
    database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Server]:
    """A production server with no ENGLOG_ALLOWED_ORIGINS."""
    certs = write_certificates(tmp_path_factory.mktemp("certs"), server_hosts=["127.0.0.1"])
    async with live_server(
        database_url,
        redis_url,
        env="production",
        grpc_tls_cert_file=str(certs["server_cert"]),
        grpc_tls_key_file=str(certs["server_key"]),
        grpc_tls_ca_file=str(certs["ca"]),
    ) as running:
        yield running


@pytest.fixture(scope="module")
async def development_without_redis(database_url: str) -> AsyncIterator[Server]:
    """A development server with no ENGLOG_ALLOWED_ORIGINS, whose Redis is unreachable."""
    async with live_server(database_url, f"redis://127.0.0.1:{_closed_port()}/0") as running:
        yield running


async def _refused_status(server: Server, origin: str) -> int:
    with pytest.raises(InvalidStatus) as refused:
        async with ws_client(server, origin=origin):
            pass
    return refused.value.response.status_code


async def test_a_listed_origin_connects_and_another_is_refused_at_the_handshake(
    server: Server, http: Api
) -> None:
    account = await http.sign_up()
    async with logged_in(server, account.access_token, origin="https://app.example") as client:
        assert await client.execute(ME) == me_answers(account.email)
    assert await _refused_status(server, "https://evil.example") == 403
    assert await _refused_status(server, "https://app.example:8443") == 403


async def test_production_without_a_list_refuses_every_cross_origin_page(
    production: Server, http: Api
) -> None:
    account = await http.sign_up()
    assert await _refused_status(production, "https://app.example") == 403
    assert await _refused_status(production, "http://localhost:5173") == 403
    # No Origin header: not a browser, so no ambient credentials to abuse.
    async with logged_in(production, account.access_token) as client:
        assert await client.execute(ME) == me_answers(account.email)


async def test_development_without_a_list_accepts_any_origin(
    development_without_redis: Server, http: Api
) -> None:
    account = await http.sign_up()
    async with logged_in(
        development_without_redis, account.access_token, origin="http://localhost:5173"
    ) as client:
        assert await client.execute(ME) == me_answers(account.email)


async def test_an_unreachable_redis_lets_connections_in(
    development_without_redis: Server, http: Api
) -> None:
    # The per-user count is lost while Redis is away; refusing everyone would be worse.
    account = await http.sign_up()
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                logged_in(development_without_redis, account.access_token)
            )
            for _ in range(development_without_redis.state.settings.ws_max_connections_per_user + 1)
        ]
        assert await clients[-1].execute(ME) == me_answers(account.email)


async def test_operations_beyond_the_cap_of_a_socket_are_refused_with_an_error(
    server: Server, http: Api, database_url: str
) -> None:
    account = await http.sign_up()
    async with logged_in(server, account.access_token) as client:
        # Holding the user table keeps `me` running, so the first two are still in flight
        # when the third arrives (the cap is 2 here; Strawberry counts every operation).
        holder = await asyncpg.connect(asyncpg_dsn(database_url))
        try:
            async with holder.transaction():
                await holder.execute('LOCK TABLE "user" IN ACCESS EXCLUSIVE MODE')
                for operation_id in ("1", "2", "3"):
                    await client.subscribe(ME, operation_id=operation_id)
                assert await client.receive() == {
                    "id": "3",
                    "type": "error",
                    "payload": [
                        {
                            "message": "Subscription limit reached",
                            "extensions": {"code": "LIMIT_EXCEEDED"},
                        }
                    ],
                }
        finally:
            await holder.close()
        answers = [await client.receive() for _ in range(4)]
        for operation_id in ("1", "2"):
            assert [m for m in answers if m["id"] == operation_id] == [
                {
                    "id": operation_id,
                    "type": "next",
                    "payload": {"data": {"me": {"email": account.email}}},
                },
                {"id": operation_id, "type": "complete"},
            ]
        # The socket stays open, and the slots are free again.
        assert await client.execute(ME) == me_answers(account.email)


async def test_connections_beyond_the_cap_of_a_user_are_refused_and_counted_back_down(
    server: Server, http: Api
) -> None:
    account, other = await http.sign_up(), await http.sign_up()
    cap = server.state.settings.ws_max_connections_per_user
    async with AsyncExitStack() as stack:
        open_ = [
            await stack.enter_async_context(logged_in(server, account.access_token))
            for _ in range(cap)
        ]
        assert await server.connections(account.user_id) == cap
        async with ws_client(server) as extra:
            await extra.init({"authorization": f"Bearer {account.access_token}"})
            assert await extra.closed() == (4403, "Too many connections")
        assert await server.connections(account.user_id) == cap
        # The cap is per user: someone else still connects.
        async with logged_in(server, other.access_token) as theirs:
            assert await theirs.execute(ME) == me_answers(other.email)
        # Closing one frees its slot for the next.
        await open_.pop().socket.close()
        await eventually(lambda: server.connections(account.user_id), cap - 1)
        async with logged_in(server, account.access_token) as again:
            assert await again.execute(ME) == me_answers(account.email)
    await eventually(lambda: server.connections(account.user_id), 0)
    assert await server.state.redis.exists(f"englog:ws:connections:{account.user_id}") == 0


async def test_a_process_refreshes_its_connections_counts_together(
    server: Server, http: Api
) -> None:
    """One pipeline a process keeps every live socket counted, and counts them again if
    Redis lost them; a closed socket is no longer refreshed."""
    account = await http.sign_up()
    key = f"englog:ws:connections:{account.user_id}"
    async with AsyncExitStack() as stack:
        for _ in range(3):
            await stack.enter_async_context(logged_in(server, account.access_token))
        assert await server.connections(account.user_id) == 3
        before = await _scores(server, key)
        await server.state.redis.delete(key)  # as if Redis had restarted empty
        await eventually(lambda: server.connections(account.user_id), 3)
        after = await _scores(server, key)
        assert after.keys() == before.keys()
        assert all(after[slot] > before[slot] for slot in after)  # lapse moved on
        assert await server.state.redis.pttl(key) > 0
    await eventually(lambda: server.connections(account.user_id), 0)
    assert not any(slot in server.state.ws_slots._slots for slot in before)


async def _scores(server: Server, key: str) -> dict[str, float]:
    members = cast(
        list[tuple[bytes, float]], await server.state.redis.zrange(key, 0, -1, withscores=True)
    )
    return {member.decode(): float(score) for member, score in members}
