"""Fixtures that run EngLog as real processes (see processes.py), and their output on failure."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Generator
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.e2e.processes import ApiProcess, Launcher
from tests.e2e.support import Database
from tests.factories import Api

TAIL_LINES = 200
BEGAN = pytest.StashKey[float]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[BEGAN] = time.monotonic()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test's report shows the output of every process it used."""
    report = yield
    if report.failed:
        began = item.stash.get(BEGAN, 0.0)
        for proc in Launcher.started:
            if proc.running or proc.started_at >= began:
                lines = proc.output().splitlines()[-TAIL_LINES:]
                report.sections.append((f"{proc.name} ({proc.log})", "\n".join(lines)))
    return report


@pytest.fixture
async def launcher(tmp_path: Path, database_url: str, redis_url: str) -> AsyncIterator[Launcher]:
    """Starts processes for one test; all of them are stopped when it ends."""
    launcher = Launcher(tmp_path, database_url=database_url, redis_url=redis_url)
    try:
        yield launcher
    finally:
        await launcher.close()


@pytest.fixture(scope="package")
async def shared_api(
    tmp_path_factory: pytest.TempPathFactory, database_url: str, redis_url: str
) -> AsyncIterator[ApiProcess]:
    """One `englog api` process for the tests that do not stop or reconfigure it; each test's
    rows are truncated after it, and its workers are stopped before that."""
    launcher = Launcher(
        tmp_path_factory.mktemp("shared-api"), database_url=database_url, redis_url=redis_url
    )
    try:
        yield await launcher.api(name="api-shared")
    finally:
        await launcher.close()


@pytest.fixture
async def http(shared_api: ApiProcess) -> AsyncIterator[Api]:
    """GraphQL over HTTP to the shared API process."""
    async with httpx.AsyncClient(base_url=shared_api.base_url, timeout=30.0) as client:
        yield Api(client)


@pytest.fixture
def db(pg: asyncpg.Connection) -> Database:
    return Database(pg)
