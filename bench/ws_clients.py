"""One client process of the subscriptions bench: holds many graphql-transport-ws sockets.

`python -m bench.ws_clients URL TOKEN COUNT` opens COUNT sockets to URL (a few at a time),
each past connection_ack with one `insightEvents` subscription, prints `ready <n>`, then
records when each socket receives each event (time.time(), keyed by the insight id in the
frame). It answers commands on stdin, one a line, until `dump` or end of input:

- `wait <key> <seconds>`: prints `ok <n>`, n = how many sockets have the key (waits until
  all do, or the seconds run out);
- `dump`: prints one JSON line {"receipts": [[key, seconds], …], "errors": [...]} and exits.

Every wait is bounded; the parent kills the process if it does not answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import sys
import time
from collections import defaultdict
from typing import Any

import uvloop
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

SUBSCRIPTION = "subscription BenchEvents { insightEvents { cursor insight { id status } } }"
CONNECT_AT_ONCE = 32
CONNECT_TIMEOUT = 60.0
MAX_ERRORS = 20


def raise_open_files() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Clients:
    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token
        self.sockets: list[ClientConnection] = []
        self.receipts: list[tuple[str, float]] = []
        self.have: defaultdict[str, int] = defaultdict(int)
        self.errors: list[str] = []
        self.changed = asyncio.Event()

    def error(self, text: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(text)

    async def open_one(self) -> None:
        socket = await connect(
            self.url,
            subprotocols=[Subprotocol("graphql-transport-ws")],
            open_timeout=CONNECT_TIMEOUT,
            ping_interval=None,  # the protocol's own pings are answered below
            max_queue=None,
        )
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {self.token}"}}
        await socket.send(json.dumps(init))
        ack = json.loads(await asyncio.wait_for(socket.recv(), CONNECT_TIMEOUT))
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"no connection_ack: {ack}")
        subscribe = {"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}
        await socket.send(json.dumps(subscribe))
        self.sockets.append(socket)

    async def read(self, socket: ClientConnection) -> None:
        try:
            async for raw in socket:
                received = time.time()
                message: dict[str, Any] = json.loads(raw)
                kind = message.get("type")
                if kind == "ping":
                    await socket.send('{"type":"pong"}')
                elif kind == "next" and "errors" not in message["payload"]:
                    data = message["payload"]["data"]["insightEvents"]
                    key = str(data["insight"]["id"])
                    self.receipts.append((key, received))
                    self.have[key] += 1
                    self.changed.set()
                elif kind != "pong":
                    self.error(json.dumps(message)[:300])
        except Exception as exc:  # a closed socket is an error the report shows
            self.error(f"socket: {exc!r}"[:300])

    async def wait(self, key: str, seconds: float) -> int:
        deadline = time.monotonic() + seconds
        while self.have[key] < len(self.sockets):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(remaining, 0.5))
        return self.have[key]


async def _lines() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


async def main(url: str, token: str, count: int) -> None:
    clients = Clients(url, token)
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)

    async def open_gated() -> None:
        async with gate:
            await clients.open_one()

    try:
        async with asyncio.timeout(CONNECT_TIMEOUT * 2):
            await asyncio.gather(*(open_gated() for _ in range(count)))
    except Exception as exc:
        print(f"error {len(clients.sockets)}/{count} sockets open: {exc!r}", flush=True)
        return
    readers = [asyncio.create_task(clients.read(s)) for s in clients.sockets]
    print(f"ready {len(clients.sockets)}", flush=True)
    stdin = await _lines()
    while line := (await stdin.readline()).decode().split():
        if line[0] == "wait":
            print(f"ok {await clients.wait(line[1], float(line[2]))}", flush=True)
        elif line[0] == "dump":
            break
    dump = {"receipts": clients.receipts, "errors": clients.errors}
    print(json.dumps(dump, separators=(",", ":")), flush=True)
    for task in readers:
        task.cancel()
    # No closing handshakes: the process exits and the kernel closes every socket at once.


if __name__ == "__main__":
    raise_open_files()
    uvloop.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
