"""The insight pipeline under load: requestInsight over HTTP → the task queue in PostgreSQL →
a worker process over gRPC → a fake Ollama process (a short reply, at once) → COMPLETED.

The model answers at once, so what is measured is EngLog's own overhead (queue, gRPC,
database, the worker), which DESIGN.md wants in milliseconds. For each number of worker
processes it runs two phases:

- one at a time: request an insight, wait until it is COMPLETED, request the next;
- a burst: N requests from a few concurrent connections, then wait for all of them.

Latency is `insight.completed_at` (PostgreSQL's clock, stamped by the ReportResult
transaction) minus the moment this client received the requestInsight response (this
machine's clock: the database must run on this machine, which the bench checks loosely by
refusing a latency below -50 ms). Completion is detected by polling the insight
table every POLL_SECONDS, but the figures come from the timestamps, not from the polling.

The floor is the model's own time: the same chat, with the very prompt the worker sent,
streamed straight from the fake Ollama with the same client library, one at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

# asyncpg ships no type information; the ignore stays quiet once the project types it.
import asyncpg  # type: ignore[import-untyped,unused-ignore]
import httpx
import ollama
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.seed import graphql
from bench.services import (
    BenchError,
    Server,
    free_port,
    python_module,
    uvicorn_server,
    wait_for_log,
    wait_live,
)
from db.engine import asyncpg_dsn, create_engine, create_session_factory
from db.models.enums import TaskStatus
from db.queue import queue_depth

MODEL = "bench-fake:1b"
REPLY = "A steady week: the deploy pipeline is fixed, two reviews done, one design agreed."
WARMUP = 10
POLL_SECONDS = 0.005
BURST_CONNECTIONS = 8
SLOTS_PER_WORKER = 2  # ENGLOG_MAX_CONCURRENT_TASKS: WorkerSettings' default
PHASE_TIMEOUT = 120.0
UNFINISHED = frozenset({TaskStatus.QUEUED.value, TaskStatus.LEASED.value})
ENTRIES = 20
WEEK_START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

SIGN_UP = """
mutation BenchSignUp($input: SignUpInput!) { signUp(input: $input) { accessToken } }
"""
CREATE_ENTRIES = """
mutation BenchEntries($inputs: [CreateLogEntryInput!]!) { createLogEntries(inputs: $inputs) { id } }
"""
REQUEST_INSIGHT = """
mutation BenchInsight($input: RequestInsightInput!) { requestInsight(input: $input) { id status } }
"""
INSIGHT_INPUT = {"kind": "WEEKLY_REPORT", "periodStart": "2026-11-02", "periodEnd": "2026-11-08"}


@dataclass
class InsightPhase:
    """One phase with one number of workers."""

    workers: int
    name: str
    insights: int = 0
    elapsed: float = 0.0  # first request sent → last insight COMPLETED
    requesting: float = 0.0  # first request sent → last response received
    latencies: list[float] = field(default_factory=list)  # response received → COMPLETED
    in_database: list[float] = field(default_factory=list)  # created_at → completed_at
    api_cpu: float | None = None
    workers_cpu: float | None = None

    @property
    def per_second(self) -> float:
        return self.insights / self.elapsed if self.elapsed > 0 else math.nan

    @property
    def requests_per_second(self) -> float:
        return self.insights / self.requesting if self.requesting > 0 else math.nan


@dataclass(frozen=True)
class InsightRun:
    phases: list[InsightPhase]
    floor: list[float]
    postgres: str
    redis: str
    count: int
    sequential: int


def percentile_ms(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))] * 1000


@dataclass
class Requester:
    """Sends requestInsight over keep-alive HTTP; remembers when each answer arrived."""

    client: httpx.AsyncClient
    token: str
    received: dict[uuid.UUID, datetime] = field(default_factory=dict)

    async def request(self) -> uuid.UUID:
        data = await graphql(self.client, REQUEST_INSIGHT, {"input": INSIGHT_INPUT}, self.token)
        received = datetime.now(UTC)
        insight = data["requestInsight"]
        if insight["status"] != "PENDING":
            raise BenchError(f"requestInsight answered {insight}")
        insight_id = uuid.UUID(insight["id"])
        self.received[insight_id] = received
        return insight_id


async def _wait_completed(
    connection: asyncpg.Connection, ids: Sequence[uuid.UUID], logs: Sequence[Server]
) -> list[Any]:
    """The rows of `ids` once every one is COMPLETED (BenchError on FAILED or a timeout)."""
    deadline = time.monotonic() + PHASE_TIMEOUT
    while True:
        rows = await connection.fetch(
            "SELECT id, status, error, created_at, completed_at FROM insight "
            "WHERE id = ANY($1::uuid[])",
            list(ids),
        )
        failed = [row for row in rows if row["status"] == "FAILED"]
        if failed:
            raise BenchError(f"insight failed: {failed[0]['error']}\n{_tails(logs)}")
        if len(rows) == len(ids) and all(row["status"] == "COMPLETED" for row in rows):
            return list(rows)
        if time.monotonic() > deadline:
            done = sum(row["status"] == "COMPLETED" for row in rows)
            raise BenchError(
                f"{done}/{len(ids)} insights COMPLETED after {PHASE_TIMEOUT:.0f} s\n{_tails(logs)}"
            )
        await asyncio.sleep(POLL_SECONDS)


def _tails(servers: Sequence[Server]) -> str:
    return "\n".join(f"--- {s.name}:\n{s.log_tail(15)}" for s in servers)


def _cpu(servers: Sequence[Server]) -> float | None:
    readings = [server.cpu_seconds() for server in servers]
    if any(reading is None for reading in readings):
        return None
    return sum(reading for reading in readings if reading is not None)


def _record(
    phase: InsightPhase, rows: Sequence[Any], received: dict[uuid.UUID, datetime], started: datetime
) -> None:
    for row in rows:
        phase.latencies.append((row["completed_at"] - received[row["id"]]).total_seconds())
        phase.in_database.append((row["completed_at"] - row["created_at"]).total_seconds())
    phase.insights = len(rows)
    phase.elapsed = (max(row["completed_at"] for row in rows) - started).total_seconds()
    phase.requesting = (max(received[row["id"]] for row in rows) - started).total_seconds()
    # Clocks: both are this machine's; a clearly negative latency means they are not.
    if min(phase.latencies) < -0.05:
        raise BenchError(
            "an insight completed 50 ms before its request was answered: is PostgreSQL on "
            "another machine (another clock)? Run the bench against a local server."
        )


async def one_at_a_time(
    requester: Requester,
    connection: asyncpg.Connection,
    count: int,
    servers: Sequence[Server],
    phase: InsightPhase,
) -> None:
    rows = []
    started = datetime.now(UTC)
    for _ in range(count):
        insight_id = await requester.request()
        rows += await _wait_completed(connection, [insight_id], servers)
    _record(phase, rows, requester.received, started)


async def burst(
    requesters: Sequence[Requester],
    connection: asyncpg.Connection,
    count: int,
    servers: Sequence[Server],
    phase: InsightPhase,
) -> None:
    queue = iter(range(count))
    ids: list[uuid.UUID] = []

    async def send(requester: Requester) -> None:
        for _ in queue:
            ids.append(await requester.request())

    started = datetime.now(UTC)
    await asyncio.gather(*(send(requester) for requester in requesters))
    rows = await _wait_completed(connection, ids, servers)
    received = {key: at for requester in requesters for key, at in requester.received.items()}
    _record(phase, rows, received, started)


async def _drain(db: async_sessionmaker[AsyncSession], servers: Sequence[Server]) -> None:
    """Waits until no task is queued or leased (the seed's enrichment tasks, a phase's end)."""
    deadline = time.monotonic() + PHASE_TIMEOUT
    while await _unfinished(db):
        if time.monotonic() > deadline:
            raise BenchError(f"the task queue did not drain\n{_tails(servers)}")
        await asyncio.sleep(0.05)


async def _unfinished(db: async_sessionmaker[AsyncSession]) -> int:
    async with db() as session:
        depth = await queue_depth(session, due_only=True)
    return sum(count for (status, _), count in depth.items() if status in UNFINISHED)


def _entries() -> list[dict[str, Any]]:
    types = ("CODE", "DEBUG", "REVIEW", "MEETING", "DOCS")
    entries = []
    for index in range(ENTRIES):
        start = WEEK_START + timedelta(days=index % 5, hours=index // 5 * 2)
        entries.append(
            {
                "title": f"Work item {index}: deploy pipeline",
                "type": types[index % len(types)],
                "tags": ["deploys", "ci"],
                "startTime": start.isoformat(),
                "endTime": (start + timedelta(minutes=90)).isoformat(),
                "valueRating": ("LOW", "MEDIUM", "HIGH")[index % 3],
            }
        )
    return entries


async def _account(client: httpx.AsyncClient) -> str:
    data = await graphql(
        client,
        SIGN_UP,
        {
            "input": {
                "email": "insights@example.com",
                "password": "correct horse battery staple",
                "firstName": "Bench",
                "lastName": "Mark",
                "timezone": "Europe/London",
            }
        },
    )
    token: str = data["signUp"]["accessToken"]
    await graphql(client, CREATE_ENTRIES, {"inputs": _entries()}, token)
    return token


async def floor(fake_url: str, count: int) -> list[float]:
    """The model's time alone: the worker's last chat request, replayed `count` times."""
    async with httpx.AsyncClient(base_url=fake_url) as client:
        recorded = (await client.get("/_fake/requests")).json()
    chats = [r["body"] for r in recorded if r["path"] == "/api/chat" and "format" not in r["body"]]
    if not chats:
        raise BenchError("the fake Ollama saw no insight chat to replay")
    body = chats[-1]
    llm = ollama.AsyncClient(host=fake_url)
    latencies = []
    try:
        for _ in range(count):
            began = time.perf_counter()
            stream = await llm.chat(
                model=body["model"],
                messages=body["messages"],
                stream=True,
                options=body.get("options"),
            )
            parts = [part.message.content or "" async for part in stream]
            latencies.append(time.perf_counter() - began)
            if "".join(parts) != REPLY:
                raise BenchError(f"the fake Ollama answered {''.join(parts)!r}")
    finally:
        await llm.close()  # type: ignore[no-untyped-call]  # unannotated in ollama
    return latencies


@contextlib.contextmanager
def _workers(
    count: int, env: dict[str, str], log_dir: Path, api_grpc: str, fake_url: str
) -> Iterator[list[Server]]:
    with contextlib.ExitStack() as stack:
        workers = [
            stack.enter_context(
                python_module(
                    f"worker-{count}-{index}",
                    ["englog.cli", "worker"],
                    {
                        **env,
                        "ENGLOG_API_GRPC_ADDRESS": api_grpc,
                        "ENGLOG_OLLAMA_HOST": fake_url,
                        "ENGLOG_OLLAMA_MODEL": MODEL,
                        "ENGLOG_WORKER_NAME": f"bench-{count}-{index}",
                        "ENGLOG_MAX_CONCURRENT_TASKS": str(SLOTS_PER_WORKER),
                    },
                    log_dir,
                )
            )
            for index in range(count)
        ]
        yield workers


async def _measure_config(
    workers: list[Server],
    api: Server,
    requesters: list[Requester],
    connection: asyncpg.Connection,
    db: async_sessionmaker[AsyncSession],
    count: int,
    sequential: int,
) -> list[InsightPhase]:
    servers = [api, *workers]
    for worker in workers:
        await wait_for_log(worker, "registered with")
    await _drain(db, servers)
    print(f"{len(workers)} worker(s): warming up ({WARMUP} insights) …", flush=True)
    warm_up = InsightPhase(len(workers), "warm-up")
    await one_at_a_time(requesters[0], connection, WARMUP, servers, warm_up)

    sequential_phase = InsightPhase(len(workers), "one at a time")
    burst_phase = InsightPhase(len(workers), f"burst ({len(requesters)} conns)")
    work = (
        (sequential_phase, partial(one_at_a_time, requesters[0], connection, sequential, servers)),
        (burst_phase, partial(burst, requesters, connection, count, servers)),
    )
    for phase, measure in work:
        print(f"{len(workers)} worker(s): {phase.name} …", flush=True)
        api_before, workers_before = api.cpu_seconds(), _cpu(workers)
        await measure(phase)
        api_after, workers_after = api.cpu_seconds(), _cpu(workers)
        if api_before is not None and api_after is not None:
            phase.api_cpu = api_after - api_before
        if workers_before is not None and workers_after is not None:
            phase.workers_cpu = workers_after - workers_before
        await _drain(db, servers)
    return [sequential_phase, burst_phase]


def run_insights(
    *,
    database_url: str,
    env: dict[str, str],
    log_dir: Path,
    runner: asyncio.Runner,
    worker_counts: Sequence[int],
    count: int,
    sequential: int,
) -> tuple[list[InsightPhase], list[float]]:
    """Starts the fake Ollama and the API, then each number of workers in turn."""
    script = {
        "models": [MODEL],
        "reply": REPLY,
        "structured_reply": json.dumps({"tags": ["deploys"], "skills": ["ci"]}),
    }
    grpc_port = free_port()
    api_env = {**env, "ENGLOG_GRPC_PORT": str(grpc_port)}
    with contextlib.ExitStack() as stack:
        fake = stack.enter_context(
            python_module(
                "fake-ollama",
                ["tests.fakes.ollama", "--port", "0", "--script", json.dumps(script)],
                env,
                log_dir,
            )
        )
        api = stack.enter_context(
            uvicorn_server("graphql-insights", "bench.api_app:create", api_env, log_dir)
        )
        line = runner.run(wait_for_log(fake, "fake-ollama listening on "))
        fake_url = line.split("fake-ollama listening on ", 1)[1].split()[0]
        clients = [
            stack.enter_context(_client_in(runner, api.base_url)) for _ in range(BURST_CONNECTIONS)
        ]
        connection = runner.run(asyncpg.connect(asyncpg_dsn(database_url)))
        stack.callback(lambda: runner.run(connection.close()))
        engine = create_engine(database_url, pool_size=1)
        stack.callback(lambda: runner.run(engine.dispose()))
        db = create_session_factory(engine)
        runner.run(wait_live(api))
        print("Seeding an account with a week of entries …", flush=True)
        token = runner.run(_account(clients[0]))
        requesters = [Requester(client, token) for client in clients]
        phases: list[InsightPhase] = []
        for workers_count in worker_counts:
            with _workers(workers_count, env, log_dir, f"127.0.0.1:{grpc_port}", fake_url) as ws:
                phases += runner.run(
                    _measure_config(ws, api, requesters, connection, db, count, sequential)
                )
        print("Floor: the same chat straight from the fake Ollama …", flush=True)
        floor_latencies = runner.run(floor(fake_url, sequential))
    return phases, floor_latencies


@contextlib.contextmanager
def _client_in(runner: asyncio.Runner, base_url: str) -> Iterator[httpx.AsyncClient]:
    client = httpx.AsyncClient(base_url=base_url, timeout=30.0)
    try:
        yield client
    finally:
        runner.run(client.aclose())


def render_insights(info: InsightRun) -> str:
    lines = [
        "",
        "EngLog bench: insights — requestInsight (HTTP) → task queue (PostgreSQL) → worker "
        "process (gRPC) → fake Ollama → COMPLETED",
        f"PostgreSQL: {info.postgres} · Redis: {info.redis} · fake Ollama answers at once "
        f"({len(REPLY.split())} tokens) · {SLOTS_PER_WORKER} task slots per worker · "
        f"{ENTRIES} entries in the week",
        f"per worker count: {WARMUP} warm-up, {info.sequential} one at a time, then a burst of "
        f"{info.count} from {BURST_CONNECTIONS} connections",
        "",
        f"{'workers':>7}  {'phase':<18}{'insights':>9}{'requests/s':>12}{'insights/s':>12}"
        f"{'p50 ms':>9}{'p99 ms':>9}{'db p50 ms':>11}{'API CPU':>9}{'workers CPU':>13}",
    ]
    for phase in info.phases:
        p50, p99 = percentile_ms(phase.latencies, 0.5), percentile_ms(phase.latencies, 0.99)
        api_cpu, workers_cpu = (
            _share(phase.api_cpu, phase.elapsed),
            _share(phase.workers_cpu, phase.elapsed),
        )
        lines.append(
            f"{phase.workers:>7}  {phase.name:<18}{phase.insights:>9}"
            f"{phase.requests_per_second:>12.1f}{phase.per_second:>12.1f}"
            f"{p50:>9.1f}{p99:>9.1f}{percentile_ms(phase.in_database, 0.5):>11.1f}"
            f"{api_cpu:>9}{workers_cpu:>13}"
        )
    floor_p50 = percentile_ms(info.floor, 0.5)
    lines += [
        "",
        f"floor (the worker's chat replayed straight to the fake Ollama, one at a time): "
        f"p50 {floor_p50:.1f} ms, p99 {percentile_ms(info.floor, 0.99):.1f} ms",
    ]
    for phase in info.phases:
        if phase.name == "one at a time":
            p50 = percentile_ms(phase.latencies, 0.5)
            lines.append(
                f"one at a time, {phase.workers} worker(s): p50 {p50 - floor_p50:.1f} ms over the "
                f"floor (ratio latency/floor {p50 / floor_p50:.1f}): EngLog's own overhead"
            )
    lines += [
        "p50/p99: requestInsight response received → insight.completed_at (both this machine's "
        "clock); db p50: insight created_at → completed_at (PostgreSQL's clock).",
        "requests/s: requestInsight answers / (first request sent → last answer received); "
        "insights/s: insights / (first request sent → last completed_at).",
        f"CPU: % of one core over the phase ({os.cpu_count()} CPUs here, shared by this client, "
        "the API, PostgreSQL, the workers and the fake Ollama).",
    ]
    return "\n".join(lines)


def _share(seconds: float | None, elapsed: float) -> str:
    if seconds is None or not elapsed:
        return "n/a"
    return f"{100 * seconds / elapsed:.0f}%"
