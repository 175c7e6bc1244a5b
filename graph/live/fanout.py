"""The fast write path: a live event written to thousands of sockets from one loop, by the
feed, straight into uvicorn's websockets-sansio connections (overview: graph/live/__init__.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State

if TYPE_CHECKING:
    from graph.live.shared import Direct

SERVER_SEND = "englog.server_send"  # the scope key of the server's own ASGI send
# The uvicorn `ws` protocol whose connections FastSocket writes into: every server the
# product runs chooses it by this name (englog/cli.py), and pyproject.toml pins the uvicorn
# minor and the websockets major whose internals are used here.
WS_PROTOCOL = "websockets-sansio"


class ServerSend:
    """Outermost middleware: keeps the server's own `send` of a websocket in its scope (the
    middlewares inside wrap it), for FastSocket.of."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope[SERVER_SEND] = send
        await self.app(scope, receive, send)


class FrameCache:
    """One fan-out's frames: the text of each subscription operation's frame for an item
    (sockets whose operations share an execution and an id share it), and the unmasked
    bytes of each text."""

    __slots__ = ("_frames", "_texts")

    def __init__(self) -> None:
        self._texts: dict[tuple[object, str, int], str | None] = {}
        self._frames: dict[str, bytes] = {}

    def text(self, direct: Direct, item: object) -> str | None:
        """The frame's text (Direct.frame_now), built once per operation, id and item."""
        key = (direct.executor.share_key, direct.delivery.prefix, id(item))
        try:
            return self._texts[key]
        except KeyError:
            text = self._texts[key] = direct.frame_now(item)
            return text

    def frame(self, text: str) -> bytes:
        frame = self._frames.get(text)
        if frame is None:
            frame = Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])
            self._frames[text] = frame
        return frame


class FastSocket:
    """Writes text frames to one uvicorn websockets-sansio connection without awaiting.

    Why: waking every subscription's task to write one frame cost more than the write itself
    at 10,000 sockets (py-spy: a task step, three coroutine layers, Starlette's and the ASGI
    send's checks, a metrics lock). So while a subscription is idle its feed writes the
    frame into the connection itself, as uvicorn's own `send` would, but without awaiting.
    Any other server or uvicorn protocol has no FastSocket: the ordinary path everywhere.
    """

    __slots__ = ("_protocol",)

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol

    @classmethod
    def of(cls, scope: Scope) -> FastSocket | None:
        """The socket of this websocket scope, when its server is uvicorn's sansio protocol."""
        send = scope.get(SERVER_SEND)
        protocol = getattr(send, "__self__", None)
        if not isinstance(protocol, WebSocketsSansIOProtocol):
            return None
        return cls(protocol)

    def write(self, text: str, frames: FrameCache) -> bool:
        """Writes the frame now; False (nothing written) when the socket cannot take it now:
        closing, closed, or its transport paused by a client that does not read. The frame
        then goes to the subscription's bounded queue and its task writes it through the
        ordinary path, which waits: a slow socket never slows the others and never grows
        memory without bound."""
        protocol = self._protocol
        if (
            protocol.disconnected
            or protocol.close_sent
            or not protocol.writable.is_set()
            or protocol.transport.is_closing()
        ):
            return False
        connection = protocol.conn
        if connection.state is not State.OPEN:
            return False
        # permessage-deflate: this connection's own compressor (each socket has its own
        # context). Without, the same bytes go to every socket (server frames are unmasked).
        if connection.extensions:
            connection.send_text(text.encode())
            protocol.transport.write(b"".join(connection.data_to_send()))
        else:
            protocol.transport.write(frames.frame(text))
        return True
