"""Correctly signed tokens whose claims have the wrong type or an absurd value: refused as
UNAUTHENTICATED over HTTP and with 4403 at connection_init, never a 500."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from jose import jwt

from tests.factories import Account, Api, access_claims
from tests.live import Server, ws_client

SECRET = "test-secret-that-is-long-enough-for-hs256!"  # make_settings' jwt_secret
ME = "{ me { id } }"
NOW = int(datetime.now(UTC).timestamp())

BAD_CLAIMS = [
    pytest.param({"exp": 1e20}, id="exp-huge-float"),
    pytest.param({"exp": 10**20}, id="exp-huge-int"),
    pytest.param({"exp": 2**63}, id="exp-above-int64"),
    pytest.param({"exp": 253402300800}, id="exp-year-10000"),
    pytest.param({"exp": str(NOW + 900)}, id="exp-string"),
    pytest.param({"exp": NOW + 900.5}, id="exp-float"),
    pytest.param({"exp": True}, id="exp-boolean"),
    pytest.param({"exp": [NOW + 900]}, id="exp-list"),
    pytest.param({"exp": None}, id="exp-null"),
    pytest.param({"nbf": [NOW]}, id="nbf-list"),
    pytest.param({"iat": str(NOW)}, id="iat-string"),
    pytest.param({"iat": NOW + 0.5}, id="iat-float"),
    pytest.param({"iat": 10**20}, id="iat-huge"),
    pytest.param({"iat": 1e20}, id="iat-huge-float"),
    pytest.param({"sub": "not-a-uuid"}, id="sub-not-a-uuid"),
    pytest.param({"sub": 42}, id="sub-number"),
    pytest.param({"jti": "not-a-uuid"}, id="jti-not-a-uuid"),
    pytest.param({"fam": "not-a-uuid"}, id="fam-not-a-uuid"),
    pytest.param({"fam": 42}, id="fam-number"),
    pytest.param({"fam": {"id": 1}}, id="fam-object"),
    pytest.param({"typ": "refresh"}, id="typ-refresh"),
    pytest.param({"typ": "ACCESS"}, id="typ-upper-case"),
    pytest.param({"typ": None}, id="typ-null"),
    pytest.param({"typ": ["access"]}, id="typ-list"),
]


def signed(account: Account, overrides: dict[str, Any]) -> str:
    return str(jwt.encode(access_claims(account.user_id, **overrides), SECRET, "HS256"))


@pytest.mark.parametrize("overrides", BAD_CLAIMS)
async def test_a_signed_token_with_a_bad_claim_is_unauthenticated_over_http(
    http: Api, overrides: dict[str, Any]
) -> None:
    account = await http.sign_up()
    body = await http.post(ME, token=signed(account, overrides))
    [error] = body["errors"]
    assert (body["data"], error["message"], error["extensions"]) == (
        None,
        "Invalid token",
        {"code": "UNAUTHENTICATED"},
    )


@pytest.mark.parametrize("overrides", BAD_CLAIMS)
async def test_a_signed_token_with_a_bad_claim_is_refused_at_connection_init(
    server: Server, http: Api, overrides: dict[str, Any]
) -> None:
    account = await http.sign_up()
    async with ws_client(server) as client:
        await client.init({"authorization": f"Bearer {signed(account, overrides)}"})
        assert await client.closed() == (4403, "Invalid token")


async def test_a_signed_token_with_well_typed_claims_is_accepted(
    http: Api,
) -> None:
    """The control: the same forging with nothing wrong signs a token that works."""
    account = await http.sign_up()
    body = await http.post(ME, token=signed(account, {}))
    assert body == {"data": {"me": {"id": account.user_id}}}
