"""Processes killed at the worst moment, and several workers at once: no task lost, none run
twice, no result stored twice."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from tests.e2e.processes import ApiProcess, Launcher
from tests.e2e.support import FINAL, Database, eventually, request_insight
from tests.factories import Api
from tests.fakes.insight_answers import WEEKLY_STORED, WEEKLY_TOKENS

pytestmark = pytest.mark.slow

MODEL = "englog-fake:1b"
WROTE = re.compile(r"insight ([0-9a-f-]{36}): \S+ wrote \d+ tokens")


def ollama_env(url: str) -> dict[str, str]:
    return {"ENGLOG_OLLAMA_HOST": url, "ENGLOG_OLLAMA_MODEL": MODEL}


async def test_a_worker_killed_mid_stream_loses_nothing_and_the_insight_completes_once(
    launcher: Launcher, shared_api: ApiProcess, http: Api, db: Database
) -> None:
    tokens = list(WEEKLY_TOKENS)
    # 20 tokens 0.1 s apart: the answer is still streaming when the worker is killed.
    fake = await launcher.fake_ollama(
        {"models": [MODEL], "reply": "".join(tokens), "tokens": tokens, "token_delay": 0.1}
    )
    first = await launcher.worker(shared_api, ollama_env(fake.url), name="worker-killed")
    account = await http.sign_up()
    insight_id = await request_insight(http, account)
    await db.wait_for_insight(insight_id, {"RUNNING"})
    await eventually(fake.insight_requests, lambda found: len(found) == 1, what="a chat request")

    await first.kill()
    second = await launcher.worker(shared_api, ollama_env(fake.url), name="worker-second")
    row = await db.wait_for_insight(insight_id)

    assert (row["status"], row["model"], row["error"]) == ("COMPLETED", MODEL, None)
    assert WEEKLY_STORED in row["content"]  # whole, and once
    assert row["content"].count("## Accomplishments") == 1
    assert row["attempts"] == 2
    task = await db.task_of(insight_id)
    # Delivered again because its lease expired, not because anyone failed it.
    assert (task["status"], task["attempts"], task["last_error"]) == (
        "succeeded",
        2,
        "lease expired",
    )
    assert await db.task_count(insight_id) == 1
    assert len(await fake.insight_requests()) == 2
    assert WROTE.findall(first.output()) == []
    assert WROTE.findall(second.output()) == [insight_id]


async def test_a_worker_stopped_with_sigterm_mid_stream_finishes_the_task_before_exiting(
    launcher: Launcher, shared_api: ApiProcess, http: Api, db: Database
) -> None:
    tokens = list(WEEKLY_TOKENS)
    fake = await launcher.fake_ollama(
        {"models": [MODEL], "reply": "".join(tokens), "tokens": tokens, "token_delay": 0.1}
    )
    worker = await launcher.worker(shared_api, ollama_env(fake.url))
    account = await http.sign_up()
    insight_id = await request_insight(http, account)
    await db.wait_for_insight(insight_id, {"RUNNING"})
    await eventually(fake.insight_requests, lambda found: len(found) == 1, what="a chat request")

    await worker.stop()  # SIGTERM: a clean stop, as systemd or docker stop sends

    # A clean stop leaves nothing for the lease sweeper: the result is in before the exit.
    assert worker.process.returncode == 0
    assert "crashed" not in worker.output()
    row = await db.insight(insight_id)
    assert (row["status"], WEEKLY_STORED in row["content"], row["attempts"]) == (
        "COMPLETED",
        True,
        1,
    )
    task = await db.task_of(insight_id)
    assert (task["status"], task["attempts"]) == ("succeeded", 1)


async def test_two_workers_run_every_insight_exactly_once(
    launcher: Launcher, shared_api: ApiProcess, http: Api, db: Database
) -> None:
    reply = "".join(WEEKLY_TOKENS)
    fake = await launcher.fake_ollama({"models": [MODEL], "reply": reply, "token_delay": 0.02})
    workers = await asyncio.gather(
        launcher.worker(shared_api, ollama_env(fake.url), name="worker-a"),
        launcher.worker(shared_api, ollama_env(fake.url), name="worker-b"),
    )
    account = await http.sign_up()

    insight_ids = await asyncio.gather(*(request_insight(http, account) for _ in range(12)))
    await db.wait_for_all(insight_ids, "COMPLETED")

    rows = [await db.insight(insight_id) for insight_id in insight_ids]
    assert {
        (r["status"], WEEKLY_STORED in r["content"], r["model"], r["attempts"]) for r in rows
    } == {("COMPLETED", True, MODEL, 1)}
    tasks = [await db.task_of(insight_id) for insight_id in insight_ids]
    assert [(t["status"], t["attempts"]) for t in tasks] == [("succeeded", 1)] * 12
    assert [await db.task_count(insight_id) for insight_id in insight_ids] == [1] * 12
    assert len(await fake.insight_requests()) == 12
    ran = [found for worker in workers for found in WROTE.findall(worker.output())]
    assert sorted(ran) == sorted(insight_ids)  # each by one worker, none twice


async def test_insights_requested_before_the_api_was_killed_complete_after_its_restart(
    launcher: Launcher, db: Database
) -> None:
    first = await launcher.api(name="api-killed")
    async with httpx.AsyncClient(base_url=first.base_url, timeout=30.0) as client:
        api = Api(client)
        account = await api.sign_up()
        insight_ids = [await request_insight(api, account) for _ in range(3)]
    await first.proc.kill()
    assert await db.statuses(insight_ids) == dict.fromkeys(insight_ids, "PENDING")

    second = await launcher.api(name="api-restarted")
    await launcher.worker(second)
    await db.wait_for_all(insight_ids, "COMPLETED")

    async with httpx.AsyncClient(base_url=second.base_url, timeout=30.0) as client:
        data = await Api(client).data(
            "{ insights(status: COMPLETED) { totalCount edges { node { id model } } } }",
            token=account.access_token,
        )
    assert data["insights"]["totalCount"] == 3
    assert sorted((e["node"]["id"], e["node"]["model"]) for e in data["insights"]["edges"]) == (
        sorted((insight_id, "builtin") for insight_id in insight_ids)
    )
    tasks = [await db.task_of(insight_id) for insight_id in insight_ids]
    assert [(t["status"], t["attempts"]) for t in tasks] == [("succeeded", 1)] * 3


async def test_a_result_finished_while_the_api_restarts_reaches_the_restarted_api(
    launcher: Launcher, db: Database
) -> None:
    # A lease that outlasts the restart: the worker's result must end the task, not the sweeper.
    settings = {"ENGLOG_TASK_LEASE_SECONDS": "30"}
    first = await launcher.api(settings, name="api-killed")
    tokens = list(WEEKLY_TOKENS)
    fake = await launcher.fake_ollama(
        {"models": [MODEL], "reply": "".join(tokens), "tokens": tokens, "token_delay": 0.1}
    )
    worker = await launcher.worker(first, ollama_env(fake.url))
    async with httpx.AsyncClient(base_url=first.base_url, timeout=30.0) as client:
        api = Api(client)
        insight_id = await request_insight(api, await api.sign_up())
    await db.wait_for_insight(insight_id, {"RUNNING"})
    await eventually(fake.insight_requests, lambda found: len(found) == 1, what="a chat request")

    await first.proc.kill()
    await launcher.api(settings, name="api-restarted", ports=(first.http_port, first.grpc_port))

    async def outcome() -> tuple[str, bool]:
        return (await db.insight(insight_id))["status"], "crashed" in worker.output()

    # Ends when the insight does, or at once if the worker lost the task.
    await eventually(outcome, lambda found: found[0] in FINAL or found[1], what="an outcome")

    assert "crashed" not in worker.output()
    row = await db.insight(insight_id)
    assert (row["status"], WEEKLY_STORED in row["content"], row["attempts"]) == (
        "COMPLETED",
        True,
        1,
    )
    task = await db.task_of(insight_id)
    assert (task["status"], task["attempts"], task["last_error"]) == ("succeeded", 1, None)
    assert len(await fake.insight_requests()) == 1
