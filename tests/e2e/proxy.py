"""A TCP forwarder between an EngLog process and PostgreSQL or Redis, to cut and restore.

`cut()` is what a server that went away looks like from the client: every open connection
is reset and new ones are refused (the port no longer listens). `restore()` listens on the
same port again. The real server is never touched, so other test runs sharing it go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.engine import make_url

from tests.factories import free_port

HOST = "127.0.0.1"
CHUNK = 65536


class Proxy:
    """`async with Proxy.to(url) as proxy:`, then give the process `proxy.url`."""

    def __init__(self, url: str, upstream: tuple[str, int] | str) -> None:
        self.url = url  # the upstream's URL, pointing at the proxy
        self.upstream = upstream  # (host, port), or a unix socket's path
        self.port = int(urlsplit(url).port or 0)
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.delay = 0.0  # seconds each chunk is held before it is forwarded (`slow`)

    @classmethod
    def to(cls, url: str) -> Proxy:
        """A proxy in front of the PostgreSQL or Redis server of `url` (TCP or unix socket)."""
        port = free_port()
        if url.startswith(("redis://", "unix://")):
            parts = urlsplit(url)
            if parts.scheme == "unix":
                db = parse_qs(parts.query).get("db", ["0"])[0]
                upstream: tuple[str, int] | str = parts.path
            else:
                db = parts.path.lstrip("/") or "0"
                upstream = (parts.hostname or HOST, parts.port or 6379)
            auth = f":{parts.password}@" if parts.password else ""
            return cls(f"redis://{auth}{HOST}:{port}/{db}", upstream)
        parsed = make_url(url)
        socket_dir = parsed.query.get("host")
        if parsed.host is None and isinstance(socket_dir, str):
            upstream = f"{socket_dir}/.s.PGSQL.{parsed.port or 5432}"
        else:
            upstream = (parsed.host or HOST, parsed.port or 5432)
        through = parsed.difference_update_query(["host"]).set(host=HOST, port=port)
        return cls(through.render_as_string(hide_password=False), upstream)

    async def __aenter__(self) -> Proxy:
        await self.restore()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.cut()

    async def restore(self) -> None:
        """Listens (again) on `port`, forwarding."""
        await self.cut()
        self._server = await asyncio.start_server(self._accept, HOST, self.port, reuse_address=True)

    async def start_up(self) -> None:
        """Answers every connection as a PostgreSQL server that is starting up does (FATAL
        57P03 "the database system is starting up"): the moment between a restarted
        server's port opening and it taking connections."""
        await self.cut()
        self._server = await asyncio.start_server(_starting_up, HOST, self.port, reuse_address=True)

    async def reset(self) -> None:
        """Resets every forwarded connection and goes on listening: what a server restart,
        a failover or a middlebox dropping idle connections looks like to pooled clients
        (their next use of a pooled connection fails; new connections work)."""
        for writer in list(self._writers):
            _reset(writer)
        for pipe in list(self._pipes):
            pipe.cancel()
        if self._pipes:
            await asyncio.wait(self._pipes)

    def slow(self, delay: float) -> None:
        """Holds every chunk `delay` seconds before forwarding it (0: at once again)."""
        self.delay = delay

    async def cut(self) -> None:
        """Stops listening and resets every forwarded connection."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            _reset(writer)
        for pipe in list(self._pipes):
            pipe.cancel()
        if self._pipes:
            await asyncio.wait(self._pipes)
        if server is not None:
            await server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)  # a reset or cut while it connects upstream closes it too
        try:
            if isinstance(self.upstream, str):
                up_reader, up_writer = await asyncio.open_unix_connection(self.upstream)
            else:
                up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            self._writers.discard(writer)
            _reset(writer)
            return
        if self._server is None:  # cut while connecting
            _reset(writer)
            _reset(up_writer)
            return
        self._writers.update((writer, up_writer))
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            pipe = asyncio.create_task(self._pipe(source, sink))
            self._pipes.add(pipe)
            pipe.add_done_callback(self._pipes.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(CHUNK):
                if self.delay:
                    await asyncio.sleep(self.delay)
                sink.write(data)
                await sink.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(sink)
            with contextlib.suppress(OSError, RuntimeError):
                sink.close()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Closes with RST rather than FIN: the peer sees a dropped connection at once."""
    sock = writer.get_extra_info("socket")
    with contextlib.suppress(OSError):
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


SSL_REQUEST = 80877103
STARTING_UP = (
    b"".join(
        field + value.encode() + b"\0"
        for field, value in (
            (b"S", "FATAL"),
            (b"V", "FATAL"),
            (b"C", "57P03"),
            (b"M", "the database system is starting up"),
        )
    )
    + b"\0"
)


async def _starting_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """The server side of a refused PostgreSQL start-up: no SSL, then an ErrorResponse."""
    try:
        while True:
            length, code = struct.unpack("!ii", await reader.readexactly(8))
            await reader.readexactly(length - 8)
            if code != SSL_REQUEST:
                break
            writer.write(b"N")  # no SSL here: the client goes on in plaintext
        writer.write(b"E" + struct.pack("!i", 4 + len(STARTING_UP)) + STARTING_UP)
        await writer.drain()
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()
