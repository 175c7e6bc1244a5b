"""A real uvicorn on a free port, and a client that speaks graphql-transport-ws to it."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from starlette.types import ASGIApp
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin, Subprotocol

from graph.app import create_app
from graph.context import AppState
from graph.live.ws import connections_key
from tests.factories import Api, make_settings

T = TypeVar("T")

WITHIN = 5.0  # a bound on every wait, never an expectation of speed
PROTOCOL = "graphql-transport-ws"
ME = "{ me { email } }"

# The package's server: fast pings and re-checks, small caps, one allowed browser origin.
WS_SETTINGS: dict[str, object] = {
    "ws_ping_seconds": 0.2,
    "ws_auth_recheck_seconds": 0.2,
    "ws_connection_init_timeout_seconds": 0.5,
    "ws_max_subscriptions_per_connection": 2,
    "ws_max_connections_per_user": 3,
    "allowed_origins": ["https://app.example"],
}


@dataclass
class Server:
    port: int
    state: AppState

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
async def uvicorn_serving(app: ASGIApp) -> AsyncIterator[int]:
    """Serves `app` (lifespan on) on a free loopback port, in this event loop; the port."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_config=None)
    )
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
async def serving(database_url: str, redis_url: str, **overrides: object) -> AsyncIterator[Server]:
    application = create_app(make_settings(database_url, redis_url, **overrides))
    async with uvicorn_serving(application) as port:
        yield Server(port, application.state.englog)


@pytest.fixture(scope="package")
async def server(database_url: str, redis_url: str) -> AsyncIterator[Server]:
    async with serving(database_url, redis_url, **WS_SETTINGS) as running:
        yield running


@pytest.fixture
async def http(server: Server) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=server.http_url) as client:
        yield Api(client)


@dataclass
class Client:
    socket: ClientConnection

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(message))

    async def next_raw(self) -> dict[str, Any]:
        """The next message, whatever it is."""
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.socket.recv(), WITHIN))
        return message

    async def receive(self) -> dict[str, Any]:
        """The next message other than the server's keep-alive pings."""
        while True:
            message = await self.next_raw()
            if message["type"] != "ping":
                return message

    async def init(self, payload: dict[str, Any] | None = None) -> None:
        message: dict[str, Any] = {"type": "connection_init"}
        if payload is not None:
            message["payload"] = payload
        await self.send(message)

    async def log_in(self, token: str) -> None:
        """connection_init with the bearer, as DESIGN.md says; the ack must follow."""
        await self.init({"authorization": f"Bearer {token}"})
        assert await self.receive() == {"type": "connection_ack"}

    async def subscribe(self, query: str, operation_id: str = "1") -> None:
        await self.send({"id": operation_id, "type": "subscribe", "payload": {"query": query}})

    async def execute(self, query: str, operation_id: str = "1") -> list[dict[str, Any]]:
        """Runs one operation to its end: every message of it, the last `complete` or `error`."""
        await self.subscribe(query, operation_id)
        messages = []
        while True:
            message = await self.receive()
            assert message.get("id") == operation_id, message
            messages.append(message)
            if message["type"] in ("complete", "error"):
                return messages

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


@asynccontextmanager
async def ws_client(
    server: Server,
    *,
    origin: str | None = None,
    subprotocols: Sequence[str] = (PROTOCOL,),
    headers: dict[str, str] | None = None,
) -> AsyncIterator[Client]:
    async with connect(
        server.ws_url,
        subprotocols=[Subprotocol(name) for name in subprotocols],
        origin=Origin(origin) if origin else None,
        additional_headers=headers,
        open_timeout=WITHIN,
        ping_interval=None,  # the protocol's own pings are under test, not the transport's
    ) as socket_:
        yield Client(socket_)


@asynccontextmanager
async def logged_in(
    server: Server, token: str, *, origin: str | None = None
) -> AsyncIterator[Client]:
    async with ws_client(server, origin=origin) as client:
        await client.log_in(token)
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
