"""refreshToken rotation (reuse revokes the family, concurrent refreshes agree) and logOut."""

from __future__ import annotations

import asyncio

from graph.settings import ApiSettings
from tests.factories import Api, connect, only_error
from tests.graph.auth.support import (
    LOG_IN,
    LOG_OUT,
    ME,
    PASSWORD,
    REFRESH,
    SIGN_UP,
    claims,
    jti,
    refresh_rows,
    row_counts,
    sign_up_input,
)


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
