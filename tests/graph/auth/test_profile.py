"""updateProfile through the real app: names, time zone and a password-confirmed e-mail, in
one transaction, scoped to the signed-in user."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest

from tests.factories import Account, Api
from tests.graph.auth.support import LOG_IN, LOG_OUT, PASSWORD

UPDATE = """
mutation Update($input: UpdateProfileInput!) {
  updateProfile(input: $input) { id email firstName lastName timezone }
}
"""
WRONG_PASSWORD = "is not this account's password"


async def profile_row(pg: asyncpg.Connection, account: Account) -> dict[str, Any]:
    row = await pg.fetchrow(
        'SELECT email, first_name, last_name, timezone FROM "user" WHERE id = $1',
        uuid.UUID(account.user_id),
    )
    assert row is not None
    return dict(row)


ORIGINAL = {"first_name": "Ada", "last_name": "Lovelace", "timezone": "Europe/London"}


def coded(error: dict[str, Any]) -> dict[str, Any]:
    return {"code": error["extensions"]["code"], "fields": error["extensions"].get("fields")}


async def test_update_profile_changes_names_and_time_zone(api: Api, pg: asyncpg.Connection) -> None:
    account = await api.sign_up()

    data = await api.data(
        UPDATE,
        {"input": {"firstName": "  Grace ", "lastName": "Hopper", "timezone": "America/New_York"}},
        account.access_token,
    )

    assert data == {
        "updateProfile": {
            "id": account.user_id,
            "email": account.email,
            "firstName": "Grace",
            "lastName": "Hopper",
            "timezone": "America/New_York",
        }
    }
    assert await profile_row(pg, account) == {
        "email": account.email,
        "first_name": "Grace",
        "last_name": "Hopper",
        "timezone": "America/New_York",
    }


async def test_fields_left_out_stay(api: Api, pg: asyncpg.Connection) -> None:
    account = await api.sign_up()

    await api.data(UPDATE, {"input": {"lastName": "Byron"}}, account.access_token)

    assert await profile_row(pg, account) == {
        "email": account.email,
        **ORIGINAL,
        "last_name": "Byron",
    }


async def test_update_profile_changes_the_email_with_the_password(
    api: Api, pg: asyncpg.Connection
) -> None:
    account = await api.sign_up()

    data = await api.data(
        UPDATE,
        {"input": {"email": " New.Address@Example.com ", "currentPassword": PASSWORD}},
        account.access_token,
    )

    assert data["updateProfile"]["email"] == "new.address@example.com"
    assert (await profile_row(pg, account))["email"] == "new.address@example.com"
    logged = await api.data(LOG_IN, {"email": "new.address@example.com", "password": PASSWORD})
    assert logged["logIn"]["user"]["id"] == account.user_id
    old = await api.error(LOG_IN, {"email": account.email, "password": PASSWORD})
    assert old["extensions"] == {"code": "UNAUTHENTICATED"}


async def test_the_accounts_own_email_needs_no_password(api: Api) -> None:
    account = await api.sign_up()

    data = await api.data(
        UPDATE, {"input": {"email": account.email.upper(), "firstName": "Al"}}, account.access_token
    )

    assert data["updateProfile"]["email"] == account.email
    assert data["updateProfile"]["firstName"] == "Al"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({}, "is required to change the e-mail"),
        ({"currentPassword": None}, "is required to change the e-mail"),
        ({"currentPassword": "wrong password!"}, WRONG_PASSWORD),
        ({"currentPassword": "x" * 10_000}, WRONG_PASSWORD),
    ],
    ids=["missing", "null", "wrong", "oversized"],
)
async def test_an_email_change_without_the_right_password_changes_nothing(
    api: Api, pg: asyncpg.Connection, extra: dict[str, Any], message: str
) -> None:
    account = await api.sign_up()

    error = await api.error(
        UPDATE,
        {"input": {"email": "new@example.com", "firstName": "Changed", **extra}},
        account.access_token,
    )

    assert coded(error) == {"code": "BAD_USER_INPUT", "fields": {"currentPassword": message}}
    assert await profile_row(pg, account) == {"email": account.email, **ORIGINAL}


async def test_another_accounts_email_is_a_conflict_and_changes_nothing(
    api: Api, pg: asyncpg.Connection
) -> None:
    account, other = await api.sign_up(), await api.sign_up()

    error = await api.error(
        UPDATE,
        {
            "input": {
                "email": other.email.upper(),
                "currentPassword": PASSWORD,
                "firstName": "Changed",
            }
        },
        account.access_token,
    )

    assert error["message"] == "An account with this e-mail already exists"
    assert coded(error) == {"code": "CONFLICT", "fields": {"email": "is already registered"}}
    assert await profile_row(pg, account) == {"email": account.email, **ORIGINAL}
    assert (await profile_row(pg, other))["email"] == other.email


@pytest.mark.parametrize(
    ("given", "fields"),
    [
        ({}, {"input": "must change at least one of firstName, lastName, timezone, email"}),
        (
            {"currentPassword": PASSWORD},
            {"input": "must change at least one of firstName, lastName, timezone, email"},
        ),
        ({"firstName": "   "}, {"firstName": "must not be empty"}),
        ({"firstName": None}, {"firstName": "is required"}),
        ({"firstName": "A" * 10_000}, {"firstName": "must be at most 100 characters"}),
        ({"lastName": "L" * 101}, {"lastName": "must be at most 100 characters"}),
        ({"lastName": "a\x00b"}, {"lastName": "must not contain control characters"}),
        (
            {"timezone": "Mars/Olympus"},
            {"timezone": "must be an IANA time zone such as Europe/Berlin"},
        ),
        (
            {"timezone": "T" * 10_000},
            {"timezone": "must be an IANA time zone such as Europe/Berlin"},
        ),
        ({"timezone": None}, {"timezone": "must not be null"}),
        ({"email": None}, {"email": "must not be null"}),
        ({"email": "not-an-address"}, {"email": "must be a valid e-mail address"}),
        ({"email": "a" * 10_000 + "@x.io"}, {"email": "must be a valid e-mail address"}),
        (
            {"firstName": "", "timezone": "Nowhere", "email": "nope"},
            {
                "firstName": "must not be empty",
                "timezone": "must be an IANA time zone such as Europe/Berlin",
                "email": "must be a valid e-mail address",
            },
        ),
    ],
    ids=[
        "empty",
        "only-password",
        "blank-name",
        "null-name",
        "10kB-name",
        "long-last-name",
        "control",
        "unknown-zone",
        "10kB-zone",
        "null-zone",
        "null-email",
        "bad-email",
        "10kB-email",
        "all-at-once",
    ],
)
async def test_bad_input_is_refused_field_by_field_and_changes_nothing(
    api: Api, pg: asyncpg.Connection, given: dict[str, Any], fields: dict[str, str]
) -> None:
    account = await api.sign_up()

    error = await api.error(UPDATE, {"input": given}, account.access_token)

    assert coded(error) == {"code": "BAD_USER_INPUT", "fields": fields}
    assert await profile_row(pg, account) == {"email": account.email, **ORIGINAL}


@pytest.mark.parametrize("token", [None, "", "not-a-jwt"], ids=["none", "empty", "garbage"])
async def test_update_profile_needs_a_valid_access_token(
    api: Api, pg: asyncpg.Connection, token: str | None
) -> None:
    account = await api.sign_up()
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}

    response = await api.client.post(
        "/graphql",
        json={"query": UPDATE, "variables": {"input": {"firstName": "Mallory"}}},
        headers=headers,
    )

    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await profile_row(pg, account) == {"email": account.email, **ORIGINAL}


async def test_a_logged_out_sessions_token_changes_nothing(
    api: Api, pg: asyncpg.Connection
) -> None:
    account = await api.sign_up()
    await api.data(LOG_OUT, {"refreshToken": account.refresh_token})

    error = await api.error(UPDATE, {"input": {"firstName": "Mallory"}}, account.access_token)

    assert error["message"] == "Token revoked"
    assert await profile_row(pg, account) == {"email": account.email, **ORIGINAL}


async def test_update_profile_changes_only_the_callers_account(
    api: Api, pg: asyncpg.Connection
) -> None:
    account, other = await api.sign_up(), await api.sign_up()

    await api.data(UPDATE, {"input": {"firstName": "Mine"}}, account.access_token)

    assert await profile_row(pg, other) == {"email": other.email, **ORIGINAL}
