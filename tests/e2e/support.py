"""What end-to-end tests share besides processes: GraphQL calls, rows, bounded polling."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg

from tests.factories import Account, Api

T = TypeVar("T")

WAIT_TIMEOUT = 30.0  # the longest any outcome may take to show up in the database
POLL_INTERVAL = 0.05
PERIOD = {"periodStart": "2026-11-02", "periodEnd": "2026-11-08"}
FINAL = frozenset({"COMPLETED", "FAILED"})

REQUEST_INSIGHT = """
mutation($input: RequestInsightInput!) { requestInsight(input: $input) { id status } }
"""
INSIGHT = "query($id: ID!) { insight(id: $id) { status content model error attempts } }"


async def request_insight(api: Api, account: Account, kind: str = "WEEKLY_REPORT") -> str:
    """requestInsight over HTTP for the week of 2 November 2026; the PENDING insight's id."""
    data = await api.data(
        REQUEST_INSIGHT, {"input": {"kind": kind, **PERIOD}}, account.access_token
    )
    assert data["requestInsight"]["status"] == "PENDING"
    return str(data["requestInsight"]["id"])


async def eventually(
    probe: Callable[[], Awaitable[T]],
    until: Callable[[T], bool],
    *,
    what: str,
    within: float = WAIT_TIMEOUT,
) -> T:
    """Calls `probe` until its answer satisfies `until`; fails after `within` s with the last one.

    A bound on waiting for an outcome, not a measurement: no test asserts how long it took.
    """
    deadline = time.monotonic() + within
    while True:
        value = await probe()
        if until(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within:g} s; last seen {value!r}")
        await asyncio.sleep(POLL_INTERVAL)


@dataclass
class Database:
    """The test database as the API process leaves it (read, and nudged, with asyncpg)."""

    connection: asyncpg.Connection

    async def insight(self, insight_id: str) -> dict[str, Any]:
        row = await self.connection.fetchrow(
            "SELECT status, content, model, error, attempts, metrics, generation, completed_at "
            "FROM insight WHERE id = $1",
            uuid.UUID(insight_id),
        )
        assert row is not None, f"no insight {insight_id}"
        return _decoded(row, "metrics", "generation")

    async def task_of(self, insight_id: str) -> dict[str, Any]:
        """The insight's task: status, attempts, max_attempts, last_error, kind, payload."""
        row = await self.connection.fetchrow(
            "SELECT t.status, t.attempts, t.max_attempts, t.last_error, t.kind, t.payload "
            "FROM task t JOIN insight i ON i.task_id = t.id WHERE i.id = $1",
            uuid.UUID(insight_id),
        )
        assert row is not None, f"no task for insight {insight_id}"
        return _decoded(row, "payload")

    async def task_count(self, insight_id: str) -> int:
        """How many tasks were ever enqueued for the insight (a retry would add one)."""
        count: int = await self.connection.fetchval(
            "SELECT count(*) FROM task WHERE kind = 'generate_insight' "
            "AND payload->>'insight_id' = $1",
            insight_id,
        )
        return count

    async def statuses(self, insight_ids: Collection[str]) -> dict[str, str]:
        rows = await self.connection.fetch(
            "SELECT id, status FROM insight WHERE id = ANY($1::uuid[])",
            [uuid.UUID(i) for i in insight_ids],
        )
        return {str(row["id"]): row["status"] for row in rows}

    async def wait_for_insight(
        self, insight_id: str, statuses: Collection[str] = FINAL
    ) -> dict[str, Any]:
        """The insight row once its status is one of `statuses` (by default: it ended)."""
        return await eventually(
            lambda: self.insight(insight_id),
            lambda row: row["status"] in statuses,
            what=f"insight {insight_id} reaching {sorted(statuses)}",
        )

    async def wait_for_all(self, insight_ids: Collection[str], status: str) -> None:
        await eventually(
            lambda: self.statuses(insight_ids),
            lambda found: len(found) == len(insight_ids) and set(found.values()) == {status},
            what=f"{len(insight_ids)} insights reaching {status}",
        )


def _decoded(row: asyncpg.Record, *json_columns: str) -> dict[str, Any]:
    values = dict(row)
    for name in json_columns:
        if values[name] is not None:
            values[name] = json.loads(values[name])
    return values
