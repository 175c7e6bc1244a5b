"""The app on a real uvicorn in the test's event loop, and the one graphql-transport-ws client
every websocket test speaks through (to that server, or to an `englog api` process)."""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import ssl
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
import uvicorn
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin, Subprotocol

from graph.app import create_app
from graph.context import AppState
from graph.live.fanout import WS_PROTOCOL
from graph.live.slots import connections_key
from tests.factories import make_settings

T = TypeVar("T")

# Bounds on waits, never expectations of speed: a protocol step answers at once, an event
# crosses PostgreSQL, Redis or a worker first.
WITHIN = 5.0
DELIVERY_WITHIN = 15.0
PROTOCOL = "graphql-transport-ws"
ME = "{ me { email } }"
# Operation ids unique in the test process, so that sockets of one user never share one by
# chance (the fan-out builds a frame's text once for the operations of one id).
_operation_ids = itertools.count(1)


@dataclass
class Server:
    port: int
    state: AppState
    app: Starlette

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    async def connections(self, user_id: str) -> int:
        """The user's live websocket connections, as every API process counts them."""
        return int(await self.state.redis.zcard(connections_key(uuid.UUID(user_id))))


@asynccontextmanager
async def serve(
    app: Starlette, *, deflate: bool = True, keepalive: bool = True
) -> AsyncIterator[int]:
    """Serves `app` (lifespan on) on a free loopback port, in this event loop; the port.
    `deflate`: permessage-deflate offered (uvicorn's default; `englog api` follows
    ENGLOG_WS_PER_MESSAGE_DEFLATE). `keepalive`: uvicorn's websocket pings (20 s, closing
    after 20 s more without a pong), as `englog api` serves; off for a test whose socket
    deliberately reads nothing for longer than that."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        lifespan="on",
        log_config=None,  # the test process's logging stays as pytest set it
        ws=WS_PROTOCOL,  # as `englog api` serves: the protocol the fast path writes into
        ws_per_message_deflate=deflate,
        ws_ping_interval=20.0 if keepalive else None,  # uvicorn's default, or none
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(30):
            while not server.started:
                assert not task.done(), "uvicorn stopped while starting"
                await asyncio.sleep(0.01)
        yield int(server.servers[0].sockets[0].getsockname()[1])
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


@asynccontextmanager
async def live_server(
    database_url: str, redis_url: str, **overrides: object
) -> AsyncIterator[Server]:
    """The API (the tests' settings, with `overrides`) on a real uvicorn. Unlike `englog api`
    by default, it offers permessage-deflate unless `ws_per_message_deflate=False`: what a
    browser negotiates, and the case that costs the server most."""
    settings = make_settings(
        database_url, redis_url, **{"ws_per_message_deflate": True, **overrides}
    )
    application = create_app(settings)
    async with serve(application, deflate=settings.ws_per_message_deflate) as port:
        yield Server(port, application.state.englog, application)


class Subscription:
    """One operation of a client: its messages, in order."""

    def __init__(self, client: Client, operation_id: str) -> None:
        self.client = client
        self.id = operation_id

    async def next(self, timeout: float = DELIVERY_WITHIN) -> dict[str, Any]:
        """The data of the next `next` message (errors fail the test)."""
        message = await self.message(timeout)
        assert message["type"] == "next", message
        payload: dict[str, Any] = message["payload"]
        assert "errors" not in payload, payload
        data: dict[str, Any] = payload["data"]
        return data

    async def message(self, timeout: float = DELIVERY_WITHIN) -> dict[str, Any]:
        """The next message, which must be this operation's (pings answered, pongs skipped)."""
        while True:
            message = await self.client.next_raw(timeout)
            if message["type"] in ("ping", "pong"):
                if message["type"] == "ping":
                    await self.client.send({"type": "pong"})
                continue
            assert message.get("id") == self.id, message
            return message

    async def complete(self) -> None:
        await self.client.send({"id": self.id, "type": "complete"})


class Client:
    def __init__(self, socket_: ClientConnection) -> None:
        self.socket = socket_

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(message))

    async def next_raw(self, within: float = WITHIN) -> dict[str, Any]:
        """The next message, whatever it is."""
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.socket.recv(), within))
        return message

    async def receive(self, within: float = WITHIN) -> dict[str, Any]:
        """The next message other than the server's keep-alive pings (left unanswered)."""
        while True:
            message = await self.next_raw(within)
            if message["type"] != "ping":
                return message

    async def init(self, payload: dict[str, Any] | None = None) -> None:
        message: dict[str, Any] = {"type": "connection_init"}
        if payload is not None:
            message["payload"] = payload
        await self.send(message)

    async def log_in(self, token: str, within: float = WITHIN) -> None:
        """connection_init with the bearer, as DESIGN.md says; the ack must follow."""
        await self.init({"authorization": f"Bearer {token}"})
        assert await self.receive(within) == {"type": "connection_ack"}

    async def subscribe(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        operation_id: str | None = None,
    ) -> Subscription:
        """Starts an operation; without `operation_id`, a number no other operation has."""
        operation_id = operation_id or str(next(_operation_ids))
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        await self.send({"id": operation_id, "type": "subscribe", "payload": payload})
        return Subscription(self, operation_id)

    async def execute(self, query: str, operation_id: str = "1") -> list[dict[str, Any]]:
        """Runs one operation to its end: every message of it, the last `complete` or `error`."""
        await self.subscribe(query, operation_id=operation_id)
        messages = []
        while True:
            message = await self.receive()
            assert message.get("id") == operation_id, message
            messages.append(message)
            if message["type"] in ("complete", "error"):
                return messages

    async def message_of(self, operation_id: str) -> dict[str, Any]:
        """The next message of this operation, unbounded (the caller bounds it): pings are
        answered, messages of other operations (already completed ones) skipped."""
        while True:
            message: dict[str, Any] = json.loads(await self.socket.recv())
            if message["type"] == "ping":
                await self.send({"type": "pong"})
            elif message.get("id") == operation_id:
                return message

    async def _only_pings(self) -> None:
        while True:
            message = json.loads(await self.socket.recv())
            assert message["type"] == "ping", message

    async def closed(self, within: float = WITHIN) -> tuple[int, str]:
        """Waits for the server to close the socket (only pings may come first): code, reason."""
        with pytest.raises(ConnectionClosed) as closing:
            await asyncio.wait_for(self._only_pings(), within)
        frame = closing.value.rcvd
        assert frame is not None, "the socket closed without a close frame from the server"
        return frame.code, frame.reason


