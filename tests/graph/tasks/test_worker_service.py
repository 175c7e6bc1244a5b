"""The worker protocol against the real grpc.aio server of the API, in process."""

from __future__ import annotations

import json
import uuid

import grpc
import grpc.aio
import pytest

from protos.bridge import WorkerClient
from protos.generated.englog.worker import v1 as pb
from protos.vocabulary import SESSION_METADATA
from tests.factories import Api
from tests.graph.tasks.support import INSIGHT, fetchrow, next_task, request_insight, success


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
