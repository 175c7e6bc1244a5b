"""Helpers that drive the API the way a client does: GraphQL documents over HTTP."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

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
