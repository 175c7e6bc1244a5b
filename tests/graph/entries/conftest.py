"""Fixtures for the log-entry tests: a signed-up account and a direct database view."""

from __future__ import annotations

import asyncpg
import pytest

from tests.factories import Account, Api
from tests.graph.entries.support import Database


@pytest.fixture
def db(pg: asyncpg.Connection) -> Database:
    return Database(pg)


@pytest.fixture
async def account(api: Api) -> Account:
    return await api.sign_up()
