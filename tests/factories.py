"""Helpers that drive the API the way a client does: GraphQL documents over HTTP."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy.engine import make_url

from db.engine import asyncpg_dsn
from graph.app import create_app
from graph.settings import ApiSettings

_counter = itertools.count(1)

SIGN_UP = """
mutation SignUp($input: SignUpInput!) {
  signUp(input: $input) { accessToken refreshToken expiresIn tokenType user { id email } }
}
"""

CREATE_ENTRY = """
mutation Create($input: CreateLogEntryInput!) {
  createLogEntry(input: $input) {
    id title description type startTime endTime durationMinutes valueRating impactLevel
    project { id name } tags { name }
  }
}
"""

CREATE_PROJECT = """
mutation CreateProject($input: CreateProjectInput!) {
  createProject(input: $input) { id name status color startDate endDate description }
}
"""

BASE_TIME = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass
class Account:
    user_id: str
    email: str
    access_token: str
    refresh_token: str


@dataclass
class Api:
    client: httpx.AsyncClient

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """The data of a response that must have no errors."""
        body = await self.post(query, variables, token)
        assert "errors" not in body, body["errors"]
        result: dict[str, Any] = body["data"]
        return result

    async def error(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """The single error of a response that must fail; its data must be null."""
        body = await self.post(query, variables, token)
        assert body.get("errors"), body
        assert len(body["errors"]) == 1, body["errors"]
        error: dict[str, Any] = body["errors"][0]
        return error

    async def sign_up(
        self, email: str | None = None, password: str = "correct horse battery"
    ) -> Account:
        email = email or f"user{next(_counter)}@example.com"
        data = await self.data(
            SIGN_UP,
            {
                "input": {
                    "email": email,
                    "password": password,
                    "firstName": "Ada",
                    "lastName": "Lovelace",
                    "timezone": "Europe/London",
                }
            },
        )
        payload = data["signUp"]
        return Account(
            payload["user"]["id"], email, payload["accessToken"], payload["refreshToken"]
        )

    async def create_project(
        self, account: Account, name: str = "Apollo", **fields: Any
    ) -> dict[str, Any]:
        data = await self.data(
            CREATE_PROJECT, {"input": {"name": name, **fields}}, account.access_token
        )
        result: dict[str, Any] = data["createProject"]
        return result

    async def create_entry(self, account: Account, **fields: Any) -> dict[str, Any]:
        data = await self.data(CREATE_ENTRY, {"input": entry_input(**fields)}, account.access_token)
        result: dict[str, Any] = data["createLogEntry"]
        return result


def entry_input(offset_hours: float = 0, minutes: int = 60, **fields: Any) -> dict[str, Any]:
    start = BASE_TIME + timedelta(hours=offset_hours)
    values: dict[str, Any] = {
        "title": "Fixed the flaky deploy",
        "type": "DEBUG",
        "startTime": start.isoformat(),
        "endTime": (start + timedelta(minutes=minutes)).isoformat(),
    }
    values.update(fields)
    return values


async def _admin(server_url: str, *statements: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@asynccontextmanager
async def connect(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A plain asyncpg connection, to read and write rows behind the API's back."""
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        yield connection
    finally:
        await connection.close()


def recreate_database(server_url: str, name: str) -> str:
    """An empty database `name` on that server (dropped first if it exists); its URL."""
    asyncio.run(
        _admin(
            server_url,
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
            f'CREATE DATABASE "{name}"',
        )
    )
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, name: str) -> None:
    asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


GENEROUS_RATE_LIMITS = {
    "rate_limit_operations": "1000000/60",
    "rate_limit_auth_ip": "1000000/60",
    "rate_limit_auth_email": "1000000/60",
    "rate_limit_insights": "1000000/60",
}


def make_settings(database_url: str, redis_url: str, **overrides: object) -> ApiSettings:
    values: dict[str, object] = {
        "database_url": database_url,
        "redis_url": redis_url,
        "jwt_secret": "test-secret-that-is-long-enough-for-hs256!",
        # argon2 at its cheapest: the tests exercise the flow, not the cost.
        "password_time_cost": 1,
        "password_memory_cost_kib": 64,
        "db_pool_size": 5,
        "grpc_port": 0,  # a free port: test apps run side by side
        # Rate limits stay on (every operation takes that path) but out of the tests' way;
        # tests/graph/test_limits.py sets tight ones.
        **GENEROUS_RATE_LIMITS,
        # The test process is no long-lived server: its cycles are collected as usual, so
        # objects' finalizers (and their ResourceWarnings) run (tests/graph/test_gc_policy.py).
        "gc_freeze_seconds": 0,
        # Scheduled jobs would run for test users at real Mondays 09:00; the scheduler's
        # tests drive one of their own with a clock of theirs (tests/graph/schedules).
        "scheduler": False,
    }
    values.update(overrides)
    return ApiSettings(**values)  # type: ignore[arg-type]


@asynccontextmanager
async def serve(settings: ApiSettings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app of its own, built from these settings, lifespan running."""
    async with LifespanManager(create_app(settings)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://englog.test") as client:
            yield client


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def access_claims(user_id: str, **overrides: Any) -> dict[str, Any]:
    now = int(datetime.now(UTC).timestamp())
    claims: dict[str, Any] = {
        "sub": user_id,
        "jti": str(uuid.uuid4()),
        "typ": "access",
        "iat": now,
        "exp": now + 900,
    }
    claims.update(overrides)
    return claims


def free_port() -> int:
    """A loopback port free right now (whoever needs it binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    """The one error of a failed response whose data is null, without its source locations."""
    assert body["data"] is None, body
    assert len(body["errors"]) == 1, body["errors"]
    error = dict(body["errors"][0])
    error.pop("locations", None)
    return error
