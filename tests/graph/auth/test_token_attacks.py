"""Forged, replayed and misused tokens: every one answers UNAUTHENTICATED and reveals nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from jose import jwt

from graph.auth.tokens import TokenService
from graph.settings import ApiSettings
from tests.factories import Account, Api, access_claims, b64url_json, only_error

ME = "{ me { id email } }"

REFRESH = """
mutation Refresh($refreshToken: String!) {
  refreshToken(refreshToken: $refreshToken) { accessToken refreshToken user { id } }
}
"""

LOG_OUT = """
mutation LogOut($refreshToken: String!) { logOut(refreshToken: $refreshToken) }
"""

INVALID = {"message": "Invalid token", "path": ["me"], "extensions": {"code": "UNAUTHENTICATED"}}


def unverified_payload(token: str) -> dict[str, Any]:
    payload: dict[str, Any] = jwt.get_unverified_claims(token)
    return payload


def token_service(settings: ApiSettings, *, ttl: timedelta) -> TokenService:
    return TokenService(secret=settings.jwt_secret, access_ttl=ttl, refresh_ttl=ttl)


async def me_with_header(client: httpx.AsyncClient, authorization: str | None) -> dict[str, Any]:
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = await client.post("/graphql", json={"query": ME}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_valid_access_token_is_accepted(api: Api, client: httpx.AsyncClient) -> None:
    """The control for every attack below: the same request with the genuine token works."""
    account = await api.sign_up("ada@example.com")

    body = await me_with_header(client, f"Bearer {account.access_token}")

    assert body == {"data": {"me": {"id": account.user_id, "email": "ada@example.com"}}}


async def test_the_bearer_scheme_is_case_insensitive(api: Api, client: httpx.AsyncClient) -> None:
    account = await api.sign_up("ada@example.com")

    body = await me_with_header(client, f"bearer {account.access_token}")

    assert body == {"data": {"me": {"id": account.user_id, "email": "ada@example.com"}}}


async def test_an_expired_access_token_is_refused(
    api: Api, client: httpx.AsyncClient, settings: ApiSettings
) -> None:
    account = await api.sign_up()
    expired = token_service(settings, ttl=timedelta(seconds=-5)).issue_access(
        uuid.UUID(account.user_id)
    )

    body = await me_with_header(client, f"Bearer {expired.token}")

    assert only_error(body) == {
        "message": "Token expired",
        "path": ["me"],
        "extensions": {"code": "UNAUTHENTICATED"},
    }


async def test_an_expired_refresh_token_is_refused(api: Api, settings: ApiSettings) -> None:
    account = await api.sign_up()
    expired = token_service(settings, ttl=timedelta(seconds=-5)).issue_refresh(
        uuid.UUID(account.user_id), uuid.uuid4()
    )

    body = await api.post(REFRESH, {"refreshToken": expired.token})

    assert only_error(body) == {
        "message": "Token expired",
        "path": ["refreshToken"],
        "extensions": {"code": "UNAUTHENTICATED"},
    }


async def test_an_access_token_with_a_payload_changed_to_another_user_is_refused(
    api: Api, client: httpx.AsyncClient
) -> None:
    victim = await api.sign_up()
    attacker = await api.sign_up()
    header, _, signature = attacker.access_token.split(".")
    payload = unverified_payload(attacker.access_token)
    forged = ".".join([header, b64url_json({**payload, "sub": victim.user_id}), signature])

    body = await me_with_header(client, f"Bearer {forged}")

    assert only_error(body) == INVALID


async def test_an_access_token_with_one_signature_character_changed_is_refused(
    api: Api, client: httpx.AsyncClient
) -> None:
    account = await api.sign_up()
    header, payload, signature = account.access_token.split(".")
    # A middle character: all six of its bits are signature bits (the last one has padding).
    middle = len(signature) // 2
    changed = "A" if signature[middle] != "A" else "B"
    tampered = f"{header}.{payload}.{signature[:middle]}{changed}{signature[middle + 1 :]}"

    body = await me_with_header(client, f"Bearer {tampered}")

    assert only_error(body) == INVALID


async def test_an_access_token_without_its_signature_is_refused(
    api: Api, client: httpx.AsyncClient
) -> None:
    account = await api.sign_up()
    header, payload, _ = account.access_token.split(".")

    body = await me_with_header(client, f"Bearer {header}.{payload}.")

    assert only_error(body) == INVALID


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
async def test_an_unsigned_alg_none_token_is_refused(
    api: Api, client: httpx.AsyncClient, alg: str
) -> None:
    account = await api.sign_up()
    header = b64url_json({"alg": alg, "typ": "JWT"})
    unsigned = f"{header}.{b64url_json(access_claims(account.user_id))}."

    body = await me_with_header(client, f"Bearer {unsigned}")

    assert only_error(body) == INVALID


async def test_a_token_signed_with_another_secret_is_refused(
    api: Api, client: httpx.AsyncClient
) -> None:
    account = await api.sign_up()
    forged = jwt.encode(
        access_claims(account.user_id), "another-secret-that-is-long-enough!!", algorithm="HS256"
    )

    body = await me_with_header(client, f"Bearer {forged}")

    assert only_error(body) == INVALID


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
async def test_a_token_signed_with_another_hmac_algorithm_is_refused(
    api: Api, client: httpx.AsyncClient, settings: ApiSettings, algorithm: str
) -> None:
    account = await api.sign_up()
    other_algorithm = jwt.encode(
        access_claims(account.user_id), settings.jwt_secret, algorithm=algorithm
    )

    body = await me_with_header(client, f"Bearer {other_algorithm}")

    assert only_error(body) == INVALID


async def test_a_hand_built_hs256_token_with_the_right_secret_is_accepted(
    api: Api, client: httpx.AsyncClient, settings: ApiSettings
) -> None:
    """Shows the forged-claims tests below fail for their claims, not for how they are built."""
    account = await api.sign_up("ada@example.com")
    token = jwt.encode(access_claims(account.user_id), settings.jwt_secret, algorithm="HS256")

    body = await me_with_header(client, f"Bearer {token}")

    assert body == {"data": {"me": {"id": account.user_id, "email": "ada@example.com"}}}


async def test_a_refresh_token_used_as_an_access_token_is_refused(
    api: Api, client: httpx.AsyncClient
) -> None:
    account = await api.sign_up()

    body = await me_with_header(client, f"Bearer {account.refresh_token}")

    assert only_error(body) == INVALID


async def test_an_access_token_used_as_a_refresh_token_is_refused(api: Api) -> None:
    account = await api.sign_up()

    body = await api.post(REFRESH, {"refreshToken": account.access_token})

    assert only_error(body) == {
        "message": "Invalid token",
        "path": ["refreshToken"],
        "extensions": {"code": "UNAUTHENTICATED"},
    }
    # The genuine refresh token was not burnt by the attempt.
    data = await api.data(REFRESH, {"refreshToken": account.refresh_token})
    assert data["refreshToken"]["user"] == {"id": account.user_id}


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        pytest.param(
            "Token abc.def.ghi", "Expected 'Authorization: Bearer <accessToken>'", id="token-scheme"
        ),
        pytest.param(
            "Basic YWRhOnNlY3JldA==", "Expected 'Authorization: Bearer <accessToken>'", id="basic"
        ),
        pytest.param("Bearer", "Expected 'Authorization: Bearer <accessToken>'", id="bearer-alone"),
        pytest.param("garbage", "Expected 'Authorization: Bearer <accessToken>'", id="garbage"),
        pytest.param("Bearer garbage", "Invalid token", id="bearer-garbage"),
        pytest.param("Bearer a.b.c", "Invalid token", id="bearer-three-garbage-parts"),
        pytest.param("Bearer ....", "Invalid token", id="bearer-dots"),
    ],
)
async def test_a_malformed_authorization_header_is_refused(
    client: httpx.AsyncClient, authorization: str, message: str
) -> None:
    body = await me_with_header(client, authorization)

    assert only_error(body) == {
        "message": message,
        "path": ["me"],
        "extensions": {"code": "UNAUTHENTICATED"},
    }


async def test_a_bearer_header_with_the_token_duplicated_is_refused(
    api: Api, client: httpx.AsyncClient
) -> None:
    account = await api.sign_up()

    body = await me_with_header(client, f"Bearer {account.access_token} {account.access_token}")

    assert only_error(body) == INVALID


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"sub": "not-a-uuid"}, id="sub-not-a-uuid"),
        pytest.param({"sub": ""}, id="sub-empty"),
        pytest.param({"jti": "not-a-uuid"}, id="jti-not-a-uuid"),
        pytest.param({"typ": "refresh"}, id="typ-refresh"),
        pytest.param({"typ": "admin"}, id="typ-unknown"),
    ],
)
async def test_a_correctly_signed_token_with_bad_claims_is_refused(
    api: Api,
    client: httpx.AsyncClient,
    settings: ApiSettings,
    overrides: dict[str, Any],
) -> None:
    account = await api.sign_up()
    token = jwt.encode(
        access_claims(account.user_id, **overrides), settings.jwt_secret, algorithm="HS256"
    )

    body = await me_with_header(client, f"Bearer {token}")

    assert only_error(body) == INVALID


@pytest.mark.parametrize("missing", ["sub", "jti", "exp", "typ"])
async def test_a_correctly_signed_token_missing_a_claim_is_refused(
    api: Api, client: httpx.AsyncClient, settings: ApiSettings, missing: str
) -> None:
    account = await api.sign_up()
    claims = access_claims(account.user_id)
    del claims[missing]
    token = jwt.encode(claims, settings.jwt_secret, algorithm="HS256")

    body = await me_with_header(client, f"Bearer {token}")

    assert only_error(body) == INVALID


async def test_a_token_for_an_account_that_never_existed_is_refused(
    client: httpx.AsyncClient, settings: ApiSettings
) -> None:
    token = jwt.encode(access_claims(str(uuid.uuid4())), settings.jwt_secret, algorithm="HS256")

    body = await me_with_header(client, f"Bearer {token}")

    assert only_error(body) == {
        "message": "The account of this token no longer exists",
        "path": ["me"],
        "extensions": {"code": "UNAUTHENTICATED"},
    }


async def test_a_refresh_token_rewritten_for_another_user_is_refused_and_burns_nothing(
    api: Api, settings: ApiSettings
) -> None:
    """Even with the secret, moving a recorded refresh token to another user must not work."""
    victim: Account = await api.sign_up()
    attacker: Account = await api.sign_up()
    claims = unverified_payload(attacker.refresh_token)
    forged = jwt.encode({**claims, "sub": victim.user_id}, settings.jwt_secret, algorithm="HS256")

    body = await api.post(REFRESH, {"refreshToken": forged})

    assert only_error(body) == {
        "message": "Invalid token",
        "path": ["refreshToken"],
        "extensions": {"code": "UNAUTHENTICATED"},
    }
    attacker_again = await api.data(REFRESH, {"refreshToken": attacker.refresh_token})
    assert attacker_again["refreshToken"]["user"] == {"id": attacker.user_id}
    victim_again = await api.data(REFRESH, {"refreshToken": victim.refresh_token})
    assert victim_again["refreshToken"]["user"] == {"id": victim.user_id}


async def test_a_refresh_token_rewritten_for_another_user_cannot_log_that_user_out(
    api: Api, settings: ApiSettings
) -> None:
    victim = await api.sign_up()
    attacker = await api.sign_up()
    claims = unverified_payload(victim.refresh_token)
    forged = jwt.encode({**claims, "sub": attacker.user_id}, settings.jwt_secret, algorithm="HS256")

    body = await api.post(LOG_OUT, {"refreshToken": forged})

    assert only_error(body) == {
        "message": "Invalid token",
        "path": ["logOut"],
        "extensions": {"code": "UNAUTHENTICATED"},
    }
    victim_again = await api.data(REFRESH, {"refreshToken": victim.refresh_token})
    assert victim_again["refreshToken"]["user"] == {"id": victim.user_id}


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="empty"),
        pytest.param("garbage", id="garbage"),
        pytest.param("a.b.c", id="three-garbage-parts"),
    ],
)
async def test_refresh_token_refuses_garbage(api: Api, token: str) -> None:
    body = await api.post(REFRESH, {"refreshToken": token})

    assert only_error(body) == {
        "message": "Invalid token",
        "path": ["refreshToken"],
        "extensions": {"code": "UNAUTHENTICATED"},
    }


async def test_refresh_token_refuses_an_unsigned_alg_none_refresh_token(api: Api) -> None:
    account = await api.sign_up()
    claims = unverified_payload(account.refresh_token)
    unsigned = f"{b64url_json({'alg': 'none', 'typ': 'JWT'})}.{b64url_json(claims)}."

    body = await api.post(REFRESH, {"refreshToken": unsigned})

    assert only_error(body) == {
        "message": "Invalid token",
        "path": ["refreshToken"],
        "extensions": {"code": "UNAUTHENTICATED"},
    }
