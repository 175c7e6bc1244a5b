"""Rate limits: per operation (not per HTTP request), per sign-in address, per insight, shared
by API processes through Redis, failing open or closed as configured."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from redis.asyncio import Redis

from graph.errors import SERVICE_UNAVAILABLE, AppError
from graph.limits import PREFIX, RateLimited, RateLimiter, Rule
from tests.factories import Api, make_settings, serve
from tests.live import ME, live_server, logged_in

LOG_IN = "mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { accessToken } }"
REQUEST_INSIGHT = """mutation($input: RequestInsightInput!) {
  requestInsight(input: $input) { id } }"""
INSIGHT = {"kind": "WEEKLY_REPORT", "periodStart": "2026-01-05", "periodEnd": "2026-01-11"}
TIGHT = {
    "rate_limit_operations": "3/60",
    "rate_limit_auth_ip": "100/60",
    "rate_limit_auth_email": "3/600",
    "rate_limit_insights": "2/3600",
}


@pytest.fixture(autouse=True)
async def no_buckets(redis_url: str) -> AsyncIterator[None]:
    """Every test starts with empty buckets (the test client's address is always the same)."""
    redis = Redis.from_url(redis_url)
    try:
        keys = [key async for key in redis.scan_iter(f"{PREFIX}*")]
        if keys:
            await redis.delete(*keys)
        yield
    finally:
        await redis.aclose()


@pytest.fixture
async def tight(database_url: str, redis_url: str) -> AsyncIterator[Api]:
    async with serve(make_settings(database_url, redis_url, **TIGHT)) as client:
        yield Api(client)


def assert_rate_limited(error: dict[str, Any]) -> None:
    assert error["extensions"]["code"] == "RATE_LIMITED", error
    assert isinstance(error["extensions"]["retryAfter"], int)
    assert error["extensions"]["retryAfter"] >= 1


async def test_a_user_is_limited_per_operation_with_retry_after(tight: Api) -> None:
    account = await tight.sign_up()  # signUp is counted per address and e-mail, not here
    for _ in range(3):
        await tight.data(ME, token=account.access_token)
    response = await tight.client.post(
        "/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {account.access_token}"}
    )
    body = response.json()
    assert body["data"] is None
    assert_rate_limited(body["errors"][0])
    assert response.headers["Retry-After"] == str(body["errors"][0]["extensions"]["retryAfter"])
    # Another user has a bucket of their own.
    other = await tight.sign_up()
    assert await tight.data(ME, token=other.access_token) == {"me": {"email": other.email}}


async def test_anonymous_operations_are_counted_per_address(tight: Api) -> None:
    for _ in range(3):
        await tight.error(ME)  # UNAUTHENTICATED, and counted
    assert_rate_limited(await tight.error(ME))
    assert_rate_limited(await tight.error(ME, token="not-a-token"))  # a bad token: same bucket


async def test_operations_on_one_websocket_are_each_counted(
    database_url: str, redis_url: str
) -> None:
    async with live_server(database_url, redis_url, **TIGHT) as server:
        async with httpx.AsyncClient(base_url=server.http_url) as client:
            account = await Api(client).sign_up()
        async with logged_in(server, account.access_token) as socket:
            for index in range(3):
                [answer, _] = await socket.execute(ME, str(index))
                assert answer["payload"] == {"data": {"me": {"email": account.email}}}
            [answer, _] = await socket.execute(ME, "4")
            assert_rate_limited(answer["payload"]["errors"][0])


async def test_log_in_is_limited_per_email_even_with_the_right_password(tight: Api) -> None:
    account = await tight.sign_up()  # the e-mail's first attempt
    for _ in range(2):
        error = await tight.error(LOG_IN, {"e": account.email, "p": "wrong password!"})
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
    error = await tight.error(LOG_IN, {"e": account.email, "p": "correct horse battery"})
    assert_rate_limited(error)
    # The same address case-folded is the same bucket; another account is not.
    assert_rate_limited(await tight.error(LOG_IN, {"e": account.email.upper(), "p": "x"}))
    other = await tight.sign_up()
    await tight.data(LOG_IN, {"e": other.email, "p": "correct horse battery"})


