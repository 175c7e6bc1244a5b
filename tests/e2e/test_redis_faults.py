"""The Redis fault matrix: every use of Redis × every fault, against a real `englog api`.

Redis is a cache and a message bus here, never the system of record. In every cell the API
answers with data or a coded error, a revoked session never comes back, and a live
subscriber misses no event once Redis is back. The README's "Redis faults" table says what
each cell does; each test here is one row of it, parametrised over the five faults
(tests/e2e/redis_faults.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.e2e.processes import ApiProcess, Launcher
from tests.e2e.redis_faults import FAULTS, REDIS_TIMEOUT, Faults, RedisServer, faulty_redis
from tests.e2e.support import Database, request_insight
from tests.e2e.test_live_delivery import ENTRY_EVENTS, ws_url
from tests.factories import Account, Api, entry_input
from tests.fakes.insight_answers import BODIES, narrative, sections_of
from tests.graph.auth.support import DELETE_ACCOUNT, LOG_OUT, ME, PASSWORD
from tests.live import logged_in

pytestmark = [
    pytest.mark.slow,
    # The test's own TCP proxy (tests/e2e/proxy.py) can leave an accepted socket to the
    # garbage collector when a fault resets it mid-handshake; that is the test harness's
    # ResourceWarning, not the API's (which runs in another process).
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

CREATE = "mutation($input: CreateLogEntryInput!) { createLogEntry(input: $input) { id } }"
REVOKED = ("UNAUTHENTICATED", "Token revoked")
BURST = 30  # ENGLOG_RATE_LIMIT_OPERATIONS below: 30 at once, then one every 20 s


BOUND = 90.0  # a cell that hangs fails with its traceback, instead of stalling the suite


def bounded(test: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    @functools.wraps(test)
    async def run(*args: Any, **kwargs: Any) -> None:
        async with asyncio.timeout(BOUND):
            await test(*args, **kwargs)

    return run


@dataclass
class Stack:
    api: ApiProcess
    http: Api
    server: RedisServer
    faults: Faults


@pytest.fixture
async def stack(
    launcher: Launcher, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Stack]:
    env: dict[str, str] = getattr(request, "param", {})
    async with faulty_redis(tmp_path / "redis") as (server, faults):
        api = await launcher.api(
            {
                "ENGLOG_REDIS_URL": faults.proxy.url,
                "ENGLOG_REDIS_TIMEOUT_SECONDS": str(REDIS_TIMEOUT),
                "ENGLOG_WS_PING_SECONDS": "1",
                **env,
            }
        )
        async with httpx.AsyncClient(base_url=api.base_url, timeout=30.0) as client:
            yield Stack(api, Api(client), server, faults)


def refusal(body: dict[str, Any]) -> tuple[str, str]:
    assert body.get("data") is None, body
    [error] = body["errors"]
    return error["extensions"]["code"], error["message"]


async def me(stack: Stack, account: Account) -> dict[str, Any]:
    return await stack.http.post(ME, token=account.access_token)


# --- the denylist ------------------------------------------------------------------------


@pytest.mark.parametrize("fault", FAULTS)
@bounded
async def test_denylist_no_ended_session_comes_back_during_or_after_a_fault(
    stack: Stack, fault: str
) -> None:
    http = stack.http
    ended_before, deleted, live, ended_during = [await http.sign_up() for _ in range(4)]
    await http.data(LOG_OUT, {"refreshToken": ended_before.refresh_token})
    await http.data(DELETE_ACCOUNT, {"password": PASSWORD}, deleted.access_token)
    assert refusal(await me(stack, ended_before)) == REVOKED

    await stack.faults.begin(fault)
    # Committed in PostgreSQL; Redis does not get it (or not in time).
    assert await http.data(LOG_OUT, {"refreshToken": ended_during.refresh_token}) == {
        "logOut": True
    }
    for _ in range(3):  # each on whatever pooled connection comes next
        for account in (ended_before, deleted, ended_during):
            assert refusal(await me(stack, account)) == REVOKED
        assert (await me(stack, live))["data"]["me"]["email"] == live.email

    await stack.faults.end(fault)
    for _ in range(3):
        for account in (ended_before, deleted, ended_during):
            assert refusal(await me(stack, account)) == REVOKED
        assert (await me(stack, live))["data"]["me"]["email"] == live.email


# --- rate limits -------------------------------------------------------------------------

LIMITED = {"ENGLOG_RATE_LIMIT_OPERATIONS": f"{BURST}/600"}


async def count_until_limited(stack: Stack, account: Account, most: int) -> int:
    """How many operations pass before one is refused for its rate (`most` if none is)."""
    for passed in range(most):
        response = await stack.http.client.post(
            "/graphql",
            json={"query": ME},
            headers={"Authorization": f"Bearer {account.access_token}"},
        )
        body = response.json()
        if body.get("errors"):
            [error] = body["errors"]
            assert error["extensions"]["code"] == "RATE_LIMITED", body
            assert error["extensions"]["retryAfter"] >= 1
            assert int(response.headers["retry-after"]) >= 1
            return passed
        assert body["data"]["me"]["email"] == account.email
    return most


@pytest.mark.parametrize("stack", [LIMITED], indirect=True)
@pytest.mark.parametrize("fault", FAULTS)
@bounded
async def test_rate_limits_fail_open_during_a_fault_and_count_again_after(
    stack: Stack, fault: str
) -> None:
    account = await stack.http.sign_up()
    await stack.faults.begin(fault)
    for _ in range(3):  # let through, uncounted (RATE_LIMIT_FAIL=open), logged
        assert (await me(stack, account))["data"]["me"]["email"] == account.email
    await stack.faults.end(fault)
    # Counted again: whatever Redis kept, the burst runs out and the limit answers.
    assert await count_until_limited(stack, account, 2 * BURST) <= BURST


@pytest.mark.parametrize("stack", [{**LIMITED, "ENGLOG_RATE_LIMIT_FAIL": "closed"}], indirect=True)
@pytest.mark.parametrize("fault", FAULTS)
@bounded
async def test_rate_limits_fail_closed_refuse_with_a_code_during_a_fault(
    stack: Stack, fault: str
) -> None:
    account = await stack.http.sign_up()
    await stack.faults.begin(fault)
    for _ in range(3):
        response = await stack.http.client.post(
            "/graphql",
            json={"query": ME},
            headers={
                "Authorization": f"Bearer {account.access_token}",
                "Accept": "application/graphql-response+json",
            },
        )
        if fault == "reset" and response.status_code == 200:
            # Only a pooled connection's first use after the reset fails; redis-py then
            # connects anew, and the limit is checked again.
            assert response.json()["data"]["me"]["email"] == account.email
            continue
        assert response.status_code == 503, response.text
        [error] = response.json()["errors"]
        assert error["extensions"] == {"code": "SERVICE_UNAVAILABLE", "retryAfter": 1}
    await stack.faults.end(fault)
    assert (await me(stack, account))["data"]["me"]["email"] == account.email


# --- websocket connections per user --------------------------------------------------------

CAPPED = {"ENGLOG_WS_MAX_CONNECTIONS_PER_USER": "2"}


async def admitted(stack: Stack, account: Account, count: int) -> list[bool]:
    """Opens `count` sockets one after the other, keeping each open; which were admitted."""
    results: list[bool] = []
    async with contextlib.AsyncExitStack() as sockets:
        for _ in range(count):
            try:
                await sockets.enter_async_context(
                    logged_in(ws_url(stack.api.base_url), account.access_token)
                )
            except (AssertionError, ConnectionClosed) as refused:
                reason = str(refused)
                results.append(False)
                if "Too many connections" not in reason:
                    raise
            else:
                results.append(True)
    return results


@pytest.mark.parametrize("stack", [CAPPED], indirect=True)
@pytest.mark.parametrize("fault", FAULTS)
@bounded
async def test_connection_slots_let_in_during_a_fault_and_cap_again_after(
    stack: Stack, fault: str
) -> None:
    account = await stack.http.sign_up()
    await stack.faults.begin(fault)
    async with logged_in(ws_url(stack.api.base_url), account.access_token) as socket_:
        # From the start of the log: the entry below may commit before the subscription is
        # set up on the server, and a live-only subscription would rightly not see it.
        events = await socket_.subscribe('subscription { logEntryEvents(since: "0") { action } }')
        await stack.http.data(CREATE, {"input": entry_input()}, account.access_token)
        await stack.faults.end(fault)
        assert (await events.next(timeout=30))["logEntryEvents"] == {"action": "CREATED"}
    # The cap holds again (a member a slow Redis took late may count until it lapses).
    result = await admitted(stack, account, 3)
    assert result.count(True) <= 2, result
    assert result[-1] is False, result


# --- the event hub -----------------------------------------------------------------------


async def titles(events: Any, count: int) -> list[str]:
    return [
        (await events.next(timeout=30))["logEntryEvents"]["entry"]["title"] for _ in range(count)
    ]


@pytest.mark.parametrize("fault", FAULTS)
@bounded
async def test_event_hub_a_live_subscriber_misses_nothing_across_a_fault(
    stack: Stack, fault: str
) -> None:
    http = stack.http
    account = await http.sign_up()

    async def create(title: str) -> None:
        await http.data(CREATE, {"input": entry_input(title=title)}, account.access_token)

    async with logged_in(ws_url(stack.api.base_url), account.access_token) as socket_:
        events = await socket_.subscribe(ENTRY_EVENTS, {"since": "0"})
        await create("before")
        assert await titles(events, 1) == ["before"]
        await stack.faults.begin(fault)
        await create("during")  # committed; its news may never reach Redis
        await stack.faults.end(fault)
        await create("after")
        assert await titles(events, 2) == ["during", "after"]
        # A subscription opened after the fault is live too, and the first one goes on.
        async with logged_in(ws_url(stack.api.base_url), account.access_token) as other:
            later = await other.subscribe(ENTRY_EVENTS, {"since": "0"})
            await create("later")
            assert await titles(events, 1) == ["later"]
            assert await titles(later, 4) == ["before", "during", "after", "later"]
            await create("latest")  # both are set up: live
            assert await titles(events, 1) == ["latest"]
            assert await titles(later, 1) == ["latest"]


@pytest.mark.parametrize("fault", FAULTS)
@bounded
async def test_event_hub_a_fault_while_nobody_listens_leaves_later_subscribers_live(
    stack: Stack, fault: str
) -> None:
    http = stack.http
    account = await http.sign_up()
    url = ws_url(stack.api.base_url)
    async with logged_in(url, account.access_token) as socket_:
        first = await socket_.subscribe(ENTRY_EVENTS, {"since": "0"})
        await http.data(CREATE, {"input": entry_input(title="one")}, account.access_token)
        assert await titles(first, 1) == ["one"]
    # Nobody subscribes on this process now; the hub's connection (if any) is hit.
    await stack.faults.begin(fault)
    await stack.faults.end(fault)
    async with (
        logged_in(url, account.access_token) as socket_,
        logged_in(url, account.access_token) as other,
    ):
        # From the start of the log: "two" may commit before these are set up on the server.
        again = await socket_.subscribe(ENTRY_EVENTS, {"since": "0"})
        second = await other.subscribe(ENTRY_EVENTS, {"since": "0"})
        await http.data(CREATE, {"input": entry_input(title="two")}, account.access_token)
        assert await titles(again, 2) == ["one", "two"]
        assert await titles(second, 2) == ["one", "two"]
        # Set up for sure now: what follows can only arrive live.
        await http.data(CREATE, {"input": entry_input(title="three")}, account.access_token)
        assert await titles(again, 1) == ["three"]
        assert await titles(second, 1) == ["three"]


# --- insight progress --------------------------------------------------------------------

PROGRESS = "subscription($id: ID!) { insightProgress(id: $id) { status delta } }"
# A well-formed answer (the worker checks it), a word a delta: ~4 s at 0.05 s a delta.
WORDS = re.findall(r"\S+\s*", narrative(sections_of("WEEKLY_REPORT")))
MODEL = "llama3.2:3b"


@pytest.mark.parametrize("fault", FAULTS)
@bounded
async def test_insight_progress_a_watcher_sees_the_insight_end_across_a_fault(
    stack: Stack, launcher: Launcher, db: Database, fault: str
) -> None:
    fake = await launcher.fake_ollama(
        {"models": [MODEL], "reply": "".join(WORDS), "token_delay": 0.05}
    )
    await launcher.worker(stack.api, {"ENGLOG_OLLAMA_HOST": fake.url, "ENGLOG_OLLAMA_MODEL": MODEL})
    account = await stack.http.sign_up()
    await stack.http.create_entry(account, title="Fixed the flaky deploy", minutes=60)
    insight_id = await request_insight(stack.http, account)
    async with logged_in(ws_url(stack.api.base_url), account.access_token) as socket_:
        progress = await socket_.subscribe(PROGRESS, {"id": insight_id})
        first = (await progress.next(timeout=30))["insightProgress"]
        assert first["status"] in ("PENDING", "RUNNING"), first
        await stack.faults.begin(fault)
        await asyncio.sleep(1.0)  # deltas are written meanwhile; Redis does not get them
        await stack.faults.end(fault)
        statuses = []
        while True:  # deltas (some lost to the fault), then the end, then `complete`
            message = await progress.message(timeout=30)
            if message["type"] == "complete":
                break
            assert message["type"] == "next", message
            statuses.append(message["payload"]["data"]["insightProgress"]["status"])
    assert statuses[-1] == "COMPLETED", statuses
    row = await db.wait_for_insight(insight_id)
    # Nothing lost: the model's text stored whole, after EngLog's figures.
    assert (row["status"], row["model"]) == ("COMPLETED", MODEL)
    assert all(body in row["content"] for body in BODIES[:3])
