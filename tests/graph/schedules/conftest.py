"""Fixtures for the scheduler tests: a scheduler on the test app's database and a raw connection."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from graph.context import AppState
from graph.schedules.runner import Scheduler
from tests.factories import connect
from tests.graph.schedules.support import make_scheduler


@pytest.fixture
async def scheduler(app_state: AppState, database_url: str) -> AsyncIterator[Scheduler]:
    made = make_scheduler(app_state, database_url)
    try:
        yield made
    finally:
        await made.close()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    async with connect(database_url) as connection:
        yield connection
