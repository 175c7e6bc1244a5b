"""Bad input, tried systematically on what reads: every argument of every query (over HTTP)
and of every subscription (over a real websocket to a real uvicorn), fed generated values
(out-of-range instants, NUL and oversized strings, huge lists, bogus ids and cursors, wrong
JSON types), answers data or coded GraphQL errors, never INTERNAL_SERVER_ERROR nor a 5xx.

The documents are built from the exported SDL, so every argument is sent with its declared
type; a query or subscription argument added later without a strategy here fails the
coverage tests at the end.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import graphql
import httpx
import pytest
from hypothesis import strategies as st
from websockets.asyncio.client import ClientConnection

from db.engine import asyncpg_dsn
from db.queries import insight as insights
from graph.errors import INTERNAL_SERVER_ERROR
from graph.schema import export_sdl
from tests.factories import Account, Api, make_settings
from tests.graph.subscriptions.conftest import LiveServer, graphql_ws, live_server
from tests.graph.test_properties import (
    AWKWARD,
    DATETIME,
    DATETIMES,
    EXAMPLES,
    IDS,
    LONG,
    OWN,
    STRINGISH,
    TAG_TEXT,
    TEXT,
    WRONG,
    Ref,
    World,
    enum,
    for_all,
    huge,
    plausible,
    resolve,
    weighted,
)

READS = EXAMPLES  # 30 examples an argument set, deterministic, no database of examples
WITHIN = 15.0  # a bound on every wait, never an expectation of speed

SCHEMA = graphql.build_schema(export_sdl())

# --- strategies ----------------------------------------------------------------------------


def b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


# Instants whose UTC form leaves years 1–9999, and their neighbours: a pair of them is a
# range short enough to get past the range checks.
EDGES = st.sampled_from(
    [
        "0001-01-01T00:00:00+14:00",
        "0001-01-02T00:00:00+00:00",
        "9999-12-31T23:00:00-14:00",
        "9999-12-30T00:00:00+00:00",
    ]
)
INSTANTS = weighted((2, DATETIME), (1, EDGES))
CURSOR = Ref("cursor")  # a cursor the page answered for the user's own entries
CURSORS = weighted(
    (2, st.just(CURSOR)),
    (
        2,
        st.builds(
            lambda moment, item: b64(f"{moment}|{item}"), st.one_of(DATETIMES, EDGES), st.uuids()
        ),
    ),
    (1, st.builds(lambda text, item: b64(f"{text}|{item}"), TEXT, TEXT)),
    (1, TEXT.map(b64)),
    (2, STRINGISH),
)
PAGE_SIZES = weighted(
    (3, st.sampled_from([1, 20, 100])),
    (2, st.sampled_from([0, -1, 101, 2**31 - 1, -(2**31), 2**31, 2**53])),
    (1, st.integers()),
    (1, STRINGISH),
)
ACTIVITIES = ("MEETING", "CODE", "DEBUG", "DOCS", "REVIEW", "OPS")
VALUES = ("LOW", "MEDIUM", "HIGH")
IMPACTS = ("PERSONAL", "TEAM", "PRODUCT", "COMPANY")


def enum_list(values: tuple[str, ...]) -> st.SearchStrategy[Any]:
    # Past PostgreSQL's 32,767 bound parameters too.
    return plausible(
        st.one_of(
            st.lists(enum(*values), max_size=6),
            huge(values[0]),
            st.just([values[-1]] * 32_768),
        )
    )


FILTERS = plausible(
    st.fixed_dictionaries(
        {},
        optional={
            "from": INSTANTS,
            "to": INSTANTS,
            "projectIds": plausible(st.one_of(st.lists(IDS, max_size=4), huge(OWN))),
            "types": enum_list(ACTIVITIES),
            "tags": plausible(
                st.one_of(
                    st.lists(plausible(TAG_TEXT), max_size=6),
                    st.just(["rust", "a\x00b"]),
                    huge("x"),
                    huge("a\x00b"),
                    st.just(["x" * 500_000]),
                )
            ),
            "valueRatings": enum_list(VALUES),
            "impactLevels": enum_list(IMPACTS),
            "search": plausible(st.one_of(TEXT, st.just("s" * 500_000))),
        },
    )
)

NEWEST = Ref("newest")  # the newest event id of the user's stream of that subscription
THEIRS = Ref("theirs")  # the other account's newest event id
SINCES = weighted(
    (2, st.sampled_from([NEWEST, THEIRS, None, "0"])),
    (
        2,
        st.sampled_from(
            [
                "9999999999999999999",  # above int64
                "9223372036854775807",
                "99999999999999999999",
                "-1",
                "1.0",
                " 1",
                "²",  # str.isdigit() says yes, int() says no
                "١٢",  # Arabic-Indic digits: int() takes them
                "9" * 100_000,
            ]
        ),
    ),
    (1, st.integers(min_value=0, max_value=2**70).map(str)),
    (1, st.sampled_from(AWKWARD)),
    (1, st.one_of(LONG, WRONG)),
)


@dataclass(frozen=True)
class Read:
    """How to try one query or subscription: what to select of its answer, a strategy for
    each of its arguments, and which kind of object its Ref ids stand for."""

    selection: str
    arguments: dict[str, st.SearchStrategy[Any]] = field(default_factory=dict)
    kind: str = "project"


QUERIES = {
    "project": Read("{ id }", {"id": IDS}),
    "popularTags": Read("{ id }", {"limit": PAGE_SIZES}),
    "logEntry": Read("{ id }", {"id": IDS}, "entry"),
    "logEntries": Read(
        "{ totalCount edges { cursor } }",
        {"filter": FILTERS, "first": PAGE_SIZES, "after": CURSORS},
    ),
    "insight": Read("{ id }", {"id": IDS}, "insight"),
    "insights": Read(
        "{ totalCount }",
        {
            "kind": enum("WEEKLY_REPORT", "DAILY_SUMMARY", "PERFORMANCE_REVIEW"),
            "status": enum("PENDING", "RUNNING", "COMPLETED", "FAILED"),
            "first": PAGE_SIZES,
            "after": CURSORS,
        },
    ),
    "timeAllocation": Read("{ totalMinutes }", {"from": INSTANTS, "to": INSTANTS}),
    "productivityMetrics": Read("{ totalMinutes }", {"from": INSTANTS, "to": INSTANTS}),
}
# The queries without arguments: nothing to generate.
NO_ARGUMENTS = {"me", "exportMyData", "projects", "tags"}

SUBSCRIPTIONS = {
    "insightEvents": Read("{ cursor }", {"since": SINCES}),
    "logEntryEvents": Read("{ cursor }", {"since": SINCES}),
    "notifications": Read("{ cursor }", {"since": SINCES}),
    "insightProgress": Read("{ insightId }", {"id": IDS}, "insight"),
}
TOPICS = {
    "insightEvents": "insight",
    "logEntryEvents": "log_entry",
    "notifications": "notification",
}


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


def coded(errors: list[dict[str, Any]]) -> None:
    codes = [(error.get("extensions") or {}).get("code") for error in errors]
    assert all(isinstance(code, str) for code in codes), errors
    assert INTERNAL_SERVER_ERROR not in codes, errors


# --- queries -------------------------------------------------------------------------------


async def refs_of(world_: World, kind: str) -> dict[str, Any]:
    """What the Refs of a read stand for: the objects of `kind`, and a real cursor."""
    entries = await world_.ids("entry")
    refs: dict[str, Any] = entries if kind == "entry" else await world_.ids(kind)
    page = await world_.api.data(
        "{ logEntries(first: 1) { edges { cursor } } }", token=world_.me.access_token
    )
    refs["cursor"] = page["logEntries"]["edges"][0]["cursor"]
    return refs


@pytest.fixture
async def world(api: Api) -> World:
    return World(api, await api.sign_up(), await api.sign_up())


@pytest.mark.parametrize("name", sorted(QUERIES))
async def test_every_query_answers_data_or_coded_errors_whatever_its_arguments(
    client: httpx.AsyncClient, world: World, name: str
) -> None:
    read = QUERIES[name]
    query = document("query", name, read.selection)
    refs = await refs_of(world, read.kind)
    headers = {"Authorization": f"Bearer {world.me.access_token}"}

    async def check(values: dict[str, Any]) -> None:
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": resolve(values, refs)},
            headers=headers,
        )
        assert response.status_code < 500, response.text[:500]
        body = response.json()
        coded(body.get("errors") or [])
        if not body.get("errors"):
            assert response.status_code == 200
            assert set(body["data"]) == {name}

    await for_all(variables("query", name, read), check, READS)


# --- subscriptions -------------------------------------------------------------------------


@pytest.fixture
async def server(database_url: str, redis_url: str) -> AsyncIterator[LiveServer]:
    async with live_server(make_settings(database_url, redis_url)) as running:
        yield running


@dataclass
class Socket:
    """One graphql-transport-ws connection; each example subscribes with an id of its own."""

    socket: ClientConnection
    # Whether the server holds a live subscription of this socket's stream: the feed it joined
    # (graph/live/feeds.py) has a member.
    listening: Callable[[], bool]
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def message_of(self, operation_id: str) -> dict[str, Any]:
        """The next message of this operation (those of operations already completed, and
        pings, are skipped)."""
        while True:
            message: dict[str, Any] = json.loads(await self.socket.recv())
            if message["type"] == "ping":
                await self.socket.send(json.dumps({"type": "pong"}))
            elif message.get("id") == operation_id:
                return message

    async def try_(self, query: str, values: dict[str, Any]) -> None:
        """Subscribes: refused with coded errors, or accepted (it answers data, or the server
        joined its stream's feed); then ends it and waits until the server let go."""
        operation_id = str(next(self.ids))
        payload = {"query": query, "variables": values}
        await self.socket.send(
            json.dumps({"id": operation_id, "type": "subscribe", "payload": payload})
        )
        answer = asyncio.create_task(self.message_of(operation_id))
        try:
            async with asyncio.timeout(WITHIN):
                while not answer.done() and not self.listening():
                    await asyncio.wait([answer], timeout=0.01)
        finally:
            if not answer.done():
                answer.cancel()  # accepted, and silent: websockets' recv may be cancelled
                with contextlib.suppress(asyncio.CancelledError):
                    await answer
        message = answer.result() if answer.done() and not answer.cancelled() else None
        if message is not None and message["type"] == "error":
            coded(message["payload"])
            return
        if message is not None:
            assert message["type"] in ("next", "complete"), message
            coded(message.get("payload", {}).get("errors") or [])
        await self.socket.send(json.dumps({"id": operation_id, "type": "complete"}))
        for _ in range(int(WITHIN / 0.01)):
            if not self.listening():
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the subscription was not ended")


async def newest_events(database_url: str, account: Account) -> dict[str, str]:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        rows = await connection.fetch(
            "SELECT topic, max(id) AS id FROM event WHERE user_id = $1 GROUP BY topic",
            uuid.UUID(account.user_id),
        )
    finally:
        await connection.close()
    return {row["topic"]: str(row["id"]) for row in rows}


@pytest.mark.parametrize("name", sorted(SUBSCRIPTIONS))
async def test_every_subscription_answers_data_or_coded_errors_whatever_its_arguments(
    server: LiveServer, database_url: str, name: str
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http_client:
        world_ = World(Api(http_client), *[await Api(http_client).sign_up() for _ in range(2)])
        read = SUBSCRIPTIONS[name]
        refs: dict[str, Any] = await world_.ids(read.kind)
        await world_.ids("entry")  # events in the log-entry stream too
        if read.kind == "insight":
            # Ended: insightProgress answers at once and completes. (A pending one would
            # wait for the model; ending it from here raced the event hub's clean-up.)
            async with server.state.db() as session, session.begin():
                for ref in ("own", "gone"):
                    insight_id = uuid.UUID(refs[ref])
                    assert await insights.mark_insight_running(session, insight_id=insight_id)
                    assert await insights.fail_insight(
                        session, insight_id=insight_id, error="model timed out"
                    )
        mine = await newest_events(database_url, world_.me)
        theirs = await newest_events(database_url, world_.other)
        refs["newest"] = mine.get(TOPICS.get(name, ""), "0")
        refs["theirs"] = max(theirs.values(), key=int)
    query = document("subscription", name, read.selection)
    async with graphql_ws(server.ws_url, world_.me.access_token) as socket_:
        user_id, topic = uuid.UUID(world_.me.user_id), TOPICS.get(name)
        feeds = server.state.feeds
        connection = Socket(
            socket_, lambda: topic is not None and bool(feeds.members(user_id, topic))
        )

        async def check(values: dict[str, Any]) -> None:
            await connection.try_(query, resolve(values, refs))

        await for_all(variables("subscription", name, read), check, READS)


# --- every argument has its strategy --------------------------------------------------------


def arguments_of(root: graphql.GraphQLObjectType | None) -> dict[str, set[str]]:
    assert root is not None
    return {name: set(f.args) for name, f in root.fields.items()}


def test_every_query_argument_of_the_schema_has_a_strategy() -> None:
    expected = {name: set(read.arguments) for name, read in QUERIES.items()}
    expected.update({name: set() for name in NO_ARGUMENTS})
    assert arguments_of(SCHEMA.query_type) == expected


def test_every_subscription_argument_of_the_schema_has_a_strategy() -> None:
    expected = {name: set(read.arguments) for name, read in SUBSCRIPTIONS.items()}
    assert arguments_of(SCHEMA.subscription_type) == expected
