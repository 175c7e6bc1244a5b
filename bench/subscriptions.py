"""Live delivery under many sockets: N subscribers of ONE user's `insightEvents` on ONE API
process, against a plain Starlette websocket broadcast (bench/ws_baseline.py) as the floor.

The sockets are held by CLIENT_PROCESSES separate processes (bench/ws_clients.py), so the
server is what is measured. For each server and number of subscribers:

1. warm-up: a few sockets, one event, closed again; then the server's RSS (VmRSS);
2. N sockets connect and subscribe; one event is published and awaited on every socket
   (proof that all are subscribed); RSS again → resident memory per idle subscription;
3. EVENTS events, SPACING seconds apart: for the API a `requestInsight` over HTTP (one
   PENDING event each), for the floor a `POST /broadcast`. Latency is the moment just before
   the request was sent → the moment a client process read the frame (time.time(), one
   machine); the server's CPU time (/proc utime+stime) over the phase / deliveries.

The API's CPU includes handling the requestInsight mutations themselves (20 HTTP requests),
the floor's its 20 POSTs: both are small next to N deliveries an event.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.insights import INSIGHT_INPUT, REQUEST_INSIGHT, _account, percentile_ms
from bench.seed import graphql
from bench.services import BenchError, Server, uvicorn_server, wait_live
from bench.ws_clients import raise_open_files
from bench.ws_fleet import Fleet

CLIENT_PROCESSES = 4
WARM_SOCKETS = 8
EVENTS = 20
SPACING = 0.5
DELIVERY_TIMEOUT = 120.0
CONFIRM_ATTEMPTS = 5

Publish = Callable[[], Awaitable[str]]


@dataclass
class SubscriptionPhase:
    server: str
    subscribers: int
    events: int
    connected: int = 0
    failed_publishes: int = 0
    deliveries: int = 0
    latencies: list[float] = field(default_factory=list)
    rss_before_kib: int = 0
    rss_after_kib: int = 0
    connect_seconds: float = math.nan
    cpu_seconds: float | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def rss_per_subscription_kib(self) -> float:
        if not self.connected:
            return math.nan
        return (self.rss_after_kib - self.rss_before_kib) / self.connected

    @property
    def cpu_us_per_delivery(self) -> float:
        if self.cpu_seconds is None or not self.deliveries:
            return math.nan
        return self.cpu_seconds / self.deliveries * 1e6


def rss_kib(server: Server) -> int:
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise BenchError(f"no VmRSS for {server.name}")


async def _confirm(fleet: Fleet, publish: Publish, server: Server) -> None:
    """Publishes until one event reaches every socket: then every subscription is live.

    graphql-transport-ws acknowledges no `subscribe`, so a socket's first event may be
    published before the server has run its subscription; the next one then reaches it.
    """
    got = 0
    for _ in range(CONFIRM_ATTEMPTS):
        key = await publish()
        got = await fleet.wait(key, 10.0 + fleet.connected / 100)
        if got == fleet.connected:
            return
    raise BenchError(
        f"{server.name}: no event reached all sockets in {CONFIRM_ATTEMPTS} attempts (last: "
        f"{got}/{fleet.connected})\n{server.log_tail(15)}"
    )


async def measure(
    server: Server, ws_url: str, token: str, publish: Publish, subscribers: int, events: int
) -> SubscriptionPhase:
    phase = SubscriptionPhase(server.name, subscribers, events)
    print(f"{server.name}, {subscribers} subscribers: warming up …", flush=True)
    async with Fleet.open(ws_url, token, [WARM_SOCKETS]) as warm:
        await _confirm(warm, publish, server)
    await asyncio.sleep(1.0)  # the server lets go of the warm-up sockets
    phase.rss_before_kib = rss_kib(server)

    counts = [subscribers // CLIENT_PROCESSES] * CLIENT_PROCESSES
    counts[0] += subscribers - sum(counts)
    began = time.monotonic()
    async with Fleet.open(ws_url, token, counts) as fleet:
        phase.connected = fleet.connected
        await _confirm(fleet, publish, server)
        phase.connect_seconds = time.monotonic() - began
        phase.rss_after_kib = rss_kib(server)
        print(
            f"{server.name}: {fleet.connected} subscribed in {phase.connect_seconds:.1f} s; "
            f"publishing {events} events …",
            flush=True,
        )
        cpu_before = server.cpu_seconds()
        sent: dict[str, float] = {}
        start = time.monotonic()
        for index in range(events):
            await asyncio.sleep(max(0.0, start + index * SPACING - time.monotonic()))
            before = time.time()
            try:
                sent[await publish()] = before
            except BenchError as exc:  # counted: a publish the API could not take is a finding
                phase.failed_publishes += 1
                phase.errors.append(f"publish: {str(exc)[:300]}")
        deadline = time.monotonic() + DELIVERY_TIMEOUT
        for key in sent:
            await fleet.wait(key, max(0.0, deadline - time.monotonic()))
        cpu_after = server.cpu_seconds()
        if cpu_before is not None and cpu_after is not None:
            phase.cpu_seconds = cpu_after - cpu_before
        receipts, client_errors = await fleet.dump()
        phase.errors += client_errors
    for key, received in receipts:
        if key in sent:
            phase.latencies.append(received - sent[key])
            phase.deliveries += 1
    return phase


async def _measure_all(
    api: Server, baseline: Server, counts: Sequence[int], events: int
) -> list[SubscriptionPhase]:
    await asyncio.gather(wait_live(api), wait_live(baseline))
    async with (
        httpx.AsyncClient(base_url=api.base_url, timeout=60.0) as api_client,
        httpx.AsyncClient(base_url=baseline.base_url, timeout=60.0) as floor_client,
    ):
        print("Seeding an account …", flush=True)
        token = await _account(api_client)

        async def request_insight() -> str:
            data = await graphql(api_client, REQUEST_INSIGHT, {"input": INSIGHT_INPUT}, token)
            return str(data["requestInsight"]["id"])

        async def broadcast() -> str:
            key = uuid.uuid4().hex
            response = await floor_client.post("/broadcast", json={"key": key})
            if response.status_code != 200:
                raise BenchError(f"baseline /broadcast answered {response.status_code}")
            return key

        phases = []
        for count in counts:
            for server, publish in ((api, request_insight), (baseline, broadcast)):
                ws_url = server.base_url.replace("http://", "ws://") + "/graphql"
                phases.append(await measure(server, ws_url, token, publish, count, events))
    return phases


def run_subscriptions(
    *,
    env: dict[str, str],
    log_dir: Path,
    runner: asyncio.Runner,
    counts: Sequence[int],
    deflate: bool,
    events: int = EVENTS,
) -> list[SubscriptionPhase]:
    raise_open_files()  # inherited by the servers, which hold every socket
    api_env = {
        **env,
        "ENGLOG_WS_MAX_CONNECTIONS_PER_USER": str(10 * max(counts) + 100),
        "ENGLOG_ACCESS_TOKEN_TTL_SECONDS": "3600",
    }
    # The same websocket settings for both servers, as `englog api` would run.
    flags = ["--ws-per-message-deflate", str(deflate).lower()]
    with contextlib.ExitStack() as stack:
        api = stack.enter_context(
            uvicorn_server("graphql-subscriptions", "bench.api_app:create", api_env, log_dir, flags)
        )
        baseline = stack.enter_context(
            uvicorn_server("ws-baseline", "bench.ws_baseline:create", env, log_dir, flags)
        )
        return runner.run(_measure_all(api, baseline, counts, events))


def _ms(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.1f}"


def render_subscriptions(
    phases: Sequence[SubscriptionPhase], sources: tuple[str, str], *, deflate: bool
) -> str:
    lines = [
        "",
        f"insightEvents fan-out: one user, {EVENTS} events {SPACING:g} s apart, "
        f"{CLIENT_PROCESSES} client processes (PostgreSQL: {sources[0]}, Redis: {sources[1]}), "
        f"permessage-deflate {'on' if deflate else 'off'} on both servers",
        f"{'server':<22}{'subs':>7}{'deliveries':>16}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}{'RSS/sub KiB':>13}{'CPU us/dlv':>12}{'connect s':>11}",
    ]
    for p in phases:
        delivered = f"{p.deliveries}/{p.connected * p.events}"
        lines.append(
            f"{p.server:<22}{p.subscribers:>7}{delivered:>16}"
            f"{_ms(percentile_ms(p.latencies, 0.5)):>9}{_ms(percentile_ms(p.latencies, 0.99)):>9}"
            f"{_ms(max(p.latencies) * 1000 if p.latencies else math.nan):>9}"
            f"{p.rss_per_subscription_kib:>13.1f}{p.cpu_us_per_delivery:>12.1f}"
            f"{p.connect_seconds:>11.1f}"
        )
    for graph, floor in zip(phases[::2], phases[1::2], strict=True):
        p99 = percentile_ms(graph.latencies, 0.99) / percentile_ms(floor.latencies, 0.99)
        cpu = graph.cpu_us_per_delivery / floor.cpu_us_per_delivery
        lines.append(
            f"GraphQL/baseline at {graph.subscribers} subscribers: p99 ×{p99:.1f}, "
            f"CPU per delivery ×{cpu:.1f}"
        )
    for p in phases:
        if p.failed_publishes:
            lines.append(f"{p.server} ({p.subscribers}): {p.failed_publishes} publish(es) failed")
        if p.errors:
            lines.append(f"{p.server} ({p.subscribers}): client errors, e.g. {p.errors[:3]}")
    return "\n".join(lines)
