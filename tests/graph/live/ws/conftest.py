"""The websocket package's live server: one for the whole package, with its settings."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.graph.live.ws.support import WS_SETTINGS
from tests.live import Server, live_server


@pytest.fixture(scope="package")
async def server(database_url: str, redis_url: str) -> AsyncIterator[Server]:
    async with live_server(database_url, redis_url, **WS_SETTINGS) as running:
        yield running
