"""What every property test runs on: Hypothesis examples on the test's own event loop, a
snapshot of every row, the check that an answer is data or coded errors, two accounts with an
object of each kind, and GraphQL documents built from the exported SDL.

Hypothesis drives a plain function in a worker thread; each example runs on the test's own
event loop (where the app's pools live), so @given never meets pytest's async fixtures.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import asyncpg
import graphql
import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.errors import INTERNAL_SERVER_ERROR
from graph.schema import export_sdl
from tests.factories import Account, Api, entry_input
from tests.properties.strategies import Read, weighted

EXAMPLES = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI stays deterministic
    database=None,  # nothing written under the checkout
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FEW_EXAMPLES = settings(EXAMPLES, max_examples=12)  # each example writes up to 500 entries
READS = EXAMPLES  # 30 examples an argument set of a query or subscription


async def for_all(
    strategy: st.SearchStrategy[Any],
    probe: Callable[[Any], Coroutine[Any, Any, None]],
    examples: settings = EXAMPLES,
) -> None:
    """Runs `probe` on examples of `strategy` (shrinking a failing one) on this event loop."""
    loop = asyncio.get_running_loop()

    @examples
    @given(strategy)
    def run(value: Any) -> None:
        asyncio.run_coroutine_threadsafe(probe(value), loop).result()

    await asyncio.to_thread(run)


# --- the database, every row of it -------------------------------------------------------

KEYS = {
    '"user"': ("id",),
    "refresh_token": ("jti",),
    "project": ("id",),
    "tag": ("id",),
    "log_entry": ("id",),
    "log_entry_tag": ("entry_id", "tag_id"),
    "insight": ("id",),
    "task": ("id",),
    "event": ("id",),
    "notification": ("id",),
    "schedule_run": ("user_id", "job", "period"),
    "running_timer": ("id",),
    "running_timer_tag": ("timer_id", "tag_id"),
    "access_token": ("id",),
    "calendar_feed": ("user_id",),
}
Snapshot = dict[str, dict[tuple[Any, ...], tuple[Any, ...]]]


@dataclass(frozen=True)
class Change:
    added: int = 0
    removed: int = 0
    changed: int = 0


@dataclass
class Database:
    connection: asyncpg.Connection

    async def snapshot(self) -> Snapshot:
        tables: Snapshot = {}
        for table, key in KEYS.items():
            rows = await self.connection.fetch(f"SELECT * FROM {table}")
            tables[table] = {
                tuple(row[column] for column in key): tuple(row.values()) for row in rows
            }
        return tables

    async def value(self, query: str, *args: Any) -> Any:
        return await self.connection.fetchval(query, *args)


def changes(before: Snapshot, after: Snapshot) -> dict[str, Change]:
    """Per table: rows added, removed and changed (tables without any left out)."""
    result = {}
    for table in KEYS:
        old, new = before[table], after[table]
        change = Change(
            added=len(new.keys() - old.keys()),
            removed=len(old.keys() - new.keys()),
            changed=sum(1 for key in old.keys() & new.keys() if old[key] != new[key]),
        )
        if change != Change():
            result[table] = change
    return result


# --- answers -------------------------------------------------------------------------------


async def answer(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str | None = None
) -> dict[str, Any] | None:
    """The data of a successful answer, or None after checking that every error is coded
    (and not INTERNAL_SERVER_ERROR) and the status is not 5xx."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code < 500, response.text[:500]
    body = response.json()
    errors = body.get("errors")
    if not errors:
        assert response.status_code == 200, response.text[:500]
        data: dict[str, Any] = body["data"]
        return data
    codes = [(error.get("extensions") or {}).get("code") for error in errors]
    assert all(isinstance(code, str) for code in codes), errors
    assert INTERNAL_SERVER_ERROR not in codes, errors
    assert body.get("data") is None, body
    return None


