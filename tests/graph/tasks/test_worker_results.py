"""What a worker may report: only for a lease it holds, and only within bounds; over the real
gRPC server, with the rows it leaves in PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import grpc.aio
import pytest

from protos.bridge import WorkerClient
from protos.generated.englog.worker import v1 as pb
from tests.factories import Account, Api
from tests.graph.tasks.support import fetchrow, next_task, registered, request_insight, success

TASK_ROW = "SELECT status, attempts, lease_token, lease_owner, last_error FROM task WHERE id = $1"
INSIGHT_ROW = "SELECT status, content, model, error FROM insight WHERE id = $1"
CONTROL = "must not contain control characters"


async def leased_insight(api: Api, worker: WorkerClient) -> tuple[Account, str, pb.Task]:
    """A signed-up user's insight whose task `worker` holds the lease of."""
    account = await api.sign_up()
    insight_id = await request_insight(api, account)
    stream = worker.stream_tasks(pb.StreamTasksRequest(free_slots=1))
    try:
        task = await next_task(stream)
    finally:
        stream.cancel()
    return account, insight_id, task


@pytest.fixture
async def second_worker(channel: grpc.aio.Channel) -> WorkerClient:
    return await registered(channel)


async def task_row(database_url: str, task: pb.Task) -> dict[str, Any]:
    return dict(await fetchrow(database_url, TASK_ROW, uuid.UUID(task.task_id)))


async def insight_row(database_url: str, insight_id: str) -> dict[str, Any]:
    return dict(await fetchrow(database_url, INSIGHT_ROW, uuid.UUID(insight_id)))


async def refusal(call: Any) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    return raised.value.code(), str(raised.value.details())


# the lease's owner


async def test_a_result_from_another_worker_with_the_lease_token_is_refused(
    api: Api, worker: WorkerClient, second_worker: WorkerClient, database_url: str
) -> None:
    _, insight_id, task = await leased_insight(api, worker)
    leased = await task_row(database_url, task)
    failure = pb.ReportResultRequest(
        task_id=task.task_id,
        lease_token=task.lease_token,
        failure=pb.Failure(reason="stolen", retryable=False),
    )

    for request in (success(task, "Not mine to write."), failure):
        assert await refusal(second_worker.report_result(request)) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "this lease is held by another worker",
        )

    assert leased["status"] == "leased"
    assert await task_row(database_url, task) == leased
    assert await insight_row(database_url, insight_id) == {
        "status": "RUNNING",
        "content": None,
        "model": None,
        "error": None,
    }
    assert (await worker.report_result(success(task))).accepted is True
    assert (await task_row(database_url, task))["status"] == "succeeded"


# results within bounds


async def test_a_success_holding_nul_is_invalid_argument_and_fails_the_attempt(
    api: Api, worker: WorkerClient, database_url: str
) -> None:
    _, insight_id, task = await leased_insight(api, worker)

    code, details = await refusal(worker.report_result(success(task, "A fine\x00 week.")))

    assert (code, details) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        f"invalid result: success.content: {CONTROL}; the attempt failed",
    )
    error = f"the worker's result was refused: success.content: {CONTROL}"
    assert await task_row(database_url, task) == {
        "status": "queued",  # retryable: the next attempt may well write a valid one
        "attempts": 1,
        "lease_token": None,
        "lease_owner": None,
        "last_error": error,
    }
    assert await insight_row(database_url, insight_id) == {
        "status": "PENDING",
        "content": None,
        "model": None,
        "error": error,
    }
    # The same report again: still invalid, and the lease is gone.
    assert await refusal(worker.report_result(success(task, "A fine\x00 week."))) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        f"invalid result: success.content: {CONTROL}",
    )


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"content": "x" * 100_001}, "success.content: must be at most 100000 characters"),
        ({"model": "fake\n1b"}, f"success.model: {CONTROL}"),
        ({"model": "m" * 201}, "success.model: must be at most 200 characters"),
        (
            {"stats": {"eval\x00count": 1}},
            "success.stats: keys must be 1-64 letters, digits or _.:-",
        ),
        (
            {"stats": {f"s{index}": index for index in range(33)}},
            "success.stats: must have at most 32 entries",
        ),
        ({"suggested_tags": ["t"] * 21}, "success.suggested_tags: must have at most 20 names"),
        ({"suggested_tags": ["ok", "a\x00b"]}, f"success.suggested_tags.1: {CONTROL}"),
        (
            {"suggested_skills": ["s" * 51]},
            "success.suggested_skills.0: must be at most 50 characters",
        ),
    ],
)
async def test_a_success_out_of_bounds_is_invalid_argument_naming_the_field(
    api: Api, worker: WorkerClient, database_url: str, fields: dict[str, Any], problem: str
) -> None:
    _, insight_id, task = await leased_insight(api, worker)
    values: dict[str, Any] = {"content": "A fine week.", "model": "fake:1b", **fields}
    request = pb.ReportResultRequest(
        task_id=task.task_id, lease_token=task.lease_token, success=pb.Success(**values)
    )

    assert await refusal(worker.report_result(request)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        f"invalid result: {problem}; the attempt failed",
    )
    assert await insight_row(database_url, insight_id) == {
        "status": "PENDING",
        "content": None,
        "model": None,
        "error": f"the worker's result was refused: {problem}",
    }


