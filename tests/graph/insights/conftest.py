"""Fixtures for the insight and metrics tests: a New York user, the hand-made period, a view
of the rows behind the API, and sessions for calling the query functions directly."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import create_engine, create_session_factory
from tests.factories import Account, Api
from tests.graph.insights.dataset import TIMEZONE
from tests.graph.insights.support import Database, Seeded, seed, sign_up_in


@pytest.fixture
async def db(pg: asyncpg.Connection) -> Database:
    # JSONB as Python values, as the API stores and reads them.
    await pg.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    return Database(pg)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a pool of their own, for calling db/queries functions directly."""
    engine = create_engine(database_url, pool_size=2)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def account(api: Api) -> Account:
    return await sign_up_in(api, TIMEZONE)


@pytest.fixture
async def seeded(api: Api, account: Account) -> Seeded:
    return await seed(api, account)
