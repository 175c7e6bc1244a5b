"""SIGTERM to `englog api` (a deploy, `docker stop`): requests in flight finish, websockets are
told the server is going away, and the tasks its workers held go back to the queue at once."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.e2e.processes import STOP_TIMEOUT, Launcher
from tests.e2e.support import Database, eventually, request_insight
from tests.e2e.test_faults import waiting_for_projects
from tests.e2e.test_live_delivery import INSIGHT_EVENTS, ws_url
from tests.factories import Api
from tests.fakes.insight_answers import WEEKLY_STORED, WEEKLY_TOKENS
from tests.live import Client, logged_in

pytestmark = pytest.mark.slow

MODEL = "englog-fake:1b"
WROTE = re.compile(r"insight ([0-9a-f-]{36}): \S+ wrote \d+ tokens")
PROJECTS = "{ projects { name } }"


def ollama_env(url: str) -> dict[str, str]:
    return {"ENGLOG_OLLAMA_HOST": url, "ENGLOG_OLLAMA_MODEL": MODEL}


async def until_closed(socket_: Client) -> None:
    """Reads (and drops) messages until the server closes the socket: ConnectionClosed."""
    while True:
        await socket_.socket.recv()


async def test_sigterm_finishes_requests_closes_websockets_going_away_and_hands_tasks_back(
    launcher: Launcher, db: Database
) -> None:
    # Leases far longer than the test may wait: their expiry cannot be what frees the task.
    settings = {"ENGLOG_TASK_LEASE_SECONDS": "120"}
    stopping = await launcher.api(settings, name="api-stopping")
    staying = await launcher.api(settings, name="api-staying")
    tokens = list(WEEKLY_TOKENS)
    # The first worker's model is slow: it is still writing at the SIGTERM.
    slow = await launcher.fake_ollama(
        {"models": [MODEL], "reply": "".join(tokens), "tokens": tokens, "token_delay": 1.0}
    )
    fast = await launcher.fake_ollama({"models": [MODEL], "reply": "".join(tokens)})
    first = await launcher.worker(stopping, ollama_env(slow.url), name="worker-on-stopping")
    async with httpx.AsyncClient(base_url=stopping.base_url, timeout=30.0) as client:
        api = Api(client)
        account = await api.sign_up()
        await api.create_project(account, "Apollo")
        insight_id = await request_insight(api, account)
        await db.wait_for_insight(insight_id, {"RUNNING"})
        await eventually(slow.insight_requests, lambda found: len(found) == 1, what="a chat")
        # Another worker, on the API that stays, joins while the first one holds the task.
        second = await launcher.worker(staying, ollama_env(fast.url), name="worker-on-staying")

        async with logged_in(ws_url(stopping.base_url), account.access_token) as socket_:
            await socket_.subscribe(INSIGHT_EVENTS)
            # A request in flight at SIGTERM: it waits on a lock the test holds.
            async with db.connection.transaction():
                await db.connection.execute("LOCK TABLE project IN ACCESS EXCLUSIVE MODE")
                pending = asyncio.create_task(api.post(PROJECTS, token=account.access_token))
                await eventually(
                    lambda: waiting_for_projects(db), lambda pids: len(pids) == 1, what="a query"
                )

                stopping.proc.process.terminate()

                with pytest.raises(ConnectionClosed) as closed:
                    await asyncio.wait_for(until_closed(socket_), STOP_TIMEOUT)
                assert closed.value.rcvd is not None
                assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
                    1001,
                    "Server shutting down",
                )
                # It accepts no new connection, while the request in flight goes on.
                async with httpx.AsyncClient(base_url=stopping.base_url) as fresh:
                    with pytest.raises(httpx.ConnectError):
                        await fresh.get("/live")
                assert not pending.done()
            # The lock is gone: the request finishes, with its answer.
            assert await pending == {"data": {"projects": [{"name": "Apollo"}]}}
    assert await asyncio.wait_for(stopping.proc.process.wait(), STOP_TIMEOUT) == 0

    # The task went back to the queue and the worker on the other API ran it, once.
    row = await db.wait_for_insight(insight_id)
    assert (row["status"], WEEKLY_STORED in row["content"], row["model"]) == (
        "COMPLETED",
        True,
        MODEL,
    )
    assert row["attempts"] == 2  # two runs began
    task = await db.task_of(insight_id)
    # A hand-back is not a failed attempt (nor a lease that expired).
    assert (task["status"], task["attempts"], task["last_error"]) == ("succeeded", 1, None)
    assert await db.task_count(insight_id) == 1
    assert WROTE.findall(second.output()) == [insight_id]
    assert WROTE.findall(first.output()) == []
    assert "took back our 1 tasks; stopping them" in first.output()
    assert (len(await slow.insight_requests()), len(await fast.insight_requests())) == (1, 1)
