"""Personal access tokens on a real websocket: accepted in connection_init, scoped as on
HTTP, and a revoked token's open socket (or HTTP subscription) closed at the next
revocation re-check."""

from __future__ import annotations

import httpx

from tests.factories import Api
from tests.graph.access_tokens.support import CREATE_PROJECT, REVOKE, create_token
from tests.graph.live.http_streams.support import (
    INSIGHT_EVENTS,
    SSE,
    connections,
    ended,
    feed_members,
    streaming,
)
from tests.live import WITHIN, eventually, live_server, logged_in, me_answers, ws_client


async def test_a_token_signs_in_a_socket_and_its_revocation_closes_it(
    database_url: str, redis_url: str
) -> None:
    async with (
        live_server(database_url, redis_url, ws_auth_recheck_seconds=0.2) as server,
        httpx.AsyncClient(base_url=server.http_url) as client,
    ):
        api = Api(client)
        account = await api.sign_up()
        created = await create_token(api, account, scopes=["READ"])
        async with logged_in(server, created["token"]) as socket:
            assert await socket.execute("{ me { email } }") == me_answers(account.email)
            refused, complete = await socket.execute(CREATE_PROJECT, operation_id="2")
            assert (refused["type"], complete["type"]) == ("next", "complete")
            assert refused["payload"]["data"] is None
            assert [e["extensions"]["code"] for e in refused["payload"]["errors"]] == ["FORBIDDEN"]
            token_id = created["accessToken"]["id"]
            await api.data(REVOKE, {"id": token_id}, account.access_token)
            assert await socket.closed() == (4403, "Token revoked")
        async with ws_client(server) as socket:
            await socket.init({"authorization": f"Bearer {created['token']}"})
            assert await socket.closed() == (4403, "Invalid token")


async def test_a_token_opens_an_http_subscription_that_its_revocation_ends(
    database_url: str, redis_url: str
) -> None:
    async with (
        live_server(database_url, redis_url, ws_auth_recheck_seconds=0.2) as server,
        httpx.AsyncClient(base_url=server.http_url, timeout=WITHIN) as client,
    ):
        api = Api(client)
        account = await api.sign_up()
        created = await create_token(api, account, scopes=["READ"])
        async with streaming(client, SSE, INSIGHT_EVENTS, created["token"]) as stream:
            await eventually(lambda: feed_members(server, account), 1)
            await api.data(REVOKE, {"id": created["accessToken"]["id"]}, account.access_token)
            assert await stream.rest() == ended(SSE, "Token revoked", "UNAUTHENTICATED")
        await eventually(lambda: connections(server, account), 0)
