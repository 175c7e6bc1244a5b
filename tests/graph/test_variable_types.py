"""A variable of the wrong JSON type for a mutation's input (null, a scalar, a list, an unknown
field) is refused as BAD_USER_INPUT and writes nothing (found by the property tests)."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from tests.properties.harness import Database, changes


@pytest.fixture
def db(pg: asyncpg.Connection) -> Database:
    return Database(pg)


@pytest.mark.parametrize(
    "variables",
    [None, True, 5, 1.5, "x", [], {"unknownField": 1}],
    ids=["null", "boolean", "int", "float", "string", "list", "unknown-field"],
)
@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("mutation($v: SignUpInput!) { signUp(input: $v) { accessToken } }", "v"),
        ("mutation($v: CreateProjectInput!) { createProject(input: $v) { id } }", "v"),
        ('mutation($v: UpdateProjectInput!) { updateProject(id: "x", input: $v) { id } }', "v"),
        ("mutation($v: CreateTagInput!) { createTag(input: $v) { id } }", "v"),
        ('mutation($v: UpdateTagInput!) { updateTag(id: "x", input: $v) { id } }', "v"),
        ("mutation($v: CreateLogEntryInput!) { createLogEntry(input: $v) { id } }", "v"),
        ("mutation($v: [CreateLogEntryInput!]!) { createLogEntries(inputs: $v) { id } }", "v"),
        ('mutation($v: UpdateLogEntryInput!) { updateLogEntry(id: "x", input: $v) { id } }', "v"),
        ("mutation($v: RequestInsightInput!) { requestInsight(input: $v) { id } }", "v"),
    ],
)
async def test_an_input_of_the_wrong_json_type_is_refused_as_bad_user_input(
    client: httpx.AsyncClient, db: Database, query: str, name: str, variables: Any
) -> None:
    before = await db.snapshot()
    response = await client.post("/graphql", json={"query": query, "variables": {name: variables}})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert {error["extensions"]["code"] for error in body["errors"]} == {"BAD_USER_INPUT"}
    assert changes(before, await db.snapshot()) == {}
