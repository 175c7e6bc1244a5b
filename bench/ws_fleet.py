"""The client processes of the subscriptions bench (bench/ws_clients.py), driven over pipes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator, Sequence
from typing import Any

from bench.services import ROOT, BenchError

READY_TIMEOUT = 180.0
ANSWER_SLACK = 15.0
DUMP_LIMIT = 256 * 1024 * 1024


class Client:
    def __init__(self, process: asyncio.subprocess.Process, count: int) -> None:
        self.process = process
        self.count = count
        self.connected = 0

    async def line(self, seconds: float) -> str:
        assert self.process.stdout is not None
        try:
            raw = await asyncio.wait_for(self.process.stdout.readline(), seconds)
        except TimeoutError:
            raise BenchError(f"a client process did not answer in {seconds:.0f} s") from None
        if not raw:
            raise BenchError(f"a client process exited ({self.process.returncode})")
        return raw.decode().strip()

    async def ask(self, command: str, seconds: float) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{command}\n".encode())
        await self.process.stdin.drain()
        return await self.line(seconds)

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.process.wait(), 10.0)


class Fleet:
    """Client processes holding `counts` sockets between them."""

    def __init__(self, clients: list[Client]) -> None:
        self.clients = clients

    @property
    def connected(self) -> int:
        return sum(client.connected for client in self.clients)

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, ws_url: str, token: str, counts: Sequence[int]) -> AsyncIterator[Fleet]:
        clients: list[Client] = []
        try:
            for count in counts:
                # Fixed argv (this interpreter, a module of this repo): no untrusted input.
                process = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bench.ws_clients", ws_url, token, str(count),
                    cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                    limit=DUMP_LIMIT,
                )  # fmt: skip
                clients.append(Client(process, count))
            for client in clients:
                answer = await client.line(READY_TIMEOUT)
                if not answer.startswith("ready "):
                    raise BenchError(f"a client process could not connect: {answer}")
                client.connected = int(answer.split()[1])
            yield cls(clients)
        finally:
            await asyncio.gather(*(client.stop() for client in clients))

    async def wait(self, key: str, seconds: float) -> int:
        """How many sockets have received `key`, waiting up to `seconds` for all of them."""
        answers = await asyncio.gather(
            *(
                client.ask(f"wait {key} {seconds:.3f}", seconds + ANSWER_SLACK)
                for client in self.clients
            )
        )
        return sum(int(answer.split()[1]) for answer in answers)

    async def dump(self) -> tuple[list[tuple[str, float]], list[str]]:
        receipts: list[tuple[str, float]] = []
        errors: list[str] = []
        for client in self.clients:
            data: dict[str, Any] = json.loads(await client.ask("dump", 60.0))
            receipts += [(str(key), float(at)) for key, at in data["receipts"]]
            errors += data["errors"]
        return receipts, errors