async def test_an_enrichment_with_a_nul_suggestion_leaves_the_entry_unchanged(
    api: Api, worker: WorkerClient, database_url: str
) -> None:
    account = await api.sign_up()
    entry = await api.create_entry(account)
    stream = worker.stream_tasks(pb.StreamTasksRequest(free_slots=1, kinds=["enrich_entry"]))
    try:
        task = await next_task(stream)
    finally:
        stream.cancel()
    request = pb.ReportResultRequest(
        task_id=task.task_id,
        lease_token=task.lease_token,
        success=pb.Success(model="fake:1b", suggested_tags=["deploy\x00"]),
    )

    assert await refusal(worker.report_result(request)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        f"invalid result: success.suggested_tags.0: {CONTROL}; the attempt failed",
    )
    row = await fetchrow(
        database_url, "SELECT suggestions FROM log_entry WHERE id = $1", uuid.UUID(entry["id"])
    )
    assert row["suggestions"] is None
    assert (await task_row(database_url, task))["status"] == "queued"


async def test_a_huge_failure_reason_is_stored_cut_and_cleaned(
    api: Api, worker: WorkerClient, database_url: str
) -> None:
    _, insight_id, task = await leased_insight(api, worker)
    reason = "Ollama\x00 said no: " + "x" * 3_000_000
    request = pb.ReportResultRequest(
        task_id=task.task_id,
        lease_token=task.lease_token,
        failure=pb.Failure(reason=reason, retryable=False),
    )

    assert (await worker.report_result(request)).accepted is True

    kept = "Ollama\ufffd said no: "
    stored = kept + "x" * (1999 - len(kept)) + "…"
    assert len(stored) == 2000
    assert await task_row(database_url, task) == {
        "status": "failed",
        "attempts": 1,
        "lease_token": None,
        "lease_owner": None,
        "last_error": stored,
    }
    assert await insight_row(database_url, insight_id) == {
        "status": "FAILED",
        "content": None,
        "model": None,
        "error": stored,
    }


# progress within bounds


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"delta": "A fine\x00"}, f"delta: {CONTROL}"),
        ({"delta": "x" * 16_385}, "delta: must be at most 16384 characters"),
        ({"delta": "A fine", "percent": 101}, "percent: must be at most 100"),
    ],
)
async def test_progress_out_of_bounds_is_invalid_argument_and_the_lease_stays(
    api: Api, worker: WorkerClient, database_url: str, fields: dict[str, Any], problem: str
) -> None:
    _, _, task = await leased_insight(api, worker)
    request = pb.ReportProgressRequest(
        task_id=task.task_id, lease_token=task.lease_token, sequence=1, **fields
    )

    assert await refusal(worker.report_progress(request)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        f"invalid progress: {problem}",
    )
    valid = pb.ReportProgressRequest(
        task_id=task.task_id, lease_token=task.lease_token, delta=" A fine", sequence=2
    )
    assert (await worker.report_progress(valid)).lease_held is True
    assert (await task_row(database_url, task))["status"] == "leased"
