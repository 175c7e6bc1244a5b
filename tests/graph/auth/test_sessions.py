"""Sessions (logins, i.e. refresh-token families) through the real app: listed with their
device, ended one at a time or all but the caller's, and only ever the caller's own."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
import httpx
import pytest
from jose import jwt

from graph.settings import ApiSettings
from tests.factories import Account, Api, access_claims
from tests.graph.auth.support import LOG_IN, ME, PASSWORD, REFRESH

SESSIONS = "{ sessions { id device createdAt lastUsedAt current } }"
END = "mutation($id: ID!) { endSession(id: $id) }"
END_OTHERS = "mutation { endOtherSessions }"
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
FIREFOX_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:133.0) Gecko/20100101 Firefox/133.0"
NOT_FOUND = {
    "code": "NOT_FOUND",
    "fields": {"id": "is not a session of this account"},
}


def family(token: str) -> str:
    return str(jwt.get_unverified_claims(token)["fam"])


async def log_in(api: Api, account: Account, user_agent: str | None) -> dict[str, Any]:
    """Another login of the account, from this User-Agent (or none): its tokens."""
    headers = {"User-Agent": user_agent} if user_agent is not None else {}
    response = await api.client.post(
        "/graphql",
        json={"query": LOG_IN, "variables": {"email": account.email, "password": PASSWORD}},
        headers=headers,
    )
    payload: dict[str, Any] = response.json()["data"]["logIn"]
    return payload


async def sessions(api: Api, token: str) -> list[dict[str, Any]]:
    data = await api.data(SESSIONS, token=token)
    result: list[dict[str, Any]] = data["sessions"]
    return result


async def unauthenticated(api: Api, token: str) -> str:
    error = await api.error(ME, token=token)
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    return str(error["message"])


async def test_sessions_lists_each_login_with_its_device_and_the_current_one_first(
    api: Api,
) -> None:
    account = await api.sign_up()
    chrome = await log_in(api, account, CHROME)
    firefox = await log_in(api, account, FIREFOX_MAC)

    listed = await sessions(api, chrome["accessToken"])

    assert [(s["id"], s["device"], s["current"]) for s in listed] == [
        (family(chrome["accessToken"]), "Chrome on Linux", True),
        (family(firefox["accessToken"]), "Firefox on macOS", False),
        (family(account.access_token), "python-httpx", False),
    ]
    for session in listed:
        assert session["createdAt"] == session["lastUsedAt"]
        assert datetime.fromisoformat(session["createdAt"]).utcoffset() is not None
    mine = await sessions(api, firefox["accessToken"])
    assert [s["current"] for s in mine] == [True, False, False]
    assert mine[0]["id"] == family(firefox["accessToken"])


async def test_a_login_without_a_user_agent_is_an_unknown_device(api: Api) -> None:
    account = await api.sign_up()
    bare = await log_in(api, account, "")

    listed = await sessions(api, bare["accessToken"])

    assert (listed[0]["device"], listed[0]["current"]) == ("Unknown device", True)


async def test_an_oversized_user_agent_is_summarised(api: Api, pg: asyncpg.Connection) -> None:
    account = await api.sign_up()
    huge = await log_in(api, account, "Z" * 10_000)

    listed = await sessions(api, huge["accessToken"])

    assert listed[0]["device"] == "Z" * 40
    longest = await pg.fetchval("SELECT max(char_length(device)) FROM refresh_token")
    assert longest == 40


async def test_a_refresh_keeps_the_session_and_moves_its_last_use(
    api: Api, pg: asyncpg.Connection, settings: ApiSettings
) -> None:
    account = await api.sign_up()
    chrome = await log_in(api, account, CHROME)
    before = await sessions(api, chrome["accessToken"])
    # The login is an hour old, so its refresh is visibly later.
    await pg.execute(
        "UPDATE refresh_token SET created_at = created_at - interval '1 hour', "
        "signed_in_at = signed_in_at - interval '1 hour'"
    )

    refreshed = await api.data(REFRESH, {"refreshToken": chrome["refreshToken"]})

    token = refreshed["refreshToken"]["accessToken"]
    after = await sessions(api, token)
    assert len(after) == 2
    ours = after[0]
    assert (ours["id"], ours["device"], ours["current"]) == (
        family(chrome["accessToken"]),
        "Chrome on Linux",
        True,
    )
    signed_in = datetime.fromisoformat(before[0]["createdAt"])
    assert (signed_in - datetime.fromisoformat(ours["createdAt"])).total_seconds() == 3600
    assert datetime.fromisoformat(ours["lastUsedAt"]) > datetime.fromisoformat(ours["createdAt"])
    assert settings.refresh_token_ttl_seconds > 3600


async def test_a_session_kept_alive_past_its_first_tokens_keeps_its_sign_in_time(
    api: Api, pg: asyncpg.Connection
) -> None:
    account = await api.sign_up()
    first = await sessions(api, account.access_token)
    refreshed = await api.data(REFRESH, {"refreshToken": account.refresh_token})
    # The cleanup deletes expired tokens: the login's first one is gone.
    await pg.execute("DELETE FROM refresh_token WHERE revoked_at IS NOT NULL")

    listed = await sessions(api, refreshed["refreshToken"]["accessToken"])

    assert listed[0]["createdAt"] == first[0]["createdAt"]


async def test_sessions_shows_no_ended_or_expired_login(api: Api, pg: asyncpg.Connection) -> None:
    account = await api.sign_up()
    ended = await log_in(api, account, CHROME)
    expired = await log_in(api, account, FIREFOX_MAC)
    await api.data(END, {"id": family(ended["accessToken"])}, account.access_token)
    await pg.execute(
        "UPDATE refresh_token SET expires_at = now() - interval '1 second' WHERE family_id = $1",
        uuid.UUID(family(expired["accessToken"])),
    )

    listed = await sessions(api, account.access_token)

    assert [s["id"] for s in listed] == [family(account.access_token)]


async def test_sessions_are_only_the_callers(api: Api) -> None:
    account, other = await api.sign_up(), await api.sign_up()
    await log_in(api, other, CHROME)

    listed = await sessions(api, account.access_token)

    assert [s["id"] for s in listed] == [family(account.access_token)]


async def test_the_refresh_cookie_names_the_current_session_when_the_token_does_not(
    api: Api, settings: ApiSettings
) -> None:
    account = await api.sign_up()
    await log_in(api, account, CHROME)
    # An access token of no session (no `fam` claim), as an older version issued them.
    bare = jwt.encode(access_claims(account.user_id), settings.jwt_secret, algorithm="HS256")
    api.client.cookies.set("englog_refresh", account.refresh_token, domain="englog.test")

    listed = await sessions(api, bare)

    assert next((s["id"], s["current"]) for s in listed) == (family(account.access_token), True)
    assert [s["current"] for s in listed] == [True, False]


async def test_another_users_refresh_cookie_is_not_the_current_session(
    api: Api, settings: ApiSettings
) -> None:
    account, other = await api.sign_up(), await api.sign_up()
    bare = jwt.encode(access_claims(account.user_id), settings.jwt_secret, algorithm="HS256")
    api.client.cookies.set("englog_refresh", other.refresh_token, domain="englog.test")

    listed = await sessions(api, bare)

    assert [(s["id"], s["current"]) for s in listed] == [(family(account.access_token), False)]


# endSession


async def test_end_session_ends_another_login_of_the_caller(
    api: Api, pg: asyncpg.Connection
) -> None:
    account = await api.sign_up()
    laptop = await log_in(api, account, CHROME)

    data = await api.data(END, {"id": family(laptop["accessToken"])}, account.access_token)

    assert data == {"endSession": True}
    assert await unauthenticated(api, laptop["accessToken"]) == "Token revoked"
    refused = await api.error(REFRESH, {"refreshToken": laptop["refreshToken"]})
    assert refused["message"] == "Session ended"
    live = await pg.fetchval(
        "SELECT count(*) FROM refresh_token WHERE family_id = $1 AND revoked_at IS NULL",
        uuid.UUID(family(laptop["accessToken"])),
    )
    assert live == 0
    assert await api.data(ME, token=account.access_token) == {
        "me": {"id": account.user_id, "email": account.email}
    }
    again = await api.error(END, {"id": family(laptop["accessToken"])}, account.access_token)
    assert {"code": again["extensions"]["code"], "fields": again["extensions"]["fields"]} == (
        NOT_FOUND
    )


async def test_end_session_may_end_the_callers_own(api: Api) -> None:
    account = await api.sign_up()

    data = await api.data(END, {"id": family(account.access_token)}, account.access_token)

    assert data == {"endSession": True}
    assert await unauthenticated(api, account.access_token) == "Token revoked"


async def test_end_session_of_another_users_session_is_not_found_and_leaves_it(
    api: Api, pg: asyncpg.Connection
) -> None:
    account, victim = await api.sign_up(), await api.sign_up()
    rows = "SELECT jti, revoked_at FROM refresh_token WHERE user_id = $1 ORDER BY jti"
    before = await pg.fetch(rows, uuid.UUID(victim.user_id))

    error = await api.error(END, {"id": family(victim.access_token)}, account.access_token)

    assert error["message"] == "Session not found"
    assert {"code": error["extensions"]["code"], "fields": error["extensions"]["fields"]} == (
        NOT_FOUND
    )
    assert await pg.fetch(rows, uuid.UUID(victim.user_id)) == before
    assert (await api.data(ME, token=victim.access_token))["me"]["id"] == victim.user_id
    refreshed = await api.data(REFRESH, {"refreshToken": victim.refresh_token})
    assert refreshed["refreshToken"]["user"]["id"] == victim.user_id


@pytest.mark.parametrize(
    "session_id",
    ["00000000-0000-4000-8000-000000000000", "not-a-uuid", "", "f" * 10_000],
    ids=["unknown", "malformed", "empty", "10kB"],
)
async def test_end_session_of_no_such_session_is_not_found(api: Api, session_id: str) -> None:
    account = await api.sign_up()

    error = await api.error(END, {"id": session_id}, account.access_token)

    assert {"code": error["extensions"]["code"], "fields": error["extensions"]["fields"]} == (
        NOT_FOUND
    )
    assert (await api.data(ME, token=account.access_token))["me"]["id"] == account.user_id


# endOtherSessions


async def test_end_other_sessions_ends_every_login_but_the_callers(
    api: Api, pg: asyncpg.Connection
) -> None:
    account = await api.sign_up()
    others = [await log_in(api, account, CHROME), await log_in(api, account, FIREFOX_MAC)]
    bystander = await api.sign_up()

    data = await api.data(END_OTHERS, token=account.access_token)

    assert data == {"endOtherSessions": 2}
    for other in others:
        assert await unauthenticated(api, other["accessToken"]) == "Token revoked"
        refused = await api.error(REFRESH, {"refreshToken": other["refreshToken"]})
        assert refused["message"] == "Session ended"
    listed = await sessions(api, account.access_token)
    assert [(s["id"], s["current"]) for s in listed] == [(family(account.access_token), True)]
    refreshed = await api.data(REFRESH, {"refreshToken": account.refresh_token})
    assert refreshed["refreshToken"]["user"]["id"] == account.user_id
    assert (await api.data(ME, token=bystander.access_token))["me"]["id"] == bystander.user_id
    assert await api.data(END_OTHERS, token=account.access_token) == {"endOtherSessions": 0}


@pytest.mark.parametrize(
    "document",
    [SESSIONS, END_OTHERS, 'mutation { endSession(id: "00000000-0000-4000-8000-000000000000") }'],
    ids=["sessions", "endOtherSessions", "endSession"],
)
@pytest.mark.parametrize("token", [None, "not-a-jwt", "revoked"])
async def test_sessions_need_a_valid_access_token(
    api: Api, client: httpx.AsyncClient, document: str, token: str | None
) -> None:
    account = await api.sign_up()
    if token == "revoked":
        token = account.access_token
        await api.data(END, {"id": family(token)}, token)
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}

    response = await client.post("/graphql", json={"query": document}, headers=headers)

    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
