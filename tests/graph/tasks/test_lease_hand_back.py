"""Leases given up without a result (expired, handed back at shutdown): the insight and its
insightProgress watchers start over, or end FAILED. A real uvicorn with a short lease, its
real gRPC server and sweeper, and real websockets."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc.aio
import httpx
import pytest
from asgi_lifespan import LifespanManager

from graph.app import create_app
from graph.context import AppState
from graph.tasks.sweeper import LEASE_EXPIRED_FOR_GOOD, LEASE_EXPIRED_RETRYING
from protos.bridge import WorkerClient
from protos.generated.englog.worker import v1 as pb
from tests.factories import Api, make_settings
from tests.graph.tasks.support import fetchrow, next_task, registered, request_insight, success
from tests.live import Server, live_server, logged_in

# Short enough for a test to see it expire, long enough for heartbeats every HEARTBEAT to
# keep it on a busy machine; the sweeper looks every LEASE / 3.
LEASE_SECONDS = 2.0
HEARTBEAT_SECONDS = 0.25
PROGRESS = """
subscription($id: ID!) { insightProgress(id: $id) { insightId status delta percent } }
"""
ROWS = """
SELECT i.status, i.error, i.attempts AS insight_attempts, t.status AS task_status,
       t.attempts AS task_attempts
