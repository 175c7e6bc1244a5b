"""A page of entries with their projects and tags costs the same few SQL statements at any size."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.factories import Account, Api, entry_input
from tests.graph.entries.support import CREATE_ENTRIES

PAGE = """
query Page($first: Int!) {
  logEntries(first: $first) {
    totalCount
    edges { node { id title project { id name } tags { id name usageCount } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
FROM = re.compile(r"\bFROM\s+(\w+)")
TAG_POOL = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"]
PROJECTS = ["Apollo", "Gemini", "Mercury", "Artemis"]
# The statements of the request being counted, and no other: a context variable, which the
# request's tasks (DataLoaders') and SQLAlchemy's greenlets inherit, and the app's background
# tasks (the lease sweeper, the denylist's re-sync), started before it was set, do not.
_COUNTED: ContextVar[list[str] | None] = ContextVar("counted", default=None)


def _record(*args: Any) -> None:
    counted = _COUNTED.get()
    if counted is not None:
        counted.append(args[2])  # (conn, cursor, statement, parameters, context, executemany)


@contextmanager
def counting_statements() -> Iterator[list[str]]:
    statements: list[str] = []
    token = _COUNTED.set(statements)
    event.listen(Engine, "before_cursor_execute", _record)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", _record)
        _COUNTED.reset(token)


@pytest.fixture
async def seeded(api: Api, account: Account) -> list[dict[str, Any]]:
    projects = [(await api.create_project(account, name))["id"] for name in PROJECTS]
    inputs = [
        entry_input(
            index,
            title=f"Entry {index:03d}",
            projectId=projects[index % len(projects)],
            tags=[TAG_POOL[(index + k) % len(TAG_POOL)] for k in range(3)],
        )
        for index in range(100)
    ]
    data = await api.data(CREATE_ENTRIES, {"inputs": inputs}, account.access_token)
    entries: list[dict[str, Any]] = data["createLogEntries"]
    return entries


async def fetch_counting(
    api: Api, account: Account, first: int
) -> tuple[dict[str, Any], list[str]]:
    with counting_statements() as statements:
        data = await api.data(PAGE, {"first": first}, account.access_token)
    return data["logEntries"], statements


@pytest.mark.parametrize("first", [10, 100])
async def test_a_page_with_projects_and_tags_costs_four_statements(
    api: Api, account: Account, seeded: list[dict[str, Any]], first: int
) -> None:
    connection, statements = await fetch_counting(api, account, first)
    assert connection["totalCount"] == 100
    assert len(connection["edges"]) == first
    assert connection["pageInfo"]["hasNextPage"] is (first < 100)
    newest = connection["edges"][0]["node"]
    assert newest["title"] == "Entry 099"
    assert newest["project"]["name"] == PROJECTS[99 % len(PROJECTS)]
    assert sorted(tag["name"] for tag in newest["tags"]) == sorted(
        TAG_POOL[(99 + k) % len(TAG_POOL)] for k in range(3)
    )
    assert all(len(edge["node"]["tags"]) == 3 for edge in connection["edges"])
    # One page query, one count, one batched project load, one batched tag load.
    assert len(statements) == 4, statements
    froms = sorted(table for statement in statements for table in FROM.findall(statement)[:1])
    assert froms == ["log_entry", "log_entry", "log_entry_tag", "project"], statements


async def test_the_statement_count_does_not_grow_with_the_page(
    api: Api, account: Account, seeded: list[dict[str, Any]]
) -> None:
    _, small = await fetch_counting(api, account, 10)
    _, large = await fetch_counting(api, account, 100)
    assert (len(small), len(large)) == (4, 4)