async def _small_buffer_socket(ws_url: str, receive_buffer: int) -> socket.socket:
    # A small kernel receive buffer: a client that stops reading pushes back on the server
    # after kilobytes rather than after megabytes.
    host, port = ws_url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    return sock


@asynccontextmanager
async def ws_client(
    target: Server | str,
    *,
    origin: str | None = None,
    subprotocols: Sequence[str] = (PROTOCOL,),
    headers: dict[str, str] | None = None,
    receive_buffer: int | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> AsyncIterator[Client]:
    """A socket to the server (or to a ws:// or wss:// URL), before connection_init."""
    ws_url = target if isinstance(target, str) else target.ws_url
    sock = None if receive_buffer is None else await _small_buffer_socket(ws_url, receive_buffer)
    async with connect(
        ws_url,
        subprotocols=[Subprotocol(name) for name in subprotocols],
        origin=Origin(origin) if origin else None,
        additional_headers=headers,
        sock=sock,
        ssl=ssl_context,
        open_timeout=10.0,
        ping_interval=None,  # the protocol's own pings are under test, not the transport's
    ) as socket_:
        yield Client(socket_)


@asynccontextmanager
async def logged_in(
    target: Server | str,
    token: str,
    *,
    origin: str | None = None,
    receive_buffer: int | None = None,
) -> AsyncIterator[Client]:
    """A socket past connection_ack, authenticated the way DESIGN.md says."""
    async with ws_client(target, origin=origin, receive_buffer=receive_buffer) as client:
        await client.log_in(token, DELIVERY_WITHIN)
        yield client


def me_answers(email: str) -> list[dict[str, Any]]:
    """What `{ me { email } }` sent as operation "1" answers for that user."""
    return [
        {"id": "1", "type": "next", "payload": {"data": {"me": {"email": email}}}},
        {"id": "1", "type": "complete"},
    ]


async def eventually(
    probe: Callable[[], Awaitable[T]], expected: T, within: float = WITHIN
) -> None:
    """Polls `probe` until it returns `expected` (the server works asynchronously)."""
    value = await probe()
    try:
        async with asyncio.timeout(within):
            while value != expected:
                await asyncio.sleep(0.02)
                value = await probe()
    except TimeoutError:
        pass
    assert value == expected
