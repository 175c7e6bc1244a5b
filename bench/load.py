"""The load: N keep-alive HTTP/1.1 connections, each sending one fixed request after another.

The client is a few lines over asyncio streams rather than httpx: on a small machine the client
shares the CPU with both servers and PostgreSQL, and httpx costs several times more per request
than the servers' own HTTP layer. Every response must equal, byte for byte, the verified page.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

REQUEST_TIMEOUT = 10.0


@dataclass(frozen=True)
class Target:
    name: str
    host: str
    port: int
    request: bytes
    expected_body: bytes
    cpu_seconds: Callable[[], float | None]


def http_request(
    method: str, host: str, port: int, path: str, headers: dict[str, str], body: bytes = b""
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    writer.write(request)
    await writer.drain()
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    status_line, *header_lines = head.rstrip("\r\n").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    length: int | None = None
    for line in header_lines:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.strip().lower() == "close":
            raise ConnectionError("server closed the keep-alive connection")
        elif name == "transfer-encoding":
            raise ConnectionError(f"unexpected transfer-encoding: {value.strip()}")
    if length is None:
        raise ConnectionError("response without Content-Length")
    return status, await reader.readexactly(length)


@dataclass
class Phase:
    """What one server did in one timed stretch."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    server_cpu: float | None = 0.0
    client_cpu: float = 0.0

    def add(self, other: Phase) -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.elapsed += other.elapsed
        self.client_cpu += other.client_cpu
        if self.server_cpu is None or other.server_cpu is None:
            self.server_cpu = None
        else:
            self.server_cpu += other.server_cpu

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.requests / self.elapsed if self.elapsed else 0.0

    def percentile_ms(self, q: float) -> float:
        """Nearest-rank percentile of the latencies, in milliseconds."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))] * 1000


async def _worker(target: Target, deadline: float, phase: Phase) -> None:
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(target.host, target.port), REQUEST_TIMEOUT
        )
    except (OSError, TimeoutError) as exc:
        phase.errors.append(f"connect: {exc!r}")
        return
    try:
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT):
                    status, body = await _exchange(reader, writer, target.request)
            except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError) as exc:
                phase.errors.append(repr(exc))
                return  # the connection is in an unknown state: this worker stops
            phase.latencies.append(time.perf_counter() - began)
            # Byte-for-byte the verified page (a memcmp): every answer did all the work.
            if status != 200 or body != target.expected_body:
                phase.errors.append(f"HTTP {status}: {body[:200]!r}")
                return
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def run_phase(target: Target, seconds: float, concurrency: int) -> Phase:
    """`concurrency` connections hammer `target` for `seconds` (each request bounded too)."""
    phase = Phase()
    cpu_before = target.cpu_seconds()
    client_before = time.process_time()
    began = time.perf_counter()
    deadline = began + seconds
    await asyncio.gather(*(_worker(target, deadline, phase) for _ in range(concurrency)))
    phase.elapsed = time.perf_counter() - began
    phase.client_cpu = time.process_time() - client_before
    cpu_after = target.cpu_seconds()
    if cpu_before is None or cpu_after is None:
        phase.server_cpu = None
    else:
        phase.server_cpu = cpu_after - cpu_before
    return phase
