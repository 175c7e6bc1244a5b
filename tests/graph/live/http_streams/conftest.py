"""One live server for the package (its limits low, so the tests can reach them), and a client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.factories import Api
from tests.live import WITHIN, Server, live_server


@pytest.fixture(scope="package")
async def server(database_url: str, redis_url: str) -> AsyncIterator[Server]:
    async with live_server(
        database_url,
        redis_url,
        ws_ping_seconds=0.2,
        ws_auth_recheck_seconds=0.2,
        ws_max_connections_per_user=3,
    ) as running:
        yield running


@pytest.fixture
async def client(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.http_url, timeout=WITHIN) as http_client:
        yield http_client


@pytest.fixture
def http(client: httpx.AsyncClient) -> Api:
    return Api(client)
