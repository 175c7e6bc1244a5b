"""Live delivery across processes: two `englog api` processes sharing PostgreSQL and Redis,
a worker on the first, dashboards on the second."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import httpx
import pytest

from tests.e2e.processes import Launcher
from tests.e2e.support import request_insight
from tests.factories import Api, entry_input
from tests.fakes.insight_answers import WEEKLY_TOKENS
from tests.graph.live.support import RedisProcess
from tests.live import logged_in

pytestmark = pytest.mark.slow

MODEL = "englog-fake:1b"
TOKENS = list(WEEKLY_TOKENS)  # a well-formed answer: the sections the weekly report asks for
SUGGESTION = json.dumps({"tags": ["deploys"], "skills": ["debugging"]})
INSIGHT_EVENTS = "subscription { insightEvents { cursor insight { id status } } }"
PROGRESS = "subscription($id: ID!) { insightProgress(id: $id) { status delta } }"
ENTRY_EVENTS = """
subscription($since: String) { logEntryEvents(since: $since) { cursor action entry { title } } }
"""
CREATE = "mutation($input: CreateLogEntryInput!) { createLogEntry(input: $input) { id } }"


def ws_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://") + "/graphql"


async def test_a_dashboard_on_another_api_process_sees_the_insight_and_its_text(
    launcher: Launcher,
) -> None:
    fake = await launcher.fake_ollama(
        {"models": [MODEL], "tokens": TOKENS, "token_delay": 0.3, "structured_reply": SUGGESTION}
    )
    first = await launcher.api(name="api-1")
    second = await launcher.api(name="api-2")
    await launcher.worker(first, {"ENGLOG_OLLAMA_HOST": fake.url, "ENGLOG_OLLAMA_MODEL": MODEL})
    async with httpx.AsyncClient(base_url=first.base_url, timeout=30) as client:
        api = Api(client)
        account = await api.sign_up()
        async with contextlib.AsyncExitStack() as sockets:
            socket_ = await sockets.enter_async_context(
                logged_in(ws_url(second.base_url), account.access_token)
            )
            events = await socket_.subscribe(INSIGHT_EVENTS)
            await asyncio.sleep(0.5)  # let the subscription reach Redis before the request
            insight_id = await request_insight(api, account)
            statuses: list[str] = []
            progress = None
            while not statuses or statuses[-1] != "COMPLETED":
                event = (await events.next(timeout=30))["insightEvents"]["insight"]
                assert event["id"] == insight_id
                statuses.append(event["status"])
                if event["status"] == "RUNNING":
                    # A second dashboard joins while the model writes.
                    late = await sockets.enter_async_context(
                        logged_in(ws_url(second.base_url), account.access_token)
                    )
                    progress = await late.subscribe(PROGRESS, {"id": insight_id})
            assert statuses == ["PENDING", "RUNNING", "COMPLETED"]
            assert progress is not None
            text = ""
            while True:
                item = (await progress.next(timeout=30))["insightProgress"]
                if item["status"] == "COMPLETED":
                    break
                text += item["delta"]
            # Joined late (after RUNNING): the text so far first (EngLog's figures, then the
            # model's first tokens), then the rest; all of the model's answer is in it.
            assert "".join(TOKENS) in text


async def test_events_missed_while_redis_restarts_are_recovered_from_postgresql(
    launcher: Launcher, tmp_path: Path
) -> None:
    redis = RedisProcess(tmp_path)
    redis.start()
    try:
        env = {"ENGLOG_REDIS_URL": f"redis://127.0.0.1:{redis.port}/0"}
        writer = await launcher.api(env, name="api-writer")
        reader = await launcher.api(env, name="api-reader")
        async with httpx.AsyncClient(base_url=writer.base_url, timeout=30) as client:
            api = Api(client)
            account = await api.sign_up()

            async def create(title: str) -> None:
                await api.data(CREATE, {"input": entry_input(title=title)}, account.access_token)

            async with logged_in(ws_url(reader.base_url), account.access_token) as socket_:
                events = await socket_.subscribe(ENTRY_EVENTS, {"since": "0"})
                await create("before")
                assert (await events.next())["logEntryEvents"]["entry"] == {"title": "before"}
                redis.stop()
                # Written (and committed) while Redis is down: nobody hears of them live.
                await create("during 1")
                await create("during 2")
                redis.start()
                titles: list[str] = []
                while len(titles) < 3:
                    event = (await events.next(timeout=60))["logEntryEvents"]
                    titles.append(event["entry"]["title"])
                    if len(titles) == 2:
                        await create("after")
                assert titles == ["during 1", "during 2", "after"]
    finally:
        redis.stop()


async def test_englog_api_offers_no_websocket_compression_unless_configured(
    launcher: Launcher,
) -> None:
    plain = await launcher.api(name="api-plain")
    compressing = await launcher.api({"ENGLOG_WS_PER_MESSAGE_DEFLATE": "true"}, name="api-deflate")
    negotiated = []
    for api in (plain, compressing):
        async with httpx.AsyncClient(base_url=api.base_url) as client:
            account = await Api(client).sign_up()
        async with logged_in(ws_url(api.base_url), account.access_token) as socket_:
            negotiated.append([extension.name for extension in socket_.socket.protocol.extensions])
    assert negotiated == [[], ["permessage-deflate"]]
