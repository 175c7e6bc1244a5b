"""A typed worker client dialling the session app's real gRPC server (plaintext, loopback)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import grpc.aio
import pytest

from graph.context import AppState
from protos.bridge import WorkerClient
from protos.generated.englog.worker import v1 as pb


async def registered(channel: grpc.aio.Channel, *, slots: int = 2) -> WorkerClient:
    client = WorkerClient(channel)
    await client.register_worker(
        pb.RegisterWorkerRequest(
            worker_id=str(uuid.uuid4()),
            name="test-worker",
            capabilities=["generate_insight", "enrich_entry"],
            version="test",
            max_concurrent_tasks=slots,
            model="fake",
        )
    )
    return client


@pytest.fixture
async def channel(app_state: AppState) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{app_state.grpc_port}") as channel:
        yield channel


@pytest.fixture
async def worker(channel: grpc.aio.Channel) -> WorkerClient:
    return await registered(channel)
