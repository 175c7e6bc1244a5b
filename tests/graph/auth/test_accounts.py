"""Accounts through the real app: signUp, logIn, me, refresh-token rotation and logOut."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any

import pytest
from jose import jwt

from graph.settings import ApiSettings
from tests.factories import Api
from tests.graph.auth.support import LOG_IN, LOG_OUT, ME, PASSWORD, REFRESH, SIGN_UP, connect, jti


def sign_up_input(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "email": "grace@example.com",
        "password": PASSWORD,
        "firstName": "Grace",
        "lastName": "Hopper",
        "timezone": "America/New_York",
    }
    values.update(overrides)
    return values


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    """The one error of a failed response whose data is null, without its source locations."""
    assert body["data"] is None, body
    assert len(body["errors"]) == 1, body["errors"]
    error = dict(body["errors"][0])
    error.pop("locations", None)
    return error


def claims(token: str, settings: ApiSettings) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(token, settings.jwt_secret, algorithms=["HS256"])
    return decoded


async def refresh_rows(database_url: str, user_id: str) -> dict[uuid.UUID, dict[str, Any]]:
    async with connect(database_url) as connection:
        rows = await connection.fetch(
            "SELECT jti, family_id, user_id, revoked_at, replaced_by FROM refresh_token"
            " WHERE user_id = $1",
            uuid.UUID(user_id),
        )
    return {row["jti"]: dict(row) for row in rows}


async def row_counts(database_url: str) -> dict[str, int]:
    async with connect(database_url) as connection:
        return {
            "user": await connection.fetchval('SELECT count(*) FROM "user"'),
            "refresh_token": await connection.fetchval("SELECT count(*) FROM refresh_token"),
        }


# signUp


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


# logIn


async def test_log_in_returns_a_new_session_for_the_account(
    api: Api, settings: ApiSettings
) -> None:
    signed_up = (await api.data(SIGN_UP, {"input": sign_up_input()}))["signUp"]

    data = await api.data(LOG_IN, {"email": "grace@example.com", "password": PASSWORD})

    payload = data["logIn"]
    assert payload == {
        "accessToken": payload["accessToken"],
        "refreshToken": payload["refreshToken"],
        "expiresIn": 900,
        "tokenType": "Bearer",
        "user": signed_up["user"],
    }
    assert payload["refreshToken"] != signed_up["refreshToken"]
    assert claims(payload["accessToken"], settings)["typ"] == "access"
    me = await api.data(ME, token=payload["accessToken"])
    assert me == {"me": {"id": signed_up["user"]["id"], "email": "grace@example.com"}}


async def test_log_in_ignores_the_case_of_the_email(api: Api) -> None:
    signed_up = (await api.data(SIGN_UP, {"input": sign_up_input()}))["signUp"]

    data = await api.data(LOG_IN, {"email": "GRACE@Example.COM", "password": PASSWORD})

    assert data["logIn"]["user"]["id"] == signed_up["user"]["id"]
    assert data["logIn"]["user"]["email"] == "grace@example.com"


async def test_log_in_refuses_a_wrong_password_and_an_unknown_email_alike(
    api: Api, database_url: str
) -> None:
    await api.data(SIGN_UP, {"input": sign_up_input()})

    wrong_password = await api.post(
        LOG_IN, {"email": "grace@example.com", "password": "wrong horse battery"}
    )
    unknown_email = await api.post(LOG_IN, {"email": "nobody@example.com", "password": PASSWORD})

    expected = {
        "message": "Wrong e-mail or password",
        "path": ["logIn"],
        "extensions": {"code": "UNAUTHENTICATED"},
    }
    assert only_error(wrong_password) == expected
    assert only_error(unknown_email) == expected
    assert wrong_password == unknown_email
    assert await row_counts(database_url) == {"user": 1, "refresh_token": 1}


async def test_log_in_refuses_an_overlong_password_like_a_wrong_one(api: Api) -> None:
    await api.data(SIGN_UP, {"input": sign_up_input()})

    body = await api.post(LOG_IN, {"email": "grace@example.com", "password": "p" * 10_000})

    assert only_error(body) == {
        "message": "Wrong e-mail or password",
        "path": ["logIn"],
        "extensions": {"code": "UNAUTHENTICATED"},
    }


async def test_log_in_with_a_nul_in_the_email_is_refused_as_unauthenticated(api: Api) -> None:
    """Found by the property tests: PostgreSQL text cannot hold a NUL."""
    await api.sign_up("ada@example.com")
    error = await api.error(
        "mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { accessToken } }",
        {"e": "ada\x00@example.com", "p": "correct horse battery"},
    )
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}


async def test_log_in_updates_last_login_at(api: Api, database_url: str) -> None:
    user_id = (await api.data(SIGN_UP, {"input": sign_up_input()}))["signUp"]["user"]["id"]
    async with connect(database_url) as connection:
        await connection.execute(
            """UPDATE "user" SET last_login_at = '2020-01-01T00:00:00Z' WHERE id = $1""",
            uuid.UUID(user_id),
        )
        before = await connection.fetchval("SELECT now()")

    await api.data(LOG_IN, {"email": "grace@example.com", "password": PASSWORD})

    async with connect(database_url) as connection:
        last_login = await connection.fetchval(
            'SELECT last_login_at FROM "user" WHERE id = $1', uuid.UUID(user_id)
        )
        after = await connection.fetchval("SELECT now()")
    assert before <= last_login <= after


async def test_failed_log_in_leaves_last_login_at_alone(api: Api, database_url: str) -> None:
    user_id = (await api.data(SIGN_UP, {"input": sign_up_input()}))["signUp"]["user"]["id"]
    async with connect(database_url) as connection:
        await connection.execute(
            """UPDATE "user" SET last_login_at = '2020-01-01T00:00:00Z' WHERE id = $1""",
            uuid.UUID(user_id),
        )

    await api.post(LOG_IN, {"email": "grace@example.com", "password": "wrong horse battery"})

    async with connect(database_url) as connection:
        last_login = await connection.fetchval(
            'SELECT last_login_at FROM "user" WHERE id = $1', uuid.UUID(user_id)
        )
    assert last_login == datetime.fromisoformat("2020-01-01T00:00:00+00:00")


async def test_each_log_in_starts_its_own_token_family(api: Api, database_url: str) -> None:
    signed_up = (await api.data(SIGN_UP, {"input": sign_up_input()}))["signUp"]

    logged_in = (await api.data(LOG_IN, {"email": "grace@example.com", "password": PASSWORD}))[
        "logIn"
    ]

    rows = await refresh_rows(database_url, signed_up["user"]["id"])
    first, second = jti(signed_up["refreshToken"]), jti(logged_in["refreshToken"])
    assert set(rows) == {first, second}
    assert rows[first]["family_id"] != rows[second]["family_id"]
    assert [rows[first]["revoked_at"], rows[second]["revoked_at"]] == [None, None]


# me


async def test_me_without_a_token_is_unauthenticated(api: Api) -> None:
    body = await api.post(ME)

    assert only_error(body) == {
        "message": "Authentication required",
        "path": ["me"],
        "extensions": {"code": "UNAUTHENTICATED"},
    }


async def test_me_returns_the_whole_user(api: Api) -> None:
    signed_up = (await api.data(SIGN_UP, {"input": sign_up_input()}))["signUp"]

    data = await api.data(
        "{ me { id email firstName lastName timezone createdAt } }",
        token=signed_up["accessToken"],
    )

    assert data == {"me": signed_up["user"]}


async def test_me_with_a_token_of_a_deleted_account_is_unauthenticated(
    api: Api, database_url: str
) -> None:
    signed_up = (await api.data(SIGN_UP, {"input": sign_up_input()}))["signUp"]
    async with connect(database_url) as connection:
        await connection.execute('DELETE FROM "user"')

    body = await api.post(ME, token=signed_up["accessToken"])

    assert only_error(body) == {
        "message": "The account of this token no longer exists",
        "path": ["me"],
        "extensions": {"code": "UNAUTHENTICATED"},
    }


# refreshToken


async def test_refresh_token_returns_a_working_new_pair(api: Api, settings: ApiSettings) -> None:
    signed_up = (await api.data(SIGN_UP, {"input": sign_up_input()}))["signUp"]

    data = await api.data(REFRESH, {"refreshToken": signed_up["refreshToken"]})

    payload = data["refreshToken"]
    assert payload == {
        "accessToken": payload["accessToken"],
        "refreshToken": payload["refreshToken"],
        "expiresIn": 900,
        "tokenType": "Bearer",
        "user": {"id": signed_up["user"]["id"], "email": "grace@example.com"},
    }
    assert payload["refreshToken"] != signed_up["refreshToken"]
    assert payload["accessToken"] != signed_up["accessToken"]
    assert claims(payload["refreshToken"], settings)["typ"] == "refresh"
    me = await api.data(ME, token=payload["accessToken"])
    assert me == {"me": {"id": signed_up["user"]["id"], "email": "grace@example.com"}}
    again = await api.data(REFRESH, {"refreshToken": payload["refreshToken"]})
    assert again["refreshToken"]["user"]["id"] == signed_up["user"]["id"]


async def test_refresh_token_links_the_used_token_to_its_successor(
    api: Api, database_url: str
) -> None:
    signed_up = (await api.data(SIGN_UP, {"input": sign_up_input()}))["signUp"]

    rotated = (await api.data(REFRESH, {"refreshToken": signed_up["refreshToken"]}))["refreshToken"]

    rows = await refresh_rows(database_url, signed_up["user"]["id"])
    old, new = jti(signed_up["refreshToken"]), jti(rotated["refreshToken"])
    assert set(rows) == {old, new}
    assert rows[old]["replaced_by"] == new
    assert rows[old]["revoked_at"] is not None
    assert rows[new]["replaced_by"] is None
    assert rows[new]["revoked_at"] is None
    assert rows[new]["family_id"] == rows[old]["family_id"]


async def test_refresh_token_reused_revokes_the_whole_family(api: Api, database_url: str) -> None:
    signed_up = (await api.data(SIGN_UP, {"input": sign_up_input()}))["signUp"]
    other_login = (await api.data(LOG_IN, {"email": "grace@example.com", "password": PASSWORD}))[
        "logIn"
    ]
    second = (await api.data(REFRESH, {"refreshToken": signed_up["refreshToken"]}))["refreshToken"]
    third = (await api.data(REFRESH, {"refreshToken": second["refreshToken"]}))["refreshToken"]

    reused = await api.post(REFRESH, {"refreshToken": signed_up["refreshToken"]})

    assert only_error(reused) == {
        "message": "Refresh token reused; every session of this login was revoked",
        "path": ["refreshToken"],
        "extensions": {"code": "UNAUTHENTICATED"},
    }
    newest = await api.post(REFRESH, {"refreshToken": third["refreshToken"]})
    assert only_error(newest) == {
        "message": "Session ended",
        "path": ["refreshToken"],
        "extensions": {"code": "UNAUTHENTICATED"},
    }
    rows = await refresh_rows(database_url, signed_up["user"]["id"])
    family = rows[jti(signed_up["refreshToken"])]["family_id"]
    assert {
        token_id: row["revoked_at"] is not None
        for token_id, row in rows.items()
        if row["family_id"] == family
    } == {
        jti(signed_up["refreshToken"]): True,
        jti(second["refreshToken"]): True,
        jti(third["refreshToken"]): True,
    }
    assert rows[jti(third["refreshToken"])]["replaced_by"] is None
    assert rows[jti(other_login["refreshToken"])]["revoked_at"] is None
    survivor = await api.data(REFRESH, {"refreshToken": other_login["refreshToken"]})
    assert survivor["refreshToken"]["user"] == {
        "id": signed_up["user"]["id"],
        "email": "grace@example.com",
    }


async def test_concurrent_refreshes_of_one_token_rotate_it_once_and_both_get_the_same_pair(
    api: Api, database_url: str
) -> None:
    # Two tabs refreshing at once: the second waits for the first's row lock, then finds
    # the token rotated moments ago with its successor unused (the grace window).
    signed_up = (await api.data(SIGN_UP, {"input": sign_up_input()}))["signUp"]

    bodies = await asyncio.gather(
        *(api.post(REFRESH, {"refreshToken": signed_up["refreshToken"]}) for _ in range(2))
    )

    first, second = (body["data"]["refreshToken"] for body in bodies)
    assert first == second
    rows = await refresh_rows(database_url, signed_up["user"]["id"])
    assert len(rows) == 2
    assert rows[jti(signed_up["refreshToken"])]["replaced_by"] == jti(first["refreshToken"])
    assert rows[jti(first["refreshToken"])]["revoked_at"] is None


async def test_refresh_token_of_an_unknown_session_is_refused(
    api: Api, settings: ApiSettings, database_url: str
) -> None:
    signed_up = (await api.data(SIGN_UP, {"input": sign_up_input()}))["signUp"]
    async with connect(database_url) as connection:
        await connection.execute("DELETE FROM refresh_token")

    body = await api.post(REFRESH, {"refreshToken": signed_up["refreshToken"]})

    assert only_error(body) == {
        "message": "Invalid token",
        "path": ["refreshToken"],
        "extensions": {"code": "UNAUTHENTICATED"},
    }
    assert await row_counts(database_url) == {"user": 1, "refresh_token": 0}


# logOut


async def test_log_out_ends_the_session_of_the_refresh_token(api: Api, database_url: str) -> None:
    signed_up = (await api.data(SIGN_UP, {"input": sign_up_input()}))["signUp"]
    rotated = (await api.data(REFRESH, {"refreshToken": signed_up["refreshToken"]}))["refreshToken"]

    data = await api.data(LOG_OUT, {"refreshToken": rotated["refreshToken"]})

    assert data == {"logOut": True}
    body = await api.post(REFRESH, {"refreshToken": rotated["refreshToken"]})
    assert only_error(body) == {
        "message": "Session ended",
        "path": ["refreshToken"],
        "extensions": {"code": "UNAUTHENTICATED"},
    }
    rows = await refresh_rows(database_url, signed_up["user"]["id"])
    new = jti(rotated["refreshToken"])
    assert rows[new]["revoked_at"] is not None
    assert rows[new]["replaced_by"] is None
    assert rows[jti(signed_up["refreshToken"])]["replaced_by"] == new


async def test_log_out_leaves_other_logins_of_the_user_working(api: Api, database_url: str) -> None:
    signed_up = (await api.data(SIGN_UP, {"input": sign_up_input()}))["signUp"]
    other_login = (await api.data(LOG_IN, {"email": "grace@example.com", "password": PASSWORD}))[
        "logIn"
    ]

    assert await api.data(LOG_OUT, {"refreshToken": signed_up["refreshToken"]}) == {"logOut": True}

    rows = await refresh_rows(database_url, signed_up["user"]["id"])
    assert rows[jti(signed_up["refreshToken"])]["revoked_at"] is not None
    assert rows[jti(other_login["refreshToken"])]["revoked_at"] is None
    survivor = await api.data(REFRESH, {"refreshToken": other_login["refreshToken"]})
    assert survivor["refreshToken"]["user"]["id"] == signed_up["user"]["id"]


async def test_log_out_refuses_an_access_token(api: Api, database_url: str) -> None:
    signed_up = (await api.data(SIGN_UP, {"input": sign_up_input()}))["signUp"]

    body = await api.post(LOG_OUT, {"refreshToken": signed_up["accessToken"]})

    assert only_error(body) == {
        "message": "Invalid token",
        "path": ["logOut"],
        "extensions": {"code": "UNAUTHENTICATED"},
    }
    rows = await refresh_rows(database_url, signed_up["user"]["id"])
    assert [row["revoked_at"] for row in rows.values()] == [None]