@dataclass
class Probe:
    """Sends one mutation and checks the database against its answer."""

    client: httpx.AsyncClient
    db: Database

    async def run(
        self,
        query: str,
        variables: dict[str, Any],
        token: str | None,
        on_success: Callable[[dict[str, Any], Snapshot], dict[str, Change]],
    ) -> dict[str, Any] | None:
        """The answer's data, if any; `on_success(data, before)` says what it must have
        written (a refusal must have written nothing)."""
        before = await self.db.snapshot()
        data = await answer(self.client, query, variables, token)
        after = await self.db.snapshot()
        expected = {} if data is None else on_success(data, before)
        assert changes(before, after) == expected, (variables, data)
        return data


def coded(errors: list[dict[str, Any]]) -> None:
    codes = [(error.get("extensions") or {}).get("code") for error in errors]
    assert all(isinstance(code, str) for code in codes), errors
    assert INTERNAL_SERVER_ERROR not in codes, errors


# --- accounts and their objects ----------------------------------------------------------

CREATE_PROJECT = "mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }"
CREATE_TAG = "mutation($input: CreateTagInput!) { createTag(input: $input) { id } }"
CREATE_ENTRY = """mutation($input: CreateLogEntryInput!) {
  createLogEntry(input: $input) { id tags { id } } }"""
REQUEST_INSIGHT = """mutation($input: RequestInsightInput!) {
  requestInsight(input: $input) { id } }"""
INSIGHT = {"kind": "WEEKLY_REPORT", "periodStart": "2026-11-02", "periodEnd": "2026-11-08"}


@dataclass
class World:
    """An account with one object of each kind, another account with its own, and the id of
    a deleted one: what Ref ids stand for."""

    api: Api
    me: Account
    other: Account

    async def create(self, kind: str, account: Account, name: str) -> str:
        query, variables = {
            "project": (CREATE_PROJECT, {"input": {"name": name}}),
            "tag": (CREATE_TAG, {"input": {"name": name}}),
            "entry": (CREATE_ENTRY, {"input": entry_input(title=name)}),
            "insight": (REQUEST_INSIGHT, {"input": INSIGHT}),
        }[kind]
        data = await self.api.data(query, variables, account.access_token)
        [payload] = data.values()
        return str(payload["id"])

    async def ids(self, kind: str) -> dict[str, str]:
        result = {}
        for ref, account in (("own", self.me), ("others", self.other), ("gone", self.me)):
            result[ref] = await self.create(kind, account, f"{ref}-{uuid.uuid4()}")
        delete = {
            "project": "deleteProject",
            "tag": "deleteTag",
            "entry": "deleteLogEntry",
        }.get(kind)
        if delete:
            await self.api.data(
                f"mutation($id: ID!) {{ {delete}(id: $id) }}",
                {"id": result["gone"]},
                self.me.access_token,
            )
        return result


# --- documents from the exported SDL -------------------------------------------------------

SCHEMA = graphql.build_schema(export_sdl())


def variable_type(argument: graphql.GraphQLArgument) -> str:
    """The argument's type, nullable when it has a default (so that leaving the variable out
    exercises the default)."""
    declared = str(argument.type)
    has_default = argument.default_value is not graphql.Undefined
    return declared[:-1] if has_default and declared.endswith("!") else declared


def document(operation: str, name: str, selection: str) -> str:
    root = SCHEMA.query_type if operation == "query" else SCHEMA.subscription_type
    assert root is not None
    arguments = root.fields[name].args
    declared = ", ".join(f"${arg}: {variable_type(a)}" for arg, a in arguments.items())
    used = ", ".join(f"{arg}: ${arg}" for arg in arguments)
    return f"{operation}({declared}) {{ {name}({used}) {selection} }}"


def variables(operation: str, name: str, read: Read) -> st.SearchStrategy[dict[str, Any]]:
    """Every required argument (mostly), the others when drawn."""
    root = SCHEMA.query_type if operation == "query" else SCHEMA.subscription_type
    assert root is not None
    arguments = root.fields[name].args
    required = {
        arg: strategy
        for arg, strategy in read.arguments.items()
        if graphql.is_non_null_type(arguments[arg].type)
        and arguments[arg].default_value is graphql.Undefined
    }
    optional = {arg: s for arg, s in read.arguments.items() if arg not in required}
    return weighted(
        (9, st.fixed_dictionaries(required, optional=optional)),
        (1, st.fixed_dictionaries({}, optional=read.arguments)),
    )
