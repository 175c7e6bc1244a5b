"""A real uvicorn serving the app on a free port, and a graphql-transport-ws client."""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from graph.app import create_app
from graph.context import AppState
from graph.settings import ApiSettings
from tests.factories import Api, free_port, make_settings

MESSAGE_TIMEOUT = 15.0


@dataclass
class LiveServer:
    url: str  # http://127.0.0.1:PORT
    state: AppState

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/graphql"


@asynccontextmanager
async def live_server(settings: ApiSettings, *, deflate: bool = True) -> AsyncIterator[LiveServer]:
    """The app on a real uvicorn; `deflate`: permessage-deflate offered (uvicorn's default;
    `englog api` turns it off, ENGLOG_WS_PER_MESSAGE_DEFLATE)."""
    port = free_port()
    application = create_app(settings)
    config = uvicorn.Config(
        application,
        host="127.0.0.1",
        port=port,
        lifespan="on",
        log_level="warning",
        ws_per_message_deflate=deflate,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(400):
            if server.started:
                break
            await asyncio.sleep(0.025)
        assert server.started, "uvicorn did not start"
        yield LiveServer(f"http://127.0.0.1:{port}", application.state.englog)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


@pytest.fixture
async def server(database_url: str, redis_url: str) -> AsyncIterator[LiveServer]:
    async with live_server(make_settings(database_url, redis_url)) as running:
        yield running


@pytest.fixture
async def http(server: LiveServer) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=server.url) as client:
        yield Api(client)


class Subscription:
    def __init__(self, socket_: ClientConnection, operation_id: str) -> None:
        self.socket = socket_
        self.id = operation_id

    async def next(self, timeout: float = MESSAGE_TIMEOUT) -> dict[str, Any]:
        """The data of the next `next` message (errors fail the test)."""
        message = await self.message(timeout)
        assert message["type"] == "next", message
        payload: dict[str, Any] = message["payload"]
        assert "errors" not in payload, payload
        data: dict[str, Any] = payload["data"]
        return data

    async def message(self, timeout: float = MESSAGE_TIMEOUT) -> dict[str, Any]:
        while True:
            raw = await asyncio.wait_for(self.socket.recv(), timeout)
            message: dict[str, Any] = json.loads(raw)
            if message["type"] in ("ping", "pong"):
                if message["type"] == "ping":
                    await self.socket.send(json.dumps({"type": "pong"}))
                continue
            assert message.get("id") == self.id, message
            return message


_ids = itertools.count(1)


@asynccontextmanager
async def graphql_ws(
    ws_url: str, token: str, *, receive_buffer: int | None = None
) -> AsyncIterator[ClientConnection]:
    """A socket to ws://…/graphql past connection_ack, authenticated the way DESIGN.md says.

    `receive_buffer` shrinks the client's kernel buffer, so a client that stops reading
    pushes back on the server after kilobytes rather than after megabytes.
    """
    sock = None
    if receive_buffer is not None:
        host, port = ws_url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    async with connect(ws_url, subprotocols=["graphql-transport-ws"], sock=sock) as socket_:  # type: ignore[list-item]
        await socket_.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        )
        ack = json.loads(await asyncio.wait_for(socket_.recv(), MESSAGE_TIMEOUT))
        assert ack["type"] == "connection_ack", ack
        yield socket_


async def subscribe(
    socket_: ClientConnection, query: str, variables: dict[str, Any] | None = None
) -> Subscription:
    operation_id = str(next(_ids))
    await socket_.send(
        json.dumps(
            {
                "id": operation_id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables or {}},
            }
        )
    )
    return Subscription(socket_, operation_id)
