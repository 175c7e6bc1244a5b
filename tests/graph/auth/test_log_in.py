"""logIn and me through the real app: sessions, refusals that tell nothing, last_login_at."""

from __future__ import annotations

import uuid
from datetime import datetime

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
