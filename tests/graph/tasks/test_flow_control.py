"""Slots, heartbeats and enrichment over the real gRPC server."""

from __future__ import annotations

import asyncio
import uuid

import grpc.aio

from graph.context import AppState
from protos.bridge import WorkerClient
from protos.generated.englog.worker import v1 as pb
from tests.factories import Api
from tests.graph.tasks.support import fetchrow, next_task, registered, request_insight, success

ENTRY = "query($id: ID!) { logEntry(id: $id) { suggestedTags suggestedSkills } }"


async def test_a_stream_never_holds_more_tasks_than_the_worker_has_slots(
    api: Api, channel: grpc.aio.Channel
) -> None:
    account = await api.sign_up()
    for _ in range(3):
        await request_insight(api, account)
    worker = await registered(channel, slots=1)
    stream = worker.stream_tasks(pb.StreamTasksRequest(free_slots=1))
    try:
        first = await next_task(stream)
        # The slot is taken: nothing more comes until a result frees it.
        pending = asyncio.ensure_future(stream.read())
        done, _ = await asyncio.wait({pending}, timeout=1.0)
        assert done == set()
        assert (await worker.report_result(success(first))).accepted is True
        second = await asyncio.wait_for(pending, 10)
        assert isinstance(second, pb.Task)
        assert second.task_id != first.task_id
    finally:
        stream.cancel()


async def test_heartbeat_keeps_held_leases_and_drops_lost_ones(
    api: Api, worker: WorkerClient, database_url: str
) -> None:
    account = await api.sign_up()
    await request_insight(api, account)
    stream = worker.stream_tasks(pb.StreamTasksRequest(free_slots=1))
    try:
        task = await next_task(stream)
    finally:
        stream.cancel()
    before = await fetchrow(
        database_url, "SELECT lease_expires_at FROM task WHERE id = $1", uuid.UUID(task.task_id)
    )
    lost = str(uuid.uuid4())
    response = await worker.heartbeat(pb.HeartbeatRequest(lease_tokens=[task.lease_token, lost]))
    assert list(response.held_lease_tokens) == [task.lease_token]
    after = await fetchrow(
        database_url, "SELECT lease_expires_at FROM task WHERE id = $1", uuid.UUID(task.task_id)
    )
    assert after["lease_expires_at"] >= before["lease_expires_at"]


async def test_another_worker_cannot_report_or_heartbeat_a_task_it_does_not_hold(
    api: Api, worker: WorkerClient, channel: grpc.aio.Channel
) -> None:
    account = await api.sign_up()
    await request_insight(api, account)
    stream = worker.stream_tasks(pb.StreamTasksRequest(free_slots=1))
    try:
        task = await next_task(stream)
    finally:
        stream.cancel()
    intruder = await registered(channel)
    held = await intruder.heartbeat(pb.HeartbeatRequest(lease_tokens=[task.lease_token]))
    assert list(held.held_lease_tokens) == []
    progress = await intruder.report_progress(
        pb.ReportProgressRequest(task_id=task.task_id, lease_token=task.lease_token, delta="x")
    )
    assert progress.lease_held is False
    forged = success(task)
    forged.lease_token = str(uuid.uuid4())
    assert (await intruder.report_result(forged)).accepted is False
    assert (await worker.report_result(success(task))).accepted is True


async def test_enrichment_results_become_the_entry_suggestions(
    api: Api, worker: WorkerClient, app_state: AppState
) -> None:
    account = await api.sign_up()
    entry = await api.create_entry(account, title="Tuned the Postgres autovacuum")
    before = await api.data(ENTRY, {"id": entry["id"]}, account.access_token)
    assert before == {"logEntry": {"suggestedTags": [], "suggestedSkills": []}}
    stream = worker.stream_tasks(pb.StreamTasksRequest(free_slots=1))
    try:
        task = await next_task(stream)
    finally:
        stream.cancel()
    assert task.kind == "enrich_entry"
    assert task.enrich_entry is not None
    assert (task.enrich_entry.entry_id, task.enrich_entry.title) == (
        entry["id"],
        "Tuned the Postgres autovacuum",
    )
    result = pb.ReportResultRequest(
        task_id=task.task_id,
        lease_token=task.lease_token,
        success=pb.Success(
            model="fake:1b", suggested_tags=["postgres"], suggested_skills=["Database tuning"]
        ),
    )
    assert (await worker.report_result(result)).accepted is True
    after = await api.data(ENTRY, {"id": entry["id"]}, account.access_token)
    assert after == {
        "logEntry": {"suggestedTags": ["postgres"], "suggestedSkills": ["Database tuning"]}
    }
    assert app_state.grpc_port > 0
