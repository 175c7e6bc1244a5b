"""The worker protocol against the real grpc.aio server of the API, in process."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import asyncpg
import grpc
import grpc.aio
import pytest

from db.engine import asyncpg_dsn
from protos.bridge import SESSION_METADATA, WorkerClient
from protos.generated.englog.worker import v1 as pb
from tests.factories import Account, Api

REQUEST = """
mutation($input: RequestInsightInput!) { requestInsight(input: $input) { id status } }
"""
INSIGHT = "query($id: ID!) { insight(id: $id) { status content model attempts error } }"
NEXT_TASK_TIMEOUT = 10.0


async def request_insight(api: Api, account: Account, kind: str = "WEEKLY_REPORT") -> str:
    data = await api.data(
        REQUEST,
        {"input": {"kind": kind, "periodStart": "2026-11-02", "periodEnd": "2026-11-08"}},
        account.access_token,
    )
    assert data["requestInsight"]["status"] == "PENDING"
    return str(data["requestInsight"]["id"])


async def insight_reaching(
    api: Api, account: Account, insight_id: str, status: str = "COMPLETED", within: float = 20.0
) -> dict[str, Any]:
    """The insight, polled through the API until it has `status`."""
    async with asyncio.timeout(within):
        while True:
            found: dict[str, Any] = (
                await api.data(INSIGHT, {"id": insight_id}, account.access_token)
            )["insight"]
            if found["status"] == status:
                return found
            await asyncio.sleep(0.05)


async def next_task(stream: grpc.aio.UnaryStreamCall[Any, Any]) -> pb.Task:
    message = await asyncio.wait_for(stream.read(), NEXT_TASK_TIMEOUT)
    assert isinstance(message, pb.Task), message
    return message


async def fetchrow(database_url: str, query: str, *args: object) -> asyncpg.Record:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        row = await connection.fetchrow(query, *args)
        assert row is not None
        return row
    finally:
        await connection.close()


def success(task: pb.Task, content: str = "A fine week.") -> pb.ReportResultRequest:
    return pb.ReportResultRequest(
        task_id=task.task_id,
        lease_token=task.lease_token,
        success=pb.Success(content=content, model="fake:1b", stats={"eval_count": 42}),
    )


async def test_calls_without_a_valid_session_are_unauthenticated(channel: grpc.aio.Channel) -> None:
    client = WorkerClient(channel)
    for token in (None, "garbage"):
        client.session_token = token
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await client.heartbeat(pb.HeartbeatRequest())
        assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_an_access_token_is_not_a_worker_session(channel: grpc.aio.Channel, api: Api) -> None:
    account = await api.sign_up()
    client = WorkerClient(channel)
    client.session_token = account.access_token
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await client.heartbeat(pb.HeartbeatRequest())
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert SESSION_METADATA == "x-englog-session"


async def test_register_answers_session_and_heartbeat_interval(channel: grpc.aio.Channel) -> None:
    client = WorkerClient(channel)
    response = await client.register_worker(
        pb.RegisterWorkerRequest(worker_id=str(uuid.uuid4()), name="w", max_concurrent_tasks=1)
    )
    assert response.session_token == client.session_token
    assert (response.heartbeat_interval_seconds, response.lease_seconds) == (10, 30)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await client.register_worker(pb.RegisterWorkerRequest(worker_id="not-a-uuid"))
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_insight_task_flows_from_request_to_completed_once(
    api: Api, worker: WorkerClient, database_url: str
) -> None:
    account = await api.sign_up()
    insight_id = await request_insight(api, account)
    stream = worker.stream_tasks(pb.StreamTasksRequest(free_slots=1))
    try:
        task = await next_task(stream)
    finally:
        stream.cancel()
    assert (task.kind, task.attempt) == ("generate_insight", 1)
    assert task.insight is not None
    assert (task.insight.insight_id, task.insight.kind) == (insight_id, "WEEKLY_REPORT")
    assert (task.insight.period_start, task.insight.period_end) == ("2026-11-02", "2026-11-08")
    assert json.loads(task.insight.metrics_json)["total_entries"] == 0
    running = await api.data(INSIGHT, {"id": insight_id}, account.access_token)
    assert running["insight"]["status"] == "RUNNING"

    progress = await worker.report_progress(
        pb.ReportProgressRequest(
            task_id=task.task_id, lease_token=task.lease_token, delta="A fine", sequence=1
        )
    )
    assert progress.lease_held is True
    assert (await worker.report_result(success(task))).accepted is True
    assert (await worker.report_result(success(task, "again"))).accepted is False

    data = await api.data(INSIGHT, {"id": insight_id}, account.access_token)
    assert data["insight"] == {
        "status": "COMPLETED",
        "content": "A fine week.",
        "model": "fake:1b",
        "attempts": 1,
        "error": None,
    }
    row = await fetchrow(
        database_url,
        "SELECT t.status, i.generation FROM insight i JOIN task t ON t.id = i.task_id "
        "WHERE i.id = $1",
        uuid.UUID(insight_id),
    )
    assert (row["status"], json.loads(row["generation"])) == ("succeeded", {"eval_count": 42})


async def test_retryable_failure_requeues_and_final_failure_fails_the_insight(
    api: Api, worker: WorkerClient, database_url: str
) -> None:
    account = await api.sign_up()
    insight_id = await request_insight(api, account)
    stream = worker.stream_tasks(pb.StreamTasksRequest(free_slots=1))
    try:
        task = await next_task(stream)
        response = await worker.report_result(
            pb.ReportResultRequest(
                task_id=task.task_id,
                lease_token=task.lease_token,
                failure=pb.Failure(reason="Ollama answered 500", retryable=True),
            )
        )
        assert response.accepted is True
        data = await api.data(INSIGHT, {"id": insight_id}, account.access_token)
        assert data["insight"]["status"] == "PENDING"
        assert data["insight"]["error"] == "Ollama answered 500"
    finally:
        stream.cancel()
    # The retry waits out its backoff; make it runnable now instead of waiting.
    await fetchrow(
        database_url,
        "UPDATE task SET run_after = now() WHERE id = $1 RETURNING id",
        uuid.UUID(task.task_id),
    )
    stream = worker.stream_tasks(pb.StreamTasksRequest(free_slots=1))
    try:
        again = await next_task(stream)
    finally:
        stream.cancel()
    assert (again.task_id, again.attempt) == (task.task_id, 2)
    assert again.lease_token != task.lease_token
    response = await worker.report_result(
        pb.ReportResultRequest(
            task_id=again.task_id,
            lease_token=again.lease_token,
            failure=pb.Failure(reason='model "x" not found', retryable=False),
        )
    )
    assert response.accepted is True
    data = await api.data(INSIGHT, {"id": insight_id}, account.access_token)
    assert data["insight"] == {
        "status": "FAILED",
        "content": None,
        "model": None,
        "attempts": 2,
        "error": 'model "x" not found',
    }
