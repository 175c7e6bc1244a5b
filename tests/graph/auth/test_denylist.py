"""An ended session's access tokens stop working at once, even if Redis forgets or is gone."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from graph.auth.denylist import LOADED, PREFIX, Denylist
from graph.context import AppState
from tests.factories import Api
from tests.graph.auth.support import LOG_IN, LOG_OUT, ME, PASSWORD, REFRESH

REVOKED = {"code": "UNAUTHENTICATED"}


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


async def forget_denylist(redis: Redis) -> None:
    """What a FLUSHALL (or a restart without persistence) does to the denylist."""
    keys = [key async for key in redis.scan_iter(f"{PREFIX}*")]
    await redis.delete(LOADED, *keys)


async def refused(api: Api, token: str) -> str:
    error = await api.error(ME, token=token)
    assert error["extensions"] == REVOKED, error
    return str(error["message"])


async def test_log_out_ends_the_sessions_access_tokens_not_others(api: Api) -> None:
    account = await api.sign_up()
    other = (await api.data(LOG_IN, {"email": account.email, "password": PASSWORD}))["logIn"]
    assert (await api.data(ME, token=account.access_token))["me"]["email"] == account.email

    await api.data(LOG_OUT, {"refreshToken": account.refresh_token})

    assert await refused(api, account.access_token) == "Token revoked"
    assert (await api.data(ME, token=other["accessToken"]))["me"]["email"] == account.email


async def test_a_flushed_redis_resurrects_no_revoked_token(api: Api, redis: Redis) -> None:
    account = await api.sign_up()
    await api.data(LOG_OUT, {"refreshToken": account.refresh_token})
    await forget_denylist(redis)

    assert await refused(api, account.access_token) == "Token revoked"
    assert await redis.get(LOADED) is not None  # loaded again from PostgreSQL


async def test_without_redis_postgresql_answers(app_state: AppState, api: Api) -> None:
    ended, live = await api.sign_up(), await api.sign_up()
    await api.data(LOG_OUT, {"refreshToken": ended.refresh_token})
    nowhere = Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=0.5)
    try:
        denylist = Denylist(nowhere, app_state.db, access_ttl=app_state.tokens.access_ttl)
        decode = app_state.tokens.decode
        assert await denylist.is_revoked(decode(ended.access_token, "access"))
        assert not await denylist.is_revoked(decode(live.access_token, "access"))
    finally:
        await nowhere.aclose()


async def test_a_reused_refresh_token_ends_the_access_tokens_of_its_login(api: Api) -> None:
    account = await api.sign_up()
    rotated = (await api.data(REFRESH, {"refreshToken": account.refresh_token}))["refreshToken"]
    newest = (await api.data(REFRESH, {"refreshToken": rotated["refreshToken"]}))["refreshToken"]
    assert (await api.data(ME, token=newest["accessToken"]))["me"]["email"] == account.email

    await api.error(REFRESH, {"refreshToken": account.refresh_token})  # a stolen copy

    assert await refused(api, newest["accessToken"]) == "Token revoked"
    assert await refused(api, rotated["accessToken"]) == "Token revoked"
    assert await refused(api, account.access_token) == "Token revoked"


async def test_many_sessions_are_checked_in_one_look_up_from_redis_or_postgresql(
    app_state: AppState, api: Api, redis: Redis
) -> None:
    ended, live, other = await api.sign_up(), await api.sign_up(), await api.sign_up()
    await api.data(LOG_OUT, {"refreshToken": ended.refresh_token})
    await api.data(LOG_OUT, {"refreshToken": other.refresh_token})
    decode = app_state.tokens.decode
    claims = [decode(account.access_token, "access") for account in (ended, live, other)]

    assert await app_state.revoked_sessions(claims) == [True, False, True]
    await forget_denylist(redis)  # a flush: loaded again, nothing resurrected
    assert await app_state.revoked_sessions(claims) == [True, False, True]
    nowhere = Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=0.5)
    try:
        denylist = Denylist(nowhere, app_state.db, access_ttl=app_state.tokens.access_ttl)
        families = {c.family_id for c in claims if c.family_id is not None}
        assert await denylist.revoked_families(families) == {
            claims[0].family_id,
            claims[2].family_id,
        }
    finally:
        await nowhere.aclose()
