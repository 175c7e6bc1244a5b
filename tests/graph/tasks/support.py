"""What the worker-protocol tests share: a registered worker client, an insight requested
through the API, the next task off a stream, a row read straight from PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import grpc.aio

from protos.bridge import WorkerClient
from protos.generated.englog.worker import v1 as pb
from protos.vocabulary import ENRICH_ENTRY, GENERATE_INSIGHT
from tests.factories import Account, Api, connect

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
    async with connect(database_url) as connection:
        row = await connection.fetchrow(query, *args)
        assert row is not None
        return row


def success(task: pb.Task, content: str = "A fine week.") -> pb.ReportResultRequest:
    return pb.ReportResultRequest(
        task_id=task.task_id,
        lease_token=task.lease_token,
        success=pb.Success(content=content, model="fake:1b", stats={"eval_count": 42}),
    )


async def registered(channel: grpc.aio.Channel, *, slots: int = 2) -> WorkerClient:
    client = WorkerClient(channel)
    await client.register_worker(
        pb.RegisterWorkerRequest(
            worker_id=str(uuid.uuid4()),
            name="test-worker",
            capabilities=[GENERATE_INSIGHT, ENRICH_ENTRY],
            version="test",
            max_concurrent_tasks=slots,
            model="fake",
        )
    )
    return client
