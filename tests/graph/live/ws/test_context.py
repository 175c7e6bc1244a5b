"""One Context a connection, DataLoaders of their own for every operation and every event."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager

import pytest
import strawberry
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute

from graph.context import Info
from graph.http import GraphQLView
from graph.loaders import Loaders
from tests.factories import Api
from tests.live import Server, logged_in, serve

ENTRY_PROJECT = "{ logEntries { edges { node { project { name } } } } }"
RENAME = 'mutation($id: ID!) { updateProject(id: $id, input: {name: "Gemini"}) { name } }'

_seen: list[Loaders] = []
_released: dict[int, asyncio.Event] = {}  # lets a `held` subscription finish


def _serial(loaders: Loaders) -> int:
    """A stable number for each Loaders object (ids of dead objects get reused)."""
    for number, seen in enumerate(_seen):
        if seen is loaders:
            return number
    _seen.append(loaders)
    return len(_seen) - 1


@strawberry.type
class Probe:
    @strawberry.field
    def loaders(self, info: Info) -> int:
        return _serial(info.context.loaders)

    @strawberry.field
    def again(self, info: Info) -> int:
        return _serial(info.context.loaders)

    @strawberry.field
    def user_id(self, info: Info) -> str:
        return str(info.context.user_id())


@strawberry.type
class Query:
    @strawberry.field
    def probe(self) -> Probe:
        return Probe()


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def probes(self, count: int) -> AsyncGenerator[Probe, None]:
        for _ in range(count):
            yield Probe()

    @strawberry.subscription
    async def held(self, release: int) -> AsyncGenerator[Probe, None]:
        yield Probe()
        await _released[release].wait()
        yield Probe()


@pytest.fixture(scope="module")
async def probe_server(server: Server) -> AsyncIterator[Server]:
    """EngLog's GraphQLView over a schema that shows which Loaders each resolver sees."""
    view = GraphQLView(schema=strawberry.Schema(query=Query, subscription=Subscription))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.englog = server.state  # the package server's pools and settings
        yield

    app = Starlette(routes=[WebSocketRoute("/graphql", view)], lifespan=lifespan)
    async with serve(app) as port:
        yield Server(port, server.state, app)


async def test_each_subscription_event_is_resolved_with_loaders_of_its_own(
    probe_server: Server, http: Api
) -> None:
    account = await http.sign_up()
    async with logged_in(probe_server, account.access_token) as client:
        messages = await client.execute(
            "subscription { probes(count: 3) { loaders again userId } }"
        )
    events = [m["payload"]["data"]["probes"] for m in messages[:-1]]
    assert messages[-1] == {"id": "1", "type": "complete"}
    assert [event["userId"] for event in events] == [account.user_id] * 3
    # One Loaders for all fields of an event, another for each next event.
    assert all(event["loaders"] == event["again"] for event in events)
    assert len({event["loaders"] for event in events}) == 3


async def test_concurrent_operations_of_a_socket_do_not_share_loaders(
    probe_server: Server, http: Api
) -> None:
    account = await http.sign_up()
    _released[1], _released[2] = asyncio.Event(), asyncio.Event()
    async with logged_in(probe_server, account.access_token) as client:
        await client.subscribe("subscription { held(release: 1) { loaders } }", operation_id="a")
        first = await client.receive()
        await client.subscribe("subscription { held(release: 2) { loaders } }", operation_id="b")
        second = await client.receive()
        assert (first["id"], second["id"]) == ("a", "b")
        assert first["payload"]["data"]["held"] != second["payload"]["data"]["held"]
        _released[1].set()
        _released[2].set()
        rest = [await client.receive() for _ in range(4)]
        assert sorted((m["id"], m["type"]) for m in rest) == [
            ("a", "complete"),
            ("a", "next"),
            ("b", "complete"),
            ("b", "next"),
        ]


async def test_a_later_operation_on_the_same_socket_does_not_see_cached_data(
    server: Server, http: Api
) -> None:
    account = await http.sign_up()
    project = await http.create_project(account, name="Apollo")
    await http.create_entry(account, projectId=project["id"])
    async with logged_in(server, account.access_token) as client:
        before = await client.execute(ENTRY_PROJECT, "1")
        await http.data(RENAME, {"id": project["id"]}, account.access_token)
        after = await client.execute(ENTRY_PROJECT, "2")
    edges = [m["payload"]["data"]["logEntries"]["edges"] for m in (before[0], after[0])]
    assert edges == [
        [{"node": {"project": {"name": "Apollo"}}}],
        [{"node": {"project": {"name": "Gemini"}}}],
    ]


async def test_validation_errors_are_coded_on_websockets(server: Server, http: Api) -> None:
    # (A syntax error closes the socket with 4400, as graphql-transport-ws says.)
    account = await http.sign_up()
    async with logged_in(server, account.access_token) as client:
        [message] = await client.execute("subscription { insightEvents { nope } }")
        assert message["type"] == "error"
        codes = [error["extensions"]["code"] for error in message["payload"]]
        assert codes == ["GRAPHQL_VALIDATION_FAILED"]
