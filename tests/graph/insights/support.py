"""The insight tests' documents, the hand-made period seeded through the API, and a view of
the rows behind it."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from tests.factories import SIGN_UP, Account, Api
from tests.graph.insights.dataset import ENTRIES, PERIOD_END, PERIOD_START, PROJECTS

_emails = itertools.count(1)


INSIGHT_FIELDS = """
  id kind status periodStart periodEnd projectIds focusAreas content metrics model error
  attempts createdAt updatedAt completedAt
"""


REQUEST = f"""
mutation Request($input: RequestInsightInput!) {{
  requestInsight(input: $input) {{ {INSIGHT_FIELDS} }}
}}
"""


RETRY = f"mutation Retry($id: ID!) {{ retryInsight(id: $id) {{ {INSIGHT_FIELDS} }} }}"


GET = f"query Get($id: ID!) {{ insight(id: $id) {{ {INSIGHT_FIELDS} }} }}"


CREATE_ENTRIES = """
mutation CreateMany($inputs: [CreateLogEntryInput!]!) { createLogEntries(inputs: $inputs) { id } }
"""


@dataclass
class Seeded:
    projects: dict[str, str]  # name → id
    entries: dict[str, str]  # title → id


async def sign_up_in(api: Api, timezone: str) -> Account:
    email = f"insights{next(_emails)}-{uuid.uuid4().hex[:8]}@example.com"
    data = await api.data(
        SIGN_UP,
        {
            "input": {
                "email": email,
                "password": "correct horse battery",
                "firstName": "Grace",
                "lastName": "Hopper",
                "timezone": timezone,
            }
        },
    )
    payload = data["signUp"]
    return Account(payload["user"]["id"], email, payload["accessToken"], payload["refreshToken"])


def entry_inputs(projects: dict[str, str]) -> list[dict[str, Any]]:
    inputs = []
    for title, kind, project, value, impact, start, minutes, tags in ENTRIES:
        begin = datetime.fromisoformat(start)
        inputs.append(
            {
                "title": title,
                "type": kind,
                "projectId": projects[project] if project else None,
                "valueRating": value,
                "impactLevel": impact,
                "startTime": begin.isoformat(),
                "endTime": (begin + timedelta(minutes=minutes)).isoformat(),
                "tags": tags,
            }
        )
    return inputs


async def seed(api: Api, account: Account) -> Seeded:
    projects = {name: (await api.create_project(account, name))["id"] for name in PROJECTS}
    data = await api.data(CREATE_ENTRIES, {"inputs": entry_inputs(projects)}, account.access_token)
    ids = [entry["id"] for entry in data["createLogEntries"]]
    return Seeded(
        projects, {entry[0]: entry_id for entry, entry_id in zip(ENTRIES, ids, strict=True)}
    )


def request_input(**fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "kind": "WEEKLY_REPORT",
        "periodStart": PERIOD_START,
        "periodEnd": PERIOD_END,
    }
    values.update(fields)
    return values


async def request_insight(api: Api, account: Account, **fields: Any) -> dict[str, Any]:
    data = await api.data(REQUEST, {"input": request_input(**fields)}, account.access_token)
    insight: dict[str, Any] = data["requestInsight"]
    return insight


@dataclass
class Database:
    """Reads rows behind the API's back, to check what was (not) written."""

    connection: asyncpg.Connection

    async def insights(self, account: Account) -> list[dict[str, Any]]:
        rows = await self.connection.fetch(
            "SELECT * FROM insight WHERE user_id = $1 ORDER BY created_at, id",
            uuid.UUID(account.user_id),
        )
        return [dict(row) for row in rows]

    async def tasks(self, account: Account, kind: str | None = None) -> list[dict[str, Any]]:
        rows = await self.connection.fetch(
            "SELECT * FROM task WHERE user_id = $1 AND ($2::text IS NULL OR kind = $2) "
            "ORDER BY created_at, idempotency_key",
            uuid.UUID(account.user_id),
            kind,
        )
        return [dict(row) for row in rows]

    async def task_count(self) -> int:
        count: int = await self.connection.fetchval("SELECT count(*) FROM task")
        return count

    async def insight_count(self) -> int:
        count: int = await self.connection.fetchval("SELECT count(*) FROM insight")
        return count
