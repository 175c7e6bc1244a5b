"""The uvicorn configuration the product serves with picks the websocket protocol whose
connections the live fast path writes into (graph/live/fanout.py)."""

from __future__ import annotations

import uvicorn
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState

from englog.cli import server_config
from graph.app import create_app
from graph.live.fanout import SERVER_SEND, WS_PROTOCOL, FastSocket
from graph.settings import ApiSettings


def _loaded(settings: ApiSettings) -> uvicorn.Config:
    config = server_config(create_app(settings), settings, "127.0.0.1", 0)
    config.load()
    return config


def test_api_server_config_selects_the_websockets_sansio_protocol(settings: ApiSettings) -> None:
    config = _loaded(settings)

    assert config.ws == WS_PROTOCOL == "websockets-sansio"
    assert config.ws_protocol_class is WebSocketsSansIOProtocol


async def test_fast_path_recognises_the_configured_protocols_connections(
    settings: ApiSettings,
) -> None:
    config = _loaded(settings)
    assert config.ws_protocol_class is WebSocketsSansIOProtocol
    protocol = WebSocketsSansIOProtocol(config=config, server_state=ServerState(), app_state={})

    socket = FastSocket.of({"type": "websocket", SERVER_SEND: protocol.send})

    assert isinstance(socket, FastSocket)


class _OtherServer:
    """Another server's websocket (uvicorn's other protocols import the deprecated
    websockets.legacy, or wsproto, which is not installed): it has a `send` of its own."""

    async def send(self, message: dict[str, object]) -> None:
        raise AssertionError("never called")


def test_fast_path_leaves_other_servers_sockets_to_the_ordinary_path() -> None:
    assert FastSocket.of({"type": "websocket", SERVER_SEND: _OtherServer().send}) is None
    assert FastSocket.of({"type": "websocket"}) is None
