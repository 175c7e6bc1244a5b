"""connection_init authenticates a websocket; nothing else does."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from jose import jwt

from graph.auth.tokens import TokenService
from tests.factories import Account, Api, access_claims, b64url_json
from tests.live import ME, Server, logged_in, me_answers, ws_client

SECRET = "test-secret-that-is-long-enough-for-hs256!"  # make_settings' jwt_secret


def _expired(account: Account) -> str:
    now = int(datetime.now(UTC).timestamp())
    return str(
        jwt.encode(access_claims(account.user_id, iat=now - 120, exp=now - 60), SECRET, "HS256")
    )


def _refresh(account: Account) -> str:
    tokens = TokenService(
        secret=SECRET, access_ttl=timedelta(minutes=15), refresh_ttl=timedelta(days=1)
    )
    return tokens.issue_refresh(uuid.UUID(account.user_id), uuid.uuid4()).token


def _alg_none(account: Account) -> str:
    header = b64url_json({"alg": "none", "typ": "JWT"})
    return f"{header}.{b64url_json(access_claims(account.user_id))}."


def _other_secret(account: Account) -> str:
    return str(
        jwt.encode(access_claims(account.user_id), "another-secret-that-is-long-enough!!", "HS256")
    )


async def test_valid_token_is_acknowledged_and_the_socket_acts_as_its_user(
    server: Server, http: Api
) -> None:
    account = await http.sign_up()
    await http.sign_up()  # someone else, whose data must not answer
    async with logged_in(server, account.access_token) as client:
        assert await client.execute(ME) == me_answers(account.email)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        pytest.param(None, "Missing authorization", id="no-payload"),
        pytest.param({}, "Missing authorization", id="empty-payload"),
        pytest.param({"authorization": ""}, "Missing authorization", id="empty-header"),
        pytest.param({"authorization": 42}, "Missing authorization", id="not-a-string"),
        pytest.param(
            {"authorization": "Token abc"}, "Expected 'Bearer <accessToken>'", id="wrong-scheme"
        ),
        pytest.param(
            {"authorization": "Bearer "}, "Expected 'Bearer <accessToken>'", id="bearer-only"
        ),
        pytest.param({"authorization": "Bearer not-a-jwt"}, "Invalid token", id="garbage"),
    ],
)
async def test_connection_init_without_a_usable_bearer_is_closed_4403(
    server: Server, payload: dict[str, Any] | None, reason: str
) -> None:
    async with ws_client(server) as client:
        await client.init(payload)
        assert await client.closed() == (4403, reason)


@pytest.mark.parametrize(
    ("forge", "reason"),
    [
        pytest.param(_expired, "Token expired", id="expired"),
        pytest.param(_refresh, "Invalid token", id="refresh-token-as-access"),
        pytest.param(_alg_none, "Invalid token", id="alg-none"),
        pytest.param(_other_secret, "Invalid token", id="signed-with-another-secret"),
    ],
)
async def test_connection_init_with_a_forged_or_wrong_token_is_closed_4403(
    server: Server, http: Api, forge: Any, reason: str
) -> None:
    account = await http.sign_up()
    async with ws_client(server) as client:
        await client.init({"authorization": f"Bearer {forge(account)}"})
        assert await client.closed() == (4403, reason)


async def test_bearer_in_the_handshake_headers_does_not_authenticate_the_socket(
    server: Server, http: Api
) -> None:
    account = await http.sign_up()
    headers = {"Authorization": f"Bearer {account.access_token}"}
    async with ws_client(server, headers=headers) as client:
        await client.init({})
        assert await client.closed() == (4403, "Missing authorization")


async def test_the_authorization_key_of_the_payload_is_case_insensitive(
    server: Server, http: Api
) -> None:
    account = await http.sign_up()
    async with ws_client(server) as client:
        await client.init({"Authorization": f"Bearer {account.access_token}"})
        assert await client.receive() == {"type": "connection_ack"}
        assert await client.execute(ME) == me_answers(account.email)


async def test_subscribe_before_connection_ack_is_closed_4401(server: Server) -> None:
    async with ws_client(server) as client:
        await client.subscribe(ME)
        assert await client.closed() == (4401, "Unauthorized")


async def test_a_socket_that_never_sends_connection_init_is_closed_4408(server: Server) -> None:
    async with ws_client(server) as client:
        assert await client.closed() == (4408, "Connection initialisation timeout")


async def test_the_legacy_graphql_ws_subprotocol_is_not_served(server: Server) -> None:
    # Its handler would skip the expiry, the re-checks and the per-user counting.
    async with ws_client(server, subprotocols=["graphql-ws"]) as client:
        assert client.socket.subprotocol is None
        assert await client.closed() == (4406, "Subprotocol not acceptable")
