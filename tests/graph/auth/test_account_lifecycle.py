"""The rest of a session's and an account's life: a refresh whose answer was lost, a password
change ending the other sessions, the GDPR export and the deletion of everything."""

from __future__ import annotations

import json
import uuid
from typing import Any

from graph.settings import ApiSettings
from tests.factories import Api, connect, make_settings, serve
from tests.graph.auth.support import (
    DELETE_ACCOUNT,
    EXPORT,
    LOG_IN,
    ME,
    PASSWORD,
    REFRESH,
    fill,
    fill_schedule,
    jti,
    rows_of,
)

CHANGE_PASSWORD = """
mutation Change($input: ChangePasswordInput!) { changePassword(input: $input) }
"""
NEW_PASSWORD = "a much longer new passphrase"


def refusal(body: dict[str, Any]) -> tuple[str, str]:
    (error,) = body["errors"]
    return error["extensions"]["code"], error["message"]


async def log_in(api: Api, email: str, password: str = PASSWORD) -> dict[str, Any]:
    return await api.post(LOG_IN, {"email": email, "password": password})


# A refresh whose answer was lost


async def test_a_refresh_retried_within_the_grace_window_gets_the_same_pair(
    api: Api, database_url: str
) -> None:
    account = await api.sign_up()
    first = (await api.data(REFRESH, {"refreshToken": account.refresh_token}))["refreshToken"]

    again = (await api.data(REFRESH, {"refreshToken": account.refresh_token}))["refreshToken"]

    assert again == first  # byte for byte: the client keeps either
    async with connect(database_url) as connection:
        live = await connection.fetchval(
            "SELECT count(*) FROM refresh_token WHERE revoked_at IS NULL AND user_id = $1",
            uuid.UUID(account.user_id),
        )
    assert live == 1
    assert (await api.data(ME, token=first["accessToken"]))["me"]["email"] == account.email
    following = await api.data(REFRESH, {"refreshToken": first["refreshToken"]})
    assert following["refreshToken"]["user"]["id"] == account.user_id


async def test_a_refresh_retried_after_the_grace_window_is_reuse(
    api: Api, database_url: str, settings: ApiSettings
) -> None:
    account = await api.sign_up()
    first = (await api.data(REFRESH, {"refreshToken": account.refresh_token}))["refreshToken"]
    async with connect(database_url) as connection:
        await connection.execute(
            "UPDATE refresh_token SET created_at = created_at - make_interval(secs => $2) "
            "WHERE jti = $1",
            jti(first["refreshToken"]),
            settings.refresh_grace_seconds + 1,
        )

    late = await api.post(REFRESH, {"refreshToken": account.refresh_token})

    assert refusal(late) == (
        "UNAUTHENTICATED",
        "Refresh token reused; every session of this login was revoked",
    )
    assert refusal(await api.post(ME, token=first["accessToken"])) == (
        "UNAUTHENTICATED",
        "Token revoked",
    )


async def test_a_refresh_retried_after_its_successor_was_used_is_reuse(api: Api) -> None:
    account = await api.sign_up()
    first = (await api.data(REFRESH, {"refreshToken": account.refresh_token}))["refreshToken"]
    second = (await api.data(REFRESH, {"refreshToken": first["refreshToken"]}))["refreshToken"]

    replayed = await api.post(REFRESH, {"refreshToken": account.refresh_token})

    assert refusal(replayed)[1] == "Refresh token reused; every session of this login was revoked"
    assert refusal(await api.post(ME, token=second["accessToken"]))[1] == "Token revoked"


async def test_without_a_grace_window_a_retried_refresh_is_reuse(
    database_url: str, redis_url: str
) -> None:
    settings = make_settings(database_url, redis_url, refresh_grace_seconds=0)
    async with serve(settings) as client:
        api = Api(client)
        account = await api.sign_up()
        await api.data(REFRESH, {"refreshToken": account.refresh_token})

        replayed = await api.post(REFRESH, {"refreshToken": account.refresh_token})

    assert refusal(replayed)[1] == "Refresh token reused; every session of this login was revoked"


# changePassword


async def test_change_password_ends_every_other_session_and_keeps_this_one(api: Api) -> None:
    account = await api.sign_up()
    other = (await log_in(api, account.email))["data"]["logIn"]
    third = (await log_in(api, account.email))["data"]["logIn"]

    data = await api.data(
        CHANGE_PASSWORD,
        {"input": {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}},
        account.access_token,
    )

    assert data == {"changePassword": 2}
    for ended in (other, third):
        assert refusal(await api.post(ME, token=ended["accessToken"])) == (
            "UNAUTHENTICATED",
            "Token revoked",
        )
        assert refusal(await api.post(REFRESH, {"refreshToken": ended["refreshToken"]})) == (
            "UNAUTHENTICATED",
            "Session ended",
        )
    assert (await api.data(ME, token=account.access_token))["me"]["email"] == account.email
    assert await api.data(REFRESH, {"refreshToken": account.refresh_token})
    assert refusal(await log_in(api, account.email)) == (
        "UNAUTHENTICATED",
        "Wrong e-mail or password",
    )
    assert (await log_in(api, account.email, NEW_PASSWORD))["data"]["logIn"]["user"]["id"] == (
        account.user_id
    )


async def test_change_password_with_a_wrong_current_password_changes_nothing(api: Api) -> None:
    account = await api.sign_up()
    other = (await log_in(api, account.email))["data"]["logIn"]

    body = await api.post(
        CHANGE_PASSWORD,
        {"input": {"currentPassword": "not the password", "newPassword": NEW_PASSWORD}},
        account.access_token,
    )

    (error,) = body["errors"]
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {"currentPassword": "is not this account's password"},
    }
    assert (await api.data(ME, token=other["accessToken"]))["me"]["email"] == account.email
    assert not (await log_in(api, account.email)).get("errors")