async def test_aliases_cannot_multiply_sign_in_attempts(tight: Api) -> None:
    account = await tight.sign_up()  # 1 of the e-mail's 3
    fields = " ".join(
        f'a{i}: logIn(email: $e, password: "guess{i}") {{ accessToken }}' for i in range(5)
    )
    body = await tight.post(f"mutation($e: String!) {{ {fields} }}", {"e": account.email})
    codes = [error["extensions"]["code"] for error in body["errors"]]
    for _ in range(3):
        codes.append(
            (await tight.error(LOG_IN, {"e": account.email, "p": "guess"}))["extensions"]["code"]
        )
    # Whatever ran of the aliased fields (graphql-core stops a mutation at the first
    # non-null error), the e-mail got exactly its 2 remaining password checks.
    assert codes.count("UNAUTHENTICATED") == 2, codes
    assert set(codes) == {"UNAUTHENTICATED", "RATE_LIMITED"}


async def test_log_in_is_limited_per_address(database_url: str, redis_url: str) -> None:
    settings = make_settings(database_url, redis_url, **{**TIGHT, "rate_limit_auth_ip": "2/60"})
    async with serve(settings) as client:
        api = Api(client)
        for index in range(2):
            error = await api.error(LOG_IN, {"e": f"nobody{index}@example.com", "p": "x"})
            assert error["extensions"]["code"] == "UNAUTHENTICATED"
        assert_rate_limited(await api.error(LOG_IN, {"e": "someone@example.com", "p": "x"}))


async def test_request_insight_is_limited_per_user(tight: Api) -> None:
    account, other = await tight.sign_up(), await tight.sign_up()
    for _ in range(2):
        await tight.data(REQUEST_INSIGHT, {"input": INSIGHT}, account.access_token)
    error = await tight.error(REQUEST_INSIGHT, {"input": INSIGHT}, account.access_token)
    assert_rate_limited(error)
    await tight.data(REQUEST_INSIGHT, {"input": INSIGHT}, other.access_token)


async def test_limits_hold_across_api_processes(database_url: str, redis_url: str) -> None:
    settings = make_settings(database_url, redis_url, **TIGHT)
    async with serve(settings) as first_client, serve(settings) as second_client:
        first, second = Api(first_client), Api(second_client)
        account = await first.sign_up()
        await first.data(ME, token=account.access_token)
        await second.data(ME, token=account.access_token)
        await first.data(ME, token=account.access_token)
        assert_rate_limited(await second.error(ME, token=account.access_token))


async def test_the_bucket_refills_evenly(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    try:
        limiter = _limiter(redis, fail_open=True)
        rule = Rule(2, 2)  # a burst of 2, then one a second
        for _ in range(2):
            await limiter.hit("refill", rule)
        with pytest.raises(RateLimited) as refused:
            await limiter.hit("refill", rule)
        assert refused.value.retry_after == 1
        ttl = await redis.pttl(PREFIX + "refill")
        assert 0 < ttl <= 2000  # the bucket is forgotten once it would be full again
    finally:
        await redis.aclose()


@pytest.mark.parametrize("fail_open", [True, False])
async def test_without_redis_limits_fail_as_configured(fail_open: bool) -> None:
    redis = Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=0.5)  # nobody there
    try:
        limiter = _limiter(redis, fail_open=fail_open)
        if fail_open:
            await limiter.hit("anything", Rule(1, 60))
            await limiter.hit("anything", Rule(1, 60))
        else:
            with pytest.raises(AppError) as refused:
                await limiter.hit("anything", Rule(1, 60))
            assert refused.value.extensions["code"] == SERVICE_UNAVAILABLE
    finally:
        await redis.aclose()


def test_rules_and_the_production_switch_are_checked_at_start_up(
    database_url: str, redis_url: str
) -> None:
    assert Rule.parse(" 30 / 60 ") == Rule(30, 60)
    for bad in ("30", "0/60", "30/0", "-1/60", "a/b"):
        with pytest.raises(ValueError, match="COUNT/SECONDS"):
            Rule.parse(bad)
    with pytest.raises(ValidationError):
        make_settings(database_url, redis_url, rate_limit_operations="lots")
    with pytest.raises(ValidationError, match="rate limits must be on in production"):
        make_settings(database_url, redis_url, env="production", rate_limits=False)


def _limiter(redis: Redis, *, fail_open: bool) -> RateLimiter:
    rule = Rule(1, 60)
    return RateLimiter(
        redis,
        enabled=True,
        fail_open=fail_open,
        operations=rule,
        auth_ip=rule,
        auth_email=rule,
        insights=rule,
    )
