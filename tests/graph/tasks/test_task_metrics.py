"""A task's end, reported over the real gRPC server, in the API's /metrics."""

from __future__ import annotations

import httpx

from protos.bridge import WorkerClient
from protos.generated.englog.worker import v1 as pb
from tests.factories import Api
from tests.graph.support import moved, scrape, value
from tests.graph.tasks.support import next_task, request_insight


async def test_a_task_reported_over_grpc_moves_the_task_and_model_metrics(
    client: httpx.AsyncClient, api: Api, worker: WorkerClient
) -> None:
    account = await api.sign_up()
    await request_insight(api, account)
    stream = worker.stream_tasks(pb.StreamTasksRequest(free_slots=1))
    try:
        task = await next_task(stream)
        during = await scrape(client)
        assert value(during, "englog_workers_connected") == 1
        stats = {"eval_count": 40, "eval_duration": 2_000_000_000, "total_duration": 3_000_000_000}
        result = pb.ReportResultRequest(
            task_id=task.task_id,
            lease_token=task.lease_token,
            success=pb.Success(content="A fine week.", model="fake:1b", stats=stats),
        )
        assert (await worker.report_result(result)).accepted is True
    finally:
        stream.cancel()
    after = await scrape(client)

    assert (
        moved(
            during,
            after,
            "englog_task_duration_seconds_count",
            kind="generate_insight",
            outcome="succeeded",
        )
        == 1
    )
    assert moved(during, after, "englog_task_attempts_sum", kind="generate_insight") == 1
    assert moved(during, after, "englog_insight_generation_seconds_sum") == 3.0
    assert moved(during, after, "englog_llm_tokens_per_second_sum") == 20.0
