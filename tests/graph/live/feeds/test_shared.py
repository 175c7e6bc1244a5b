"""Many subscriptions, one feed and one execution an event (graph/live/feeds.py, shared.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import Counter
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import httpx
import pytest
import strawberry
from strawberry.types import ExecutionResult
from websockets.frames import Frame, Opcode

from db.queries import event as events
from graph.live import fanout, shared
from tests.factories import Account, Api
from tests.graph.live.feeds.support import CREATE, ENTRY_EVENTS, create_entry
from tests.live import Client, Server, live_server, logged_in

TITLES = "subscription { logEntryEvents { cursor entry { title } } }"


async def wait_for_members(
    server: Server, user_id: uuid.UUID, count: int, *, live: bool = False
) -> None:
    """Until `count` subscriptions joined the feed (with `live`: and wait, live, for events
    their feed may write itself)."""
    for _ in range(250):
        members = server.state.feeds.members(user_id, events.LOG_ENTRY)
        if len(members) == count and (not live or all(m.direct for m in members)):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{count} subscriptions did not join the feed")


async def raw_next(socket_: Client) -> str:
    while True:
        raw = await asyncio.wait_for(socket_.socket.recv(), 15)
        assert isinstance(raw, str)
        if json.loads(raw)["type"] == "next":
            return raw


@pytest.fixture
def executions(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many times each subscription document was executed for an event."""
    counts: Counter[str] = Counter()
    original = shared.SharingExecutor._execute_once

    def counted(self: shared.SharingExecutor, serially: bool | None) -> Any:
        assert self.share_key is not None
        counts[self.share_key[0]] += 1
        return original(self, serially)

    monkeypatch.setattr(shared.SharingExecutor, "_execute_once", counted)
    return counts


@pytest.fixture
def log_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The cursors the event log was read after, by any subscription or feed."""
    reads: list[int] = []
    original = events.events_after

    async def counted(*args: Any, **kwargs: Any) -> Sequence[events.EventRecord]:
        reads.append(int(kwargs["after"]))
        return await original(*args, **kwargs)

    monkeypatch.setattr(events, "events_after", counted)
    return reads


@pytest.fixture
def direct_frames(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The frames live subscriptions wrote to their sockets themselves."""
    frames: list[str] = []
    original, original_now = shared.Direct.frame, shared.Direct.frame_now

    async def recorded(self: shared.Direct, item: object) -> str | None:
        frame = await original(self, item)
        if frame is not None:
            frames.append(frame)
        return frame

    def recorded_now(self: shared.Direct, item: object) -> str | None:
        frame = original_now(self, item)
        if frame is not None:
            frames.append(frame)
        return frame

    monkeypatch.setattr(shared.Direct, "frame", recorded)
    monkeypatch.setattr(shared.Direct, "frame_now", recorded_now)
    return frames


@pytest.fixture
def feed_writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The frames feeds wrote to sockets themselves, without waking a subscription's task."""
    written: list[str] = []
    original = fanout.FastSocket.write

    def recorded(self: fanout.FastSocket, text: str, frames: fanout.FrameCache) -> bool:
        sent = original(self, text, frames)
        if sent:
            written.append(text)
        return sent

    monkeypatch.setattr(fanout.FastSocket, "write", recorded)
    return written


async def test_one_execution_and_one_log_read_an_event_for_many_sockets(
    server: Server,
    http: Api,
    executions: Counter[str],
    log_reads: list[int],
    direct_frames: list[str],
    feed_writes: list[str],
) -> None:
    account = await http.sign_up()
    user_id = uuid.UUID(account.user_id)
    async with contextlib.AsyncExitStack() as stack:
        opened = [
            await stack.enter_async_context(logged_in(server, account.access_token))
            for _ in range(6)
        ]
        for socket_ in opened:
            await socket_.subscribe(TITLES)
        await wait_for_members(server, user_id, 6, live=True)
        assert len(server.state.feeds) == 1
        log_reads.clear()
        entry_id = await create_entry(http, account, "shared")
        frames = [await raw_next(socket_) for socket_ in opened]
    payloads = {json.dumps(json.loads(frame)["payload"]) for frame in frames}
    assert len(payloads) == 1  # the same bytes but for the operation id
    assert json.loads(frames[0])["payload"]["data"]["logEntryEvents"]["entry"] == {
        "title": "shared"
    }
    assert executions[TITLES] == 1
    assert len(log_reads) == 1  # the feed's, not one per socket
    assert sorted(direct_frames) == sorted(frames)  # written directly, not through Strawberry
    assert sorted(feed_writes) == sorted(frames)  # by the feed, no task woken per socket
    assert entry_id