FROM insight i JOIN task t ON t.id = i.task_id WHERE i.id = $1
"""


@dataclass
class Setup:
    server: Server
    http: Api
    channel: grpc.aio.Channel


@pytest.fixture
async def setup(database_url: str, redis_url: str) -> AsyncIterator[Setup]:
    async with (
        live_server(database_url, redis_url, task_lease_seconds=LEASE_SECONDS) as server,
        httpx.AsyncClient(base_url=server.http_url) as client,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.state.grpc_port}") as channel,
    ):
        yield Setup(server, Api(client), channel)


async def leased(worker: WorkerClient) -> pb.Task:
    stream = worker.stream_tasks(pb.StreamTasksRequest(free_slots=1))
    try:
        return await next_task(stream)
    finally:
        stream.cancel()  # a stream that ends hands nothing back: the lease stays the worker's


@contextlib.asynccontextmanager
async def heartbeating(worker: WorkerClient, task: pb.Task) -> AsyncIterator[None]:
    """The worker keeps the lease while inside; after it, it has stopped answering."""

    async def beat() -> None:
        while True:
            held = await worker.heartbeat(pb.HeartbeatRequest(lease_tokens=[task.lease_token]))
            assert list(held.held_lease_tokens) == [task.lease_token]
            await asyncio.sleep(HEARTBEAT_SECONDS)

    beating = asyncio.create_task(beat())
    try:
        yield
    finally:
        if beating.done():
            beating.result()  # the lease was lost while it should have been held
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beating


async def progress(worker: WorkerClient, task: pb.Task, delta: str, percent: int) -> None:
    response = await worker.report_progress(
        pb.ReportProgressRequest(
            task_id=task.task_id, lease_token=task.lease_token, delta=delta, percent=percent
        )
    )
    assert response.lease_held is True


def message(insight_id: str, status: str, delta: str | None, percent: int) -> dict[str, Any]:
    return {
        "insightProgress": {
            "insightId": insight_id,
            "status": status,
            "delta": delta,
            "percent": percent,
        }
    }


async def rows(database_url: str, insight_id: str) -> dict[str, Any]:
    return dict(await fetchrow(database_url, ROWS, uuid.UUID(insight_id)))


async def test_a_lease_that_expires_mid_insight_restarts_the_watchers_on_the_next_attempt(
    setup: Setup, database_url: str
) -> None:
    account = await setup.http.sign_up()
    insight_id = await request_insight(setup.http, account)
    first_worker = await registered(setup.channel)
    first = await leased(first_worker)
    async with logged_in(setup.server, account.access_token) as client:
        async with heartbeating(first_worker, first):
            await progress(first_worker, first, "The first attempt wrote ", 30)
            watcher = await client.subscribe(PROGRESS, {"id": insight_id})
            assert await watcher.next() == message(
                insight_id, "RUNNING", "The first attempt wrote ", 30
            )
            await progress(first_worker, first, "a long paragraph", 60)
            assert await watcher.next() == message(insight_id, "RUNNING", "a long paragraph", 60)

        # The first worker stopped answering: the sweeper takes its lease back.
        assert await watcher.next() == message(insight_id, "PENDING", None, 0)
        assert await rows(database_url, insight_id) == {
            "status": "PENDING",
            "error": LEASE_EXPIRED_RETRYING,
            "insight_attempts": 1,
            "task_status": "queued",
            "task_attempts": 1,
        }
        assert await setup.server.state.hub.progress_so_far(uuid.UUID(insight_id)) == ("", 0)

        second_worker = await registered(setup.channel)
        second = await leased(second_worker)
        assert (second.task_id, second.attempt) == (first.task_id, 2)
        async with heartbeating(second_worker, second):
            # Shorter than what the first attempt wrote: not below any old offset.
            await progress(second_worker, second, "Second try.", 50)
            assert await watcher.next() == message(insight_id, "RUNNING", "Second try.", 50)
            await progress(second_worker, second, " Done.", 90)
            assert await watcher.next() == message(insight_id, "RUNNING", " Done.", 90)
            report = await second_worker.report_result(success(second, "Second try. Done."))
            assert report.accepted is True
        assert await watcher.next() == message(insight_id, "COMPLETED", None, 100)
        assert (await watcher.message())["type"] == "complete"


async def test_an_insight_whose_last_lease_expires_ends_the_watchers_stream_failed(
    setup: Setup, database_url: str
) -> None:
    account = await setup.http.sign_up()
    insight_id = await request_insight(setup.http, account)
    await fetchrow(
        database_url,
        "UPDATE task SET max_attempts = 1 FROM insight "
        "WHERE insight.task_id = task.id AND insight.id = $1 RETURNING task.id",
        uuid.UUID(insight_id),
    )
    worker = await registered(setup.channel)
    task = await leased(worker)
    async with logged_in(setup.server, account.access_token) as client:
        async with heartbeating(worker, task):
            await progress(worker, task, "Half a report", 50)
            watcher = await client.subscribe(PROGRESS, {"id": insight_id})
            assert await watcher.next() == message(insight_id, "RUNNING", "Half a report", 50)

        # Its only attempt's worker stopped answering: nothing is left to try.
        assert await watcher.next() == message(insight_id, "FAILED", None, 100)
        assert (await watcher.message())["type"] == "complete"
    assert await rows(database_url, insight_id) == {
        "status": "FAILED",
        "error": LEASE_EXPIRED_FOR_GOOD,
        "insight_attempts": 1,
        "task_status": "dead",
        "task_attempts": 1,
    }


async def test_a_shutdown_hands_the_insight_back_to_pending_with_its_progress_reset(
    database_url: str, redis_url: str
) -> None:
    application = create_app(make_settings(database_url, redis_url))
    async with LifespanManager(application) as manager:
        state: AppState = application.state.englog
        transport = httpx.ASGITransport(app=manager.app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://englog.test") as client,
            grpc.aio.insecure_channel(f"127.0.0.1:{state.grpc_port}") as channel,
        ):
            http = Api(client)
            account = await http.sign_up()
            insight_id = await request_insight(http, account)
            worker = await registered(channel)
            # Open while the API shuts down: the leases of the workers it serves go back.
            stream = worker.stream_tasks(pb.StreamTasksRequest(free_slots=1))
            try:
                task = await next_task(stream)
                await progress(worker, task, "Cut short", 40)
                async with state.hub.subscribe(f"englog:insight:{insight_id}:progress") as live:
                    await application.state.englog.worker_protocol.service.go_away()
                    assert await asyncio.wait_for(live.get(), 10) == {"type": "restart"}
            finally:
                stream.cancel()

            assert await rows(database_url, insight_id) == {
                "status": "PENDING",
                "error": None,
                "insight_attempts": 1,
                "task_status": "queued",
                "task_attempts": 0,
            }
            assert await state.hub.progress_so_far(uuid.UUID(insight_id)) == ("", 0)