async def test_change_password_checks_the_new_password_and_its_size(api: Api) -> None:
    account = await api.sign_up()

    weak = await api.post(
        CHANGE_PASSWORD,
        {"input": {"currentPassword": PASSWORD, "newPassword": "short"}},
        account.access_token,
    )
    huge = await api.post(
        CHANGE_PASSWORD,
        {"input": {"currentPassword": "x" * 100_000, "newPassword": "y" * 100_000}},
        account.access_token,
    )

    assert weak["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert set(weak["errors"][0]["extensions"]["fields"]) == {"newPassword"}
    assert huge["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert set(huge["errors"][0]["extensions"]["fields"]) == {"currentPassword", "newPassword"}
    assert not (await log_in(api, account.email)).get("errors")


async def test_account_mutations_refuse_missing_and_bad_tokens(api: Api) -> None:
    account = await api.sign_up()
    calls: tuple[tuple[str, dict[str, Any]], ...] = (
        (CHANGE_PASSWORD, {"input": {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}}),
        (DELETE_ACCOUNT, {"password": PASSWORD}),
        (EXPORT, {}),
    )
    for document, variables in calls:
        for token in (None, account.refresh_token, account.access_token[:-2] + "xx"):
            body = await api.post(document, variables, token)
            assert refusal(body)[0] == "UNAUTHENTICATED", (document, token, body)
    assert not (await log_in(api, account.email)).get("errors")


async def test_password_checks_of_a_signed_in_user_are_rate_limited(
    database_url: str, redis_url: str
) -> None:
    settings = make_settings(database_url, redis_url, rate_limit_auth_email="2/600")
    async with serve(settings) as client:
        api = Api(client)
        # An address of its own: Redis keeps the sign-in buckets of earlier runs' addresses.
        account = await api.sign_up(f"limited-{uuid.uuid4().hex}@example.com")
        wrong = {"input": {"currentPassword": "guess", "newPassword": NEW_PASSWORD}}
        answers = [
            refusal(await api.post(CHANGE_PASSWORD, wrong, account.access_token))[0]
            for _ in range(2)
        ]
        answers.append(
            refusal(await api.post(DELETE_ACCOUNT, {"password": "guess"}, account.access_token))[0]
        )

    assert answers == ["BAD_USER_INPUT", "BAD_USER_INPUT", "RATE_LIMITED"]


# exportMyData


async def test_export_holds_every_row_of_the_user_and_nothing_of_others(
    api: Api, database_url: str
) -> None:
    account, other = await api.sign_up(), await api.sign_up()
    for user in (account, other):
        await fill(api, user)
        await fill_schedule(database_url, user)
    await log_in(api, account.email)  # a second session

    data = (await api.data(EXPORT, token=account.access_token))["exportMyData"]

    assert data["format"] == "englog-export/1"
    assert data["user"]["id"] == account.user_id
    assert data["user"]["email"] == account.email
    assert "password_hash" not in data["user"]
    counts = {key: len(value) for key, value in data.items() if isinstance(value, list)}
    assert counts == {
        "projects": 1,
        "tags": 2,  # "ops", and "deploy" made by the entry
        "log_entries": 1,
        "log_entry_tags": 2,
        "insights": 1,
        "tasks": 2,  # the insight's, and the entry's enrichment
        "events": counts["events"],
        "sessions": 2,
        "notifications": 1,
        "schedule_runs": 1,
    }
    assert counts["events"] >= 2  # the entry's and the insight's changes
    text = json.dumps(data)
    assert other.user_id not in text
    assert other.email not in text
    assert "$argon2" not in text
    for rows in (
        data["projects"],
        data["log_entries"],
        data["insights"],
        data["sessions"],
        data["notifications"],
        data["schedule_runs"],
    ):
        assert {row["user_id"] for row in rows} == {account.user_id}


# deleteAccount


async def test_delete_account_removes_every_row_of_the_user_and_only_theirs(
    api: Api, database_url: str
) -> None:
    account, other = await api.sign_up(), await api.sign_up()
    for user in (account, other):
        await fill(api, user)
        await fill_schedule(database_url, user)
    before_other = await rows_of(database_url, other.user_id)
    assert all((await rows_of(database_url, account.user_id)).values())

    data = await api.data(DELETE_ACCOUNT, {"password": PASSWORD}, account.access_token)

    assert data == {"deleteAccount": True}
    assert set((await rows_of(database_url, account.user_id)).values()) == {0}
    assert await rows_of(database_url, other.user_id) == before_other
    assert refusal(await api.post(ME, token=account.access_token)) == (
        "UNAUTHENTICATED",
        "Token revoked",
    )
    assert refusal(await log_in(api, account.email)) == (
        "UNAUTHENTICATED",
        "Wrong e-mail or password",
    )
    assert (await api.data(ME, token=other.access_token))["me"]["email"] == other.email


async def test_delete_account_with_a_wrong_password_deletes_nothing(
    api: Api, database_url: str
) -> None:
    account = await api.sign_up()
    await fill(api, account)
    before = await rows_of(database_url, account.user_id)

    wrong = await api.post(DELETE_ACCOUNT, {"password": "not it"}, account.access_token)
    huge = await api.post(DELETE_ACCOUNT, {"password": "p" * 100_000}, account.access_token)

    for body in (wrong, huge):
        (error,) = body["errors"]
        assert error["extensions"] == {
            "code": "BAD_USER_INPUT",
            "fields": {"password": "is not this account's password"},
        }
    assert await rows_of(database_url, account.user_id) == before