async def test_without_compression_a_feed_writes_one_frames_bytes_to_every_socket(
    database_url: str, redis_url: str, feed_writes: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    serialised: list[bytes] = []
    original = fanout.FrameCache.frame

    def recorded(self: fanout.FrameCache, text: str) -> bytes:
        frame = original(self, text)
        serialised.append(frame)
        return frame

    monkeypatch.setattr(fanout.FrameCache, "frame", recorded)
    async with (
        live_server(database_url, redis_url, ws_per_message_deflate=False) as server,
        httpx.AsyncClient(base_url=server.http_url) as client,
    ):
        http = Api(client)
        account = await http.sign_up()
        async with contextlib.AsyncExitStack() as stack:
            opened = [
                await stack.enter_async_context(logged_in(server, account.access_token))
                for _ in range(3)
            ]
            for socket_ in opened:
                assert socket_.socket.protocol.extensions == []  # nothing negotiated
                await socket_.subscribe(TITLES)
            await wait_for_members(server, uuid.UUID(account.user_id), 3, live=True)
            await create_entry(http, account, "uncompressed")
            frames = [await raw_next(socket_) for socket_ in opened]

    titles = [json.loads(frame)["payload"]["data"]["logEntryEvents"]["entry"] for frame in frames]
    assert titles == [{"title": "uncompressed"}] * 3
    assert sorted(feed_writes) == sorted(frames)
    # Each socket's frame is the serialised text, as the client read it.
    assert sorted(serialised) == sorted(
        Frame(Opcode.TEXT, frame.encode()).serialize(mask=False, extensions=[]) for frame in frames
    )


def test_only_uvicorns_sansio_websockets_are_written_by_feeds() -> None:
    async def send(message: Any) -> None:
        return None

    assert fanout.FastSocket.of({"type": "websocket"}) is None
    assert fanout.FastSocket.of({"type": "websocket", fanout.SERVER_SEND: send}) is None


async def test_distinct_selections_execute_apart_and_since_does_not_split_a_share(
    server: Server, http: Api, executions: Counter[str]
) -> None:
    account = await http.sign_up()
    user_id = uuid.UUID(account.user_id)
    cursor = await _cursor_of_a_first_entry(server, http, account)
    async with (
        logged_in(server, account.access_token) as one,
        logged_in(server, account.access_token) as two,
        logged_in(server, account.access_token) as three,
    ):
        plain = await one.subscribe(ENTRY_EVENTS)
        resumed = await two.subscribe(ENTRY_EVENTS, {"since": cursor})
        other = await three.subscribe(TITLES)
        await wait_for_members(server, user_id, 3)
        executions.clear()
        await http.data(
            CREATE,
            {"input": {**_entry("live"), "description": "only in the wider selection"}},
            account.access_token,
        )
        got = [await plain.next(), await resumed.next(), (await other.next())]
    assert got[0] == got[1]
    assert got[0]["logEntryEvents"]["entry"] == {"title": "live"}
    assert got[2]["logEntryEvents"]["entry"] == {"title": "live"}
    # Two documents, two executions; `since` is the field's argument, not the selection's.
    assert sorted(executions.values()) == [1, 1]


async def test_a_share_is_per_user(server: Server, http: Api, executions: Counter[str]) -> None:
    ada, bob = await http.sign_up(), await http.sign_up()
    async with (
        logged_in(server, ada.access_token) as ada_socket,
        logged_in(server, bob.access_token) as bob_socket,
    ):
        ada_events = await ada_socket.subscribe(TITLES)
        bob_events = await bob_socket.subscribe(TITLES)
        await wait_for_members(server, uuid.UUID(ada.user_id), 1)
        await wait_for_members(server, uuid.UUID(bob.user_id), 1)
        assert len(server.state.feeds) == 2
        await create_entry(http, ada, "ada's")
        await create_entry(http, bob, "bob's")
        assert (await ada_events.next())["logEntryEvents"]["entry"] == {"title": "ada's"}
        assert (await bob_events.next())["logEntryEvents"]["entry"] == {"title": "bob's"}
    assert executions[TITLES] == 2


async def _cursor_of_a_first_entry(server: Server, http: Api, account: Account) -> str:
    async with logged_in(server, account.access_token) as socket_:
        replay = await socket_.subscribe(ENTRY_EVENTS, {"since": "0"})
        await create_entry(http, account, "first")
        return str((await replay.next())["logEntryEvents"]["cursor"])


def _entry(title: str) -> dict[str, Any]:
    from tests.factories import entry_input

    return entry_input(title=title)


# --- the executor on its own: a toy schema, no sockets --------------------------------------


@strawberry.type
class Item:
    name: str
    calls: strawberry.Private[list[str]]

    @strawberry.field
    def loud(self) -> str:
        self.calls.append(self.name)
        if self.name == "bad":
            raise ValueError("no loud bad")
        return self.name.upper()


def toy_schema(items: list[Item]) -> strawberry.Schema:
    @strawberry.type
    class Query:
        ok: bool = True

    @strawberry.type
    class Subscription:
        @strawberry.subscription
        async def items(self, since: int = 0) -> AsyncGenerator[Item, None]:
            for item in items[since:]:
                yield item

    return strawberry.Schema(
        query=Query, subscription=Subscription, execution_context_class=shared.SharingExecutor
    )


async def _all(schema: strawberry.Schema, query: str, variables: dict[str, Any]) -> list[Any]:
    stream = await schema.subscribe(query, variable_values=variables)
    assert not isinstance(stream, ExecutionResult)
    return [(result.data, [e.message for e in result.errors or []]) async for result in stream]


async def test_shared_items_execute_once_a_selection_with_errors_included() -> None:
    calls: list[str] = []
    items = [Item(name="good", calls=calls), Item(name="bad", calls=calls)]
    for item in items:
        shared.share(item)
    schema = toy_schema(items)
    query = "subscription($since: Int!) { items(since: $since) { name loud } }"
    first = await _all(schema, query, {"since": 0})
    second = await _all(schema, query, {"since": 0})
    resumed = await _all(schema, query, {"since": 1})  # `since` is no part of the key
    assert first == second
    assert first == [
        ({"items": {"name": "good", "loud": "GOOD"}}, []),
        (None, ["no loud bad"]),
    ]
    assert resumed == first[1:]
    assert calls == ["good", "bad"]  # once each, however many subscriptions
    other = await _all(schema, "subscription { items { loud } }", {})
    assert other[0] == ({"items": {"loud": "GOOD"}}, [])
    assert calls == ["good", "bad", "good", "bad"]  # another selection: executed apart


async def test_items_not_marked_shared_execute_for_each_subscription() -> None:
    calls: list[str] = []
    schema = toy_schema([Item(name="good", calls=calls)])
    query = "subscription { items { loud } }"
    assert await _all(schema, query, {}) == await _all(schema, query, {})
    assert calls == ["good", "good"]


async def test_a_completed_operation_gets_no_frame_from_its_feed(
    server: Server, http: Api, feed_writes: list[str]
) -> None:
    account = await http.sign_up()
    async with logged_in(server, account.access_token) as socket_:
        kept = await socket_.subscribe(TITLES)
        completed = await socket_.subscribe(TITLES)
        user_id = uuid.UUID(account.user_id)
        await wait_for_members(server, user_id, 2, live=True)
        deliveries = {
            member.direct.delivery.operation_id: member.direct.delivery
            for member in server.state.feeds.members(user_id, events.LOG_ENTRY)
            if member.direct is not None
        }

        await socket_.send({"id": completed.id, "type": "complete"})
        # The complete takes the operation off its feed's direct path at once, before its
        # cancelled task has run: no event after it can be written for it.
        for _ in range(250):
            if deliveries[completed.id].fast is None:
                break
            await asyncio.sleep(0.02)
        assert deliveries[completed.id].fast is None
        assert deliveries[kept.id].fast is not None
        await create_entry(http, account, "after the complete")

        frame = json.loads(await raw_next(socket_))
        assert frame["id"] == kept.id
        assert frame["payload"]["data"]["logEntryEvents"]["entry"] == {
            "title": "after the complete"
        }
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(socket_.socket.recv(), 0.5)
    assert [json.loads(text)["id"] for text in feed_writes] == [kept.id]
