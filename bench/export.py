"""`uv run just bench --only export`: GET /export/entries?format=csv of 50,000 entries, run
in this process through the real app (its lifespan, auth, limit and streaming), against a
plain asyncpg COPY … TO STDOUT (CSV) of the same rows as the floor: wall time and the
peak of Python's memory (tracemalloc) while each runs."""

from __future__ import annotations

import asyncio
import secrets
import time
import tracemalloc
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg  # type: ignore[import-untyped,unused-ignore]
import httpx
from asgi_lifespan import LifespanManager
from starlette.types import ASGIApp, Message

from db.engine import asyncpg_dsn
from graph.app import create_app
from graph.settings import ApiSettings

ENTRIES = 50_000
SIGN_UP = """mutation($input: SignUpInput!) { signUp(input: $input) { accessToken user { id } } }"""
FLOOR_QUERY = (
    "SELECT e.title, p.name, e.start_time, e.end_time, e.end_time - e.start_time, e.type,"
    " e.value_rating, e.impact_level, e.description FROM log_entry e"
    " LEFT JOIN project p ON p.id = e.project_id WHERE e.user_id = '{user}'"
    " ORDER BY e.start_time, e.id"
)


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_bytes: int
    size: int


async def _measure(work: Callable[[Callable[[bytes], None]], Awaitable[None]]) -> Measured:
    """Timed in one run, memory traced in another (tracing slows Python code severalfold)."""
    size = 0

    def sink(chunk: bytes) -> None:
        nonlocal size
        size += len(chunk)

    started = time.perf_counter()
    await work(sink)
    seconds = time.perf_counter() - started
    tracemalloc.start()
    try:
        await work(lambda _: None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return Measured(seconds, peak, size)


async def _download(app: ASGIApp, token: str, sink: Callable[[bytes], None]) -> None:
    sent = asyncio.Event()

    async def receive() -> Message:
        if sent.is_set():
            await asyncio.Event().wait()  # no disconnect: cancelled once the body is sent
        sent.set()
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] != 200:
            raise RuntimeError(f"the export answered {message['status']}")
        if message["type"] == "http.response.body":
            sink(message.get("body", b""))

    headers = [(b"host", b"bench"), (b"authorization", f"Bearer {token}".encode())]
    scope: dict[str, Any] = {"type": "http", "method": "GET", "path": "/export/entries"}
    scope |= {"query_string": b"format=csv", "http_version": "1.1", "scheme": "http"}
    scope |= {"headers": headers, "asgi": {"version": "3.0"}, "root_path": ""}
    await app(scope, receive, send)


async def _seed(client: httpx.AsyncClient, database_url: str) -> tuple[str, str]:
    data = {"email": "export@bench.test", "password": "correct horse battery"}
    data |= {"firstName": "Bench", "lastName": "Export", "timezone": "Europe/Paris"}
    answer = await client.post("/graphql", json={"query": SIGN_UP, "variables": {"input": data}})
    payload = answer.json()["data"]["signUp"]
    user_id = payload["user"]["id"]
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        project = await connection.fetchval(
            "INSERT INTO project (user_id, name) VALUES ($1, 'Payments') RETURNING id",
            uuid.UUID(user_id),
        )
        await connection.execute(
            "INSERT INTO log_entry (user_id, project_id, title, description, type, start_time,"
            " end_time) SELECT $1, CASE WHEN n % 3 = 0 THEN NULL ELSE $2::uuid END,"
            " 'Entry ' || n, 'Worked on item ' || n, 'CODE',"
            " timestamptz '2020-01-01 00:00Z' + n * interval '1 hour',"
            " timestamptz '2020-01-01 00:40Z' + n * interval '1 hour'"
            " FROM generate_series(1, $3) AS n",
            uuid.UUID(user_id),
            project,
            ENTRIES,
        )
    finally:
        await connection.close()
    return payload["accessToken"], user_id


async def run_export(database_url: str, redis_url: str) -> tuple[Measured, Measured]:
    settings = ApiSettings(
        database_url=database_url,
        redis_url=redis_url,
        jwt_secret=secrets.token_urlsafe(48),
        password_time_cost=1,
        password_memory_cost_kib=64,
        grpc_port=0,
        scheduler=False,
        rate_limit_exports="1000000/60",
    )
    application = create_app(settings)
    async with LifespanManager(application) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            token, user_id = await _seed(client, database_url)
        await _download(manager.app, token, lambda _: None)  # warm: statements prepared
        api = await _measure(lambda sink: _download(manager.app, token, sink))

    async def copy(sink: Callable[[bytes], None]) -> None:
        connection = await asyncpg.connect(asyncpg_dsn(database_url))
        try:
            await connection.copy_from_query(
                FLOOR_QUERY.format(user=uuid.UUID(user_id)), output=_writer(sink), format="csv"
            )
        finally:
            await connection.close()

    floor = await _measure(copy)
    return api, floor


def _writer(sink: Callable[[bytes], None]) -> Callable[[bytes], Awaitable[None]]:
    async def write(chunk: bytes) -> None:
        sink(chunk)

    return write


def render_export(api: Measured, floor: Measured, sources: tuple[str, str]) -> str:
    def line(name: str, m: Measured) -> str:
        return (
            f"  {name:<28} {m.seconds:7.2f} s  {m.peak_bytes / 2**20:7.1f} MiB peak"
            f"  {m.size / 2**20:7.1f} MiB sent"
        )

    return "\n".join(
        [
            f"Export of {ENTRIES:,} entries as CSV (PostgreSQL: {sources[0]}, Redis: {sources[1]})",
            line("GET /export/entries", api),
            line("floor: asyncpg COPY (CSV)", floor),
            f"  ratio: {api.seconds / floor.seconds:.1f}x the time, "
            f"{api.peak_bytes / max(floor.peak_bytes, 1):.1f}x the peak memory",
        ]
    )
