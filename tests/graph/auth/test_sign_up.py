"""signUp through the real app: the session it answers, what it stores, what it refuses."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest

from graph.settings import ApiSettings
from tests.factories import Api, connect, only_error
from tests.graph.auth.support import (
    LOG_IN,
    ME,
    PASSWORD,
    SIGN_UP,
    claims,
    jti,
    refresh_rows,
    row_counts,
    sign_up_input,
)


async def test_sign_up_returns_a_bearer_session_for_the_new_user(
    api: Api, settings: ApiSettings, database_url: str
) -> None:
    data = await api.data(SIGN_UP, {"input": sign_up_input()})

    payload = data["signUp"]
    async with connect(database_url) as connection:
        row = await connection.fetchrow('SELECT * FROM "user"')
    assert row is not None
    assert payload == {
        "accessToken": payload["accessToken"],
        "refreshToken": payload["refreshToken"],
        "expiresIn": 900,
        "tokenType": "Bearer",
        "user": {
            "id": str(row["id"]),
            "email": "grace@example.com",
            "firstName": "Grace",
            "lastName": "Hopper",
            "timezone": "America/New_York",
            "createdAt": payload["user"]["createdAt"],
        },
    }
    assert datetime.fromisoformat(payload["user"]["createdAt"]) == row["created_at"]
    access = claims(payload["accessToken"], settings)
    refresh = claims(payload["refreshToken"], settings)
    assert (access["sub"], access["typ"], access["exp"] - access["iat"]) == (
        str(row["id"]),
        "access",
        900,
    )
    assert (refresh["sub"], refresh["typ"]) == (str(row["id"]), "refresh")
    assert refresh["jti"] != access["jti"]
    assert row["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in row["password_hash"]


async def test_sign_up_access_token_authenticates_me(api: Api) -> None:
    data = await api.data(SIGN_UP, {"input": sign_up_input()})
    payload = data["signUp"]

    me = await api.data(ME, token=payload["accessToken"])

    assert me == {"me": {"id": payload["user"]["id"], "email": "grace@example.com"}}


async def test_sign_up_records_one_live_refresh_token(api: Api, database_url: str) -> None:
    data = await api.data(SIGN_UP, {"input": sign_up_input()})
    payload = data["signUp"]

    rows = await refresh_rows(database_url, payload["user"]["id"])

    token_id = jti(payload["refreshToken"])
    assert list(rows) == [token_id]
    assert rows[token_id]["revoked_at"] is None
    assert rows[token_id]["replaced_by"] is None
    assert rows[token_id]["user_id"] == uuid.UUID(payload["user"]["id"])


async def test_sign_up_stores_the_email_lower_cased(api: Api, database_url: str) -> None:
    data = await api.data(SIGN_UP, {"input": sign_up_input(email="  Grace.Hopper@Example.COM ")})

    assert data["signUp"]["user"]["email"] == "grace.hopper@example.com"
    async with connect(database_url) as connection:
        stored = await connection.fetch('SELECT email FROM "user"')
    assert [row["email"] for row in stored] == ["grace.hopper@example.com"]


async def test_sign_up_timezone_defaults_to_utc(api: Api) -> None:
    values = sign_up_input()
    del values["timezone"]

    data = await api.data(SIGN_UP, {"input": values})

    assert data["signUp"]["user"]["timezone"] == "UTC"


async def test_sign_up_rejects_an_email_registered_in_another_case(
    api: Api, database_url: str
) -> None:
    await api.data(SIGN_UP, {"input": sign_up_input(email="grace@example.com")})

    body = await api.post(SIGN_UP, {"input": sign_up_input(email="GRACE@Example.Com")})

    assert only_error(body) == {
        "message": "An account with this e-mail already exists",
        "path": ["signUp"],
        "extensions": {"code": "CONFLICT", "fields": {"email": "is already registered"}},
    }
    assert await row_counts(database_url) == {"user": 1, "refresh_token": 1}


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        pytest.param(
            {"email": "not-an-email"}, {"email": "must be a valid e-mail address"}, id="email-no-at"
        ),
        pytest.param(
            {"email": "grace@example"},
            {"email": "must be a valid e-mail address"},
            id="email-no-dot",
        ),
        pytest.param(
            {"email": "gr ace@example.com"},
            {"email": "must be a valid e-mail address"},
            id="email-space",
        ),
        pytest.param(
            {"email": "g" * 250 + "@example.com"},
            {"email": "must be a valid e-mail address"},
            id="email-too-long",
        ),
        pytest.param(
            {"password": "seven77"},
            {"password": "must be at least 8 characters"},
            id="password-weak",
        ),
        pytest.param(
            {"password": ""}, {"password": "must be at least 8 characters"}, id="password-empty"
        ),
        pytest.param(
            {"password": "p" * 129},
            {"password": "must be at most 128 characters"},
            id="password-too-long",
        ),
        pytest.param({"firstName": ""}, {"firstName": "must not be empty"}, id="first-name-empty"),
        pytest.param(
            {"firstName": "   "}, {"firstName": "must not be empty"}, id="first-name-blank"
        ),
        pytest.param(
            {"firstName": "G" * 101},
            {"firstName": "must be at most 100 characters"},
            id="first-name-too-long",
        ),
        pytest.param({"lastName": ""}, {"lastName": "must not be empty"}, id="last-name-empty"),
        pytest.param(
            {"lastName": "H" * 101},
            {"lastName": "must be at most 100 characters"},
            id="last-name-too-long",
        ),
        pytest.param(
            {"timezone": "Mars/Olympus"},
            {"timezone": "must be an IANA time zone such as Europe/Berlin"},
            id="timezone-unknown",
        ),
        pytest.param(
            {"timezone": ""},
            {"timezone": "must be an IANA time zone such as Europe/Berlin"},
            id="timezone-empty",
        ),
    ],
)
async def test_sign_up_rejects_invalid_input_and_writes_nothing(
    api: Api, database_url: str, overrides: dict[str, Any], fields: dict[str, str]
) -> None:
    body = await api.post(SIGN_UP, {"input": sign_up_input(**overrides)})

    (field, text), *_ = fields.items()
    assert only_error(body) == {
        "message": f"Invalid input: {field}: {text}",
        "path": ["signUp"],
        "extensions": {"code": "BAD_USER_INPUT", "fields": fields},
    }
    assert await row_counts(database_url) == {"user": 0, "refresh_token": 0}


async def test_sign_up_lists_every_invalid_field_in_one_answer(api: Api, database_url: str) -> None:
    values = sign_up_input(
        email="nope", password="short", firstName="", lastName="H" * 101, timezone="Mars/Olympus"
    )

    body = await api.post(SIGN_UP, {"input": values})

    assert only_error(body) == {
        "message": "Invalid input: email: must be a valid e-mail address (and 4 more)",
        "path": ["signUp"],
        "extensions": {
            "code": "BAD_USER_INPUT",
            "fields": {
                "email": "must be a valid e-mail address",
                "password": "must be at least 8 characters",
                "firstName": "must not be empty",
                "lastName": "must be at most 100 characters",
                "timezone": "must be an IANA time zone such as Europe/Berlin",
            },
        },
    }
    assert await row_counts(database_url) == {"user": 0, "refresh_token": 0}


async def test_sign_up_accepts_values_at_the_limits(api: Api) -> None:
    values = sign_up_input(password="p" * 128, firstName="G" * 100, lastName="H" * 100)

    data = await api.data(SIGN_UP, {"input": values})

    user = data["signUp"]["user"]
    assert (user["firstName"], user["lastName"]) == ("G" * 100, "H" * 100)
    login = await api.data(LOG_IN, {"email": "grace@example.com", "password": "p" * 128})
    assert login["logIn"]["user"]["id"] == user["id"]
