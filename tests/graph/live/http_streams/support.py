"""What the HTTP-stream tests share: the transports, the documents, one stream reader and
the counts of what a server holds open."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
from jose import jwt

from db.queries import event as events
from graph.live.slots import connections_key
from tests.factories import Account, Api, access_claims, entry_input
from tests.live import WITHIN, Server

SSE = "sse"
MULTIPART = "multipart"
TRANSPORTS = [SSE, MULTIPART]
ACCEPT = {
    SSE: "text/event-stream",
    # What Apollo Client's HttpLink sends for a subscription.
    MULTIPART: 'multipart/mixed;boundary="graphql";subscriptionSpec=1.0,application/json',
}
SECRET = "test-secret-that-is-long-enough-for-hs256!"  # make_settings' jwt_secret

INSIGHT_EVENTS = "subscription { insightEvents { insight { id status } } }"
# From the very start of a new user's events: whatever the test does next arrives, whether
# the feed is already following the user's channel by then (live) or not yet (replayed).
INSIGHTS_SINCE_START = 'subscription { insightEvents(since: "0") { insight { id status } } }'
ENTRY_EVENTS = """
subscription($since: String) { logEntryEvents(since: $since) { action entryId } }
"""
REQUEST = """
mutation($input: RequestInsightInput!) { requestInsight(input: $input) { id status } }
"""
LOG_OUT = "mutation($refreshToken: String!) { logOut(refreshToken: $refreshToken) }"
CREATE = "mutation($input: CreateLogEntryInput!) { createLogEntry(input: $input) { id } }"


class Stream:
    """One streamed response, read as messages: ("next", result), ("heartbeat", None),
    ("error", errors) (multipart's transport-level error) and ("complete", None)."""

    def __init__(self, transport: str, response: httpx.Response) -> None:
        self.transport = transport
        self.response = response
        self.chunks = response.aiter_text()
        self.buffer = ""
        self.preamble = transport == MULTIPART  # text before the first boundary

    async def message(self) -> tuple[str, Any]:
        return await asyncio.wait_for(self._message(), WITHIN)

    async def _message(self) -> tuple[str, Any]:
        while True:
            parsed = self._parse()
            if parsed is not None:
                return parsed
            try:
                self.buffer += await anext(self.chunks)
            except StopAsyncIteration:
                return "eof", self.buffer

    def _parse(self) -> tuple[str, Any] | None:
        if self.transport == SSE:
            block, separator, rest = self.buffer.partition("\r\n\r\n")
            if not separator:
                return None
            self.buffer = rest
            if block.startswith(":"):
                return "heartbeat", None
            fields = dict(line.partition(": ")[::2] for line in block.split("\r\n"))
            return fields["event"], json.loads(fields["data"]) if fields["data"] else None
        while True:
            if not self.preamble and self.buffer.startswith("--"):
                self.buffer = self.buffer[2:]
                return "complete", None
            part, separator, rest = self.buffer.partition("\r\n--graphql")
            if not separator:
                return None
            self.buffer = rest
            if self.preamble:
                self.preamble = False
                continue
            if not part:  # Strawberry's last result part is followed by an empty one
                continue
            body = json.loads(part.partition("\r\n\r\n")[2])
            if body == {}:
                return "heartbeat", None
            if body.get("payload") is None:
                return "error", body["errors"]
            return "next", body["payload"]

    async def next(self) -> dict[str, Any]:
        """The next result (heartbeats skipped)."""
        kind, value = await self.skipping_heartbeats()
        assert kind == "next", (kind, value)
        result: dict[str, Any] = value
        return result

    async def skipping_heartbeats(self) -> tuple[str, Any]:
        while True:
            kind, value = await self.message()
            if kind != "heartbeat":
                return kind, value

    async def rest(self) -> list[tuple[str, Any]]:
        """Every message up to the end of the response, heartbeats skipped."""
        messages: list[tuple[str, Any]] = []
        while True:
            kind, value = await self.skipping_heartbeats()
            if kind == "eof":
                assert value.strip() == "", value
                return messages
            messages.append((kind, value))


def headers(transport: str | None, token: str | None) -> dict[str, str]:
    values = {"Accept": ACCEPT[transport] if transport else "application/json"}
    if token is not None:
        values["Authorization"] = f"Bearer {token}"
    return values


@asynccontextmanager
async def streaming(
    client: httpx.AsyncClient,
    transport: str,
    query: str,
    token: str | None,
    variables: dict[str, Any] | None = None,
) -> AsyncIterator[Stream]:
    body = {"query": query, "variables": variables or {}}
    async with client.stream(
        "POST", "/graphql", json=body, headers=headers(transport, token)
    ) as response:
        yield Stream(transport, response)


async def feed_members(server: Server, account: Account, topic: str = events.INSIGHT) -> int:
    return len(server.state.feeds.members(uuid.UUID(account.user_id), topic))


async def feeds_open(server: Server) -> int:
    return len(server.state.feeds)


async def connections(server: Server, account: Account) -> int:
    return int(await server.state.redis.zcard(connections_key(uuid.UUID(account.user_id))))


async def channel_subscribers(server: Server, account: Account) -> int:
    counts = await server.state.redis.pubsub_numsub(f"englog:user:{account.user_id}")
    return int(counts[0][1])


async def request_insight(http: Api, account: Account) -> str:
    period = {"kind": "WEEKLY_REPORT", "periodStart": "2026-11-02", "periodEnd": "2026-11-08"}
    data = await http.data(REQUEST, {"input": period}, account.access_token)
    return str(data["requestInsight"]["id"])


async def create_entry(http: Api, account: Account) -> str:
    data = await http.data(CREATE, {"input": entry_input()}, account.access_token)
    return str(data["createLogEntry"]["id"])


def refused(message: str, code: str) -> dict[str, Any]:
    return {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}


def ended(transport: str, message: str, code: str) -> list[tuple[str, Any]]:
    """How a stream that the server ends says why, in each transport."""
    errors = [{"message": message, "extensions": {"code": code}}]
    if transport == SSE:
        return [("next", {"data": None, "errors": errors}), ("complete", None)]
    return [("error", errors), ("complete", None)]


def short_lived(account: Account, seconds: int) -> str:
    now = int(datetime.now(UTC).timestamp())
    return str(jwt.encode(access_claims(account.user_id, exp=now + seconds), SECRET, "HS256"))


def expired(account: Account) -> str:
    now = int(datetime.now(UTC).timestamp())
    return str(
        jwt.encode(access_claims(account.user_id, iat=now - 120, exp=now - 60), SECRET, "HS256")
    )
