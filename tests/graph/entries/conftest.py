"""Fixtures for the log-entry tests: a signed-up account and a direct database view."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from db.engine import asyncpg_dsn
from tests.factories import Account, Api
from tests.graph.entries.support import Database


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        yield Database(connection)
    finally:
        await connection.close()


@pytest.fixture
async def account(api: Api) -> Account:
    return await api.sign_up()
