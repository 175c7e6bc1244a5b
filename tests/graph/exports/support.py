"""What the export tests share: downloads with a token, and entries seeded in bulk."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from starlette.types import ASGIApp, Message

from tests.factories import Account, Api, connect

CREATE_ENTRIES = """
mutation Create($inputs: [CreateLogEntryInput!]!) { createLogEntries(inputs: $inputs) { id } }
"""


async def get(
    client: httpx.AsyncClient, path: str, account: Account | None, **params: Any
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {account.access_token}"} if account else {}
    return await client.get(path, params=params, headers=headers)


async def create_entries(api: Api, account: Account, inputs: list[dict[str, Any]]) -> list[str]:
    data = await api.data(CREATE_ENTRIES, {"inputs": inputs}, account.access_token)
    return [entry["id"] for entry in data["createLogEntries"]]


async def add_entries(database_url: str, account: Account, count: int, title: str) -> None:
    """`count` entries, one an hour from 2026-01-01 00:00 UTC, written straight into the table."""
    async with connect(database_url) as connection:
        await connection.execute(
            "INSERT INTO log_entry (user_id, title, type, start_time, end_time) "
            "SELECT $1, $3 || ' ' || n, 'CODE', "
            "timestamptz '2026-01-01 00:00Z' + n * interval '1 hour', "
            "timestamptz '2026-01-01 00:45Z' + n * interval '1 hour' "
            "FROM generate_series(1, $2) AS n",
            uuid.UUID(account.user_id),
            count,
            title,
        )


async def add_insight(
    database_url: str, account: Account, content: str | None, status: str = "COMPLETED"
) -> str:
    async with connect(database_url) as connection:
        insight_id = await connection.fetchval(
            "INSERT INTO insight (user_id, kind, status, period_start, period_end, content, model)"
            " VALUES ($1, 'WEEKLY_REPORT', $2, '2026-11-02', '2026-11-08', $3, 'builtin')"
            " RETURNING id",
            uuid.UUID(account.user_id),
            status,
            content,
        )
    return str(insight_id)


def error_of(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert len(body["errors"]) == 1, body
    error: dict[str, Any] = body["errors"][0]
    return error


async def asgi_get(app: ASGIApp, path: str, query: str, token: str) -> tuple[int, list[bytes]]:
    """A GET sent to the ASGI app itself, and the body as the app sent it: one item a
    `http.response.body` message (httpx's ASGI transport joins them)."""
    status, chunks = 0, []
    requested = asyncio.Event()  # after the request's one body message, no disconnect

    async def receive() -> Message:
        if requested.is_set():
            await asyncio.Event().wait()  # until the response is sent and this is cancelled
        requested.set()
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body" and message.get("body"):
            chunks.append(message["body"])

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"englog.test"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("englog.test", 80),
    }
    await app(scope, receive, send)
    return status, chunks
