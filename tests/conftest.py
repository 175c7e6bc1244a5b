"""Real PostgreSQL and Redis for every test: this machine's (ENGLOG_TEST_*_URL) or embedded ones."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from graphlib import TopologicalSorter
from pathlib import Path

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette
from starlette.types import ASGIApp

from core.tracing import use_provider
from db.migrate import upgrade
from graph.app import create_app
from graph.context import AppState
from graph.settings import ApiSettings
from tests.factories import Api, connect, drop_database, make_settings, recreate_database
from tests.live import Server, live_server

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A PostgreSQL server's URL (any database on it): the admin connection for test databases."""
    configured = os.environ.get("ENGLOG_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    from englog.embedded import embedded_postgres

    with embedded_postgres(ROOT / ".englog" / "test" / "pg") as url:
        yield url


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    """A fresh database of this test run's own (runs may overlap), migrated to head."""
    name = f"englog_test_{os.getpid()}"
    url = recreate_database(server_url, name)
    upgrade(url)
    yield url
    drop_database(server_url, name)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    configured = os.environ.get("ENGLOG_TEST_REDIS_URL")
    if configured:
        yield configured
        return
    from englog.embedded import embedded_redis

    with embedded_redis(ROOT / ".englog" / "test" / "redis") as url:
        yield url


@pytest.fixture(scope="session")
def settings(database_url: str, redis_url: str) -> ApiSettings:
    return make_settings(database_url, redis_url)


@pytest.fixture(scope="session")
async def running_app(settings: ApiSettings) -> AsyncIterator[tuple[Starlette, ASGIApp]]:
    """The API with its lifespan running (pools open, gRPC serving), shared by the session."""
    application = create_app(settings)
    async with LifespanManager(application) as manager:
        yield application, manager.app


@pytest.fixture(scope="session")
def app(running_app: tuple[Starlette, ASGIApp]) -> ASGIApp:
    return running_app[1]


@pytest.fixture(scope="session")
def app_state(running_app: tuple[Starlette, ASGIApp]) -> AppState:
    """What the lifespan opened (engine, session factory, gRPC port, …)."""
    state: AppState = running_app[0].state.englog
    return state


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Every span the process ends while the test runs, in memory (the global provider swapped)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    previous = use_provider(provider)
    try:
        yield exporter
    finally:
        use_provider(previous)
        provider.shutdown()


@pytest.fixture(autouse=True)
async def clean_database(database_url: str, emptying: str) -> AsyncIterator[None]:
    yield
    async with connect(database_url) as connection:
        await connection.execute(emptying)


@pytest.fixture(scope="session")
async def emptying(database_url: str) -> str:
    """One DELETE per table of the schema, children before parents. Not TRUNCATE: on tables
    this small a DELETE takes well under a millisecond where TRUNCATE, which makes new files
    for every table, takes about 100 ms, and this runs after every test. Read from the
    schema, so a table a migration adds is emptied too."""
    async with connect(database_url) as connection:
        tables = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename <> 'alembic_version'"
        )
        references = await connection.fetch(
            "SELECT conrelid::regclass::text AS child, confrelid::regclass::text AS parent"
            " FROM pg_constraint WHERE contype = 'f' AND conrelid <> confrelid"
        )
    # A parent's rows go after its children's (graphlib yields a node after its predecessors).
    order = TopologicalSorter({f'"{row["tablename"]}"': set() for row in tables})
    for row in references:
        order.add(_quoted(row["parent"]), _quoted(row["child"]))
    return "".join(f"DELETE FROM {table};" for table in order.static_order())


def _quoted(name: str) -> str:
    return name if name.startswith('"') else f'"{name}"'


@pytest.fixture
async def pg(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A plain connection to the test database, for reading rows behind the API's back."""
    async with connect(database_url) as connection:
        yield connection


@pytest.fixture
async def server(database_url: str, redis_url: str) -> AsyncIterator[Server]:
    """The API of this test's own on a real uvicorn (websockets and all); a package may
    override it with its own settings or scope."""
    async with live_server(database_url, redis_url) as running:
        yield running


@pytest.fixture
async def http(server: Server) -> AsyncIterator[Api]:
    """An HTTP client to `server` (the nearest one in scope)."""
    async with httpx.AsyncClient(base_url=server.http_url) as client:
        yield Api(client)


@pytest.fixture
async def client(app: ASGIApp) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://englog.test") as client:
        yield client


@pytest.fixture
def api(client: httpx.AsyncClient) -> Api:
    return Api(client)
