"""The data the benchmark reads, written through the real API: one user, 3 projects, 30 tags,
500 entries, each with a project and 3 tags."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.documents import CREATE_ENTRIES, CREATE_PROJECT, CREATE_TAG, SIGN_UP
from bench.services import BenchError

ENTRIES = 500  # the API's bulk limit: one createLogEntries call
PROJECTS = ("Apollo", "Gemini", "Mercury")
TAGS = (
    "python", "postgres", "graphql", "redis", "grpc", "docker", "kubernetes", "ci", "testing",
    "security", "performance", "api", "frontend", "backend", "oncall", "incident", "refactor",
    "design", "hiring", "mentoring", "docs", "release", "migration", "observability", "llm",
    "billing", "auth", "search", "mobile", "data",
)  # fmt: skip
TYPES = ("CODE", "DEBUG", "REVIEW", "MEETING", "DOCS", "PLANNING", "OPS", "LEARNING")
VALUES = ("LOW", "MEDIUM", "HIGH")
IMPACTS = ("PERSONAL", "TEAM", "PRODUCT", "COMPANY")
NEWEST = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Seeded:
    user_id: str
    access_token: str


async def graphql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    """The data of a response that must have no errors (BenchError otherwise)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise BenchError(f"GraphQL request failed ({response.status_code}): {body}")
    data: dict[str, Any] = body["data"]
    return data


def _entries(project_ids: list[str]) -> list[dict[str, Any]]:
    rng = random.Random(2026)  # the same data every run
    entries = []
    for index in range(ENTRIES):
        # Every tenth entry starts with its predecessor, so the keyset's id tie-break matters.
        start = NEWEST - timedelta(minutes=40 * (index - index // 10))
        entries.append(
            {
                "title": f"{rng.choice(TYPES).title()} work item {index}",
                "description": "Notes on what was done and why." if index % 4 else None,
                "type": TYPES[index % len(TYPES)],
                "projectId": project_ids[index % len(project_ids)],
                "tags": rng.sample(TAGS, 3),
                "startTime": start.isoformat(),
                "endTime": (start + timedelta(minutes=rng.choice((15, 30, 45, 90)))).isoformat(),
                "valueRating": VALUES[index % len(VALUES)],
                "impactLevel": IMPACTS[index % len(IMPACTS)],
            }
        )
    return entries


async def seed(client: httpx.AsyncClient) -> Seeded:
    sign_up = await graphql(
        client,
        SIGN_UP,
        {
            "input": {
                "email": "bench@example.com",
                "password": "correct horse battery staple",
                "firstName": "Bench",
                "lastName": "Mark",
                "timezone": "Europe/London",
            }
        },
    )
    token: str = sign_up["signUp"]["accessToken"]
    project_ids = []
    for name in PROJECTS:
        data = await graphql(client, CREATE_PROJECT, {"input": {"name": name}}, token)
        project_ids.append(data["createProject"]["id"])
    for index, name in enumerate(TAGS):
        category = ("skill", "area", "chore")[index % 3]
        await graphql(client, CREATE_TAG, {"input": {"name": name, "category": category}}, token)
    data = await graphql(client, CREATE_ENTRIES, {"inputs": _entries(project_ids)}, token)
    if len(data["createLogEntries"]) != ENTRIES:
        raise BenchError(f"expected {ENTRIES} entries, got {len(data['createLogEntries'])}")
    return Seeded(user_id=sign_up["signUp"]["user"]["id"], access_token=token)
