"""A typed worker client dialling the session app's real gRPC server (plaintext, loopback)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc.aio
import pytest

from graph.context import AppState
from protos.bridge import WorkerClient
from tests.graph.tasks.support import registered


@pytest.fixture
async def channel(app_state: AppState) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{app_state.grpc_port}") as channel:
        yield channel


@pytest.fixture
async def worker(channel: grpc.aio.Channel) -> WorkerClient:
    return await registered(channel)
