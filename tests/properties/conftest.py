"""Fixtures of the property tests: a direct view of every row, the probe that checks an
answer against it, two accounts with their objects, and a live server for subscriptions."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from tests.factories import Api
from tests.live import Server, live_server
from tests.properties.harness import Database, Probe, World


@pytest.fixture
def db(pg: asyncpg.Connection) -> Database:
    return Database(pg)


@pytest.fixture
def probe(client: httpx.AsyncClient, db: Database) -> Probe:
    return Probe(client, db)


@pytest.fixture
async def world(api: Api) -> World:
    return World(api, await api.sign_up(), await api.sign_up())


@pytest.fixture
async def server(database_url: str, redis_url: str) -> AsyncIterator[Server]:
    async with live_server(database_url, redis_url) as running:
        yield running
