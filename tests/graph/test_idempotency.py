"""Idempotency keys: a retry of a mutation that creates answers the first result and writes
nothing again; the same key with another request is a CONFLICT; keys are per user, bounded,
and live 24 hours."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from graph.context import AppState
from tests.factories import Account, Api, connect, entry_input
from tests.graph.schedules.support import make_scheduler
from tests.live import eventually

CREATE_ENTRIES = """
mutation Bulk($inputs: [CreateLogEntryInput!]!, $key: String) {
  createLogEntries(inputs: $inputs, idempotencyKey: $key) { id title tags { name } }
}
"""
CREATE_ENTRY = """
mutation One($input: CreateLogEntryInput!, $key: String) {
  createLogEntry(input: $input, idempotencyKey: $key) { id title }
}
"""
CREATE_PROJECT = """
mutation Project($input: CreateProjectInput!, $key: String) {
  createProject(input: $input, idempotencyKey: $key) { id name }
}
"""
CREATE_TAG = """
mutation Tag($input: CreateTagInput!, $key: String) {
  createTag(input: $input, idempotencyKey: $key) { id name }
}
"""
REQUEST_INSIGHT = """
mutation Insight($input: RequestInsightInput!, $key: String) {
  requestInsight(input: $input, idempotencyKey: $key) { id kind status }
}
"""
INSIGHT_INPUT = {"kind": "DAILY_SUMMARY", "periodStart": "2026-11-02", "periodEnd": "2026-11-02"}
KEY = "9f1c2e4a-bulk-import-2026-11-02"


@pytest.fixture
def db(pg: asyncpg.Connection) -> asyncpg.Connection:
    return pg


def bulk(count: int = 3) -> list[dict[str, Any]]:
    return [entry_input(offset_hours=i, title=f"Entry {i}", tags=["ops"]) for i in range(count)]


async def create_entries(
    api: Api, account: Account, inputs: list[dict[str, Any]], key: str | None = KEY
) -> dict[str, Any]:
    return await api.post(CREATE_ENTRIES, {"inputs": inputs, "key": key}, account.access_token)


async def entry_titles(db: asyncpg.Connection, account: Account) -> list[str]:
    rows = await db.fetch(
        "SELECT title FROM log_entry WHERE user_id = $1 ORDER BY title",
        uuid.UUID(account.user_id),
    )
    return [row["title"] for row in rows]


async def test_a_retried_bulk_create_answers_the_same_entries_and_writes_them_once(
    api: Api, db: asyncpg.Connection
) -> None:
    account = await api.sign_up()
    first = await create_entries(api, account, bulk())
    again = await create_entries(api, account, bulk())

    assert "errors" not in first
    assert again == first
    assert [entry["title"] for entry in first["data"]["createLogEntries"]] == [
        "Entry 0",
        "Entry 1",
        "Entry 2",
    ]
    assert await entry_titles(db, account) == ["Entry 0", "Entry 1", "Entry 2"]
    # One enrichment task an entry, and one CREATED event each: the retry queued nothing.
    assert await db.fetchval("SELECT count(*) FROM task WHERE kind = 'enrich_entry'") == 3
    assert await db.fetchval("SELECT count(*) FROM event WHERE action = 'CREATED'") == 3
    row = await db.fetchrow(
        "SELECT operation, result FROM idempotency_key WHERE user_id = $1 AND key = $2",
        uuid.UUID(account.user_id),
        KEY,
    )
    assert row is not None
    assert row["operation"] == "createLogEntries"
    assert row["result"] == (
        '["' + '", "'.join(entry["id"] for entry in first["data"]["createLogEntries"]) + '"]'
    )


async def test_without_a_key_a_retry_creates_again(api: Api, db: asyncpg.Connection) -> None:
    account = await api.sign_up()
    first = await create_entries(api, account, bulk(1), key=None)
    second = await create_entries(api, account, bulk(1), key=None)
    assert first["data"]["createLogEntries"] != second["data"]["createLogEntries"]
    assert await entry_titles(db, account) == ["Entry 0", "Entry 0"]
    assert await db.fetchval("SELECT count(*) FROM idempotency_key") == 0


async def waiting_on_locks(database_url: str) -> int:
    """The test database's backends waiting for a lock (asked on a connection of its own)."""
    async with connect(database_url) as connection:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return count


async def test_two_concurrent_identical_requests_create_one_copy(
    api: Api, db: asyncpg.Connection, database_url: str
) -> None:
    account = await api.sign_up()
    # Holding log_entry keeps the first request inside its transaction, its key claimed,
    # until the second is waiting on that key too: then both are let go.
    holder = db.transaction()
    await holder.start()
    try:
        await db.execute("LOCK TABLE log_entry IN ACCESS EXCLUSIVE MODE")
        requests = [asyncio.create_task(create_entries(api, account, bulk())) for _ in range(2)]
        await eventually(lambda: waiting_on_locks(database_url), 2)
    finally:
        await holder.rollback()
    first, second = await asyncio.gather(*requests)

    assert "errors" not in first
    assert second == first
    assert await entry_titles(db, account) == ["Entry 0", "Entry 1", "Entry 2"]


async def test_the_same_key_with_another_input_is_a_conflict(
    api: Api, db: asyncpg.Connection
) -> None:
    account = await api.sign_up()
    await create_entries(api, account, bulk(2))
    changed = await create_entries(api, account, bulk(3))
    other_operation = await api.post(
        CREATE_ENTRY, {"input": entry_input(title="Entry 0"), "key": KEY}, account.access_token
    )

    expected = {
        "message": "This idempotency key was used with another request",
        "path": ["createLogEntries"],
        "locations": [{"line": 3, "column": 3}],
        "extensions": {
            "code": "CONFLICT",
            "fields": {"idempotencyKey": "was used with another request"},
        },
    }
    assert (changed["data"], changed["errors"]) == (None, [expected])
    assert other_operation["errors"][0]["extensions"] == expected["extensions"]
    assert await entry_titles(db, account) == ["Entry 0", "Entry 1"]


async def test_keys_are_per_user(api: Api, db: asyncpg.Connection) -> None:
    ada, bob = await api.sign_up(), await api.sign_up()
    adas = await create_entries(api, ada, bulk(1))
    bobs = await create_entries(api, bob, bulk(2))  # another input: no conflict across users

    assert "errors" not in bobs
    assert {e["id"] for e in adas["data"]["createLogEntries"]}.isdisjoint(
        e["id"] for e in bobs["data"]["createLogEntries"]
    )
    assert (await entry_titles(db, ada), await entry_titles(db, bob)) == (
        ["Entry 0"],
        ["Entry 0", "Entry 1"],
    )


@pytest.mark.parametrize(
    "key",
    ["", "k" * 101, "tab\there", "naïve-key", "line\nbreak", "\x7f"],
    ids=["empty", "101-chars", "tab", "non-ascii", "newline", "delete"],
)
async def test_a_key_must_be_1_to_100_printable_ascii_characters(
    api: Api, db: asyncpg.Connection, key: str
) -> None:
    account = await api.sign_up()
    body = await create_entries(api, account, bulk(1), key=key)
    assert body["data"] is None
    assert [error["extensions"] for error in body["errors"]] == [
        {
            "code": "BAD_USER_INPUT",
            "fields": {"idempotencyKey": "must be 1 to 100 printable ASCII characters"},
        }
    ]
    assert await entry_titles(db, account) == []


async def test_the_longest_and_shortest_keys_are_accepted(api: Api) -> None:
    account = await api.sign_up()
    for key in ("k" * 100, "~", " !#$%&'()*+,-./:;<=>?@[\\]^_`{|}"):
        body = await create_entries(api, account, bulk(1), key=key)
        assert "errors" not in body, body


@pytest.mark.parametrize(("age_hours", "replayed"), [(23, True), (25, False)])
async def test_a_key_answers_its_first_result_for_24_hours(
    api: Api, db: asyncpg.Connection, age_hours: int, replayed: bool
) -> None:
    account = await api.sign_up()
    first = await create_entries(api, account, bulk(1))
    await db.execute(
        "UPDATE idempotency_key SET created_at = now() - make_interval(hours => $1)", age_hours
    )
    again = await create_entries(api, account, bulk(1))

    assert (again == first) is replayed
    assert await entry_titles(db, account) == ["Entry 0"] * (1 if replayed else 2)
    # An expired key is this request's now, and answers it from then on.
    assert await create_entries(api, account, bulk(1)) == again


async def test_a_replay_answers_the_project_tag_and_insight_created_first(
    api: Api, db: asyncpg.Connection
) -> None:
    account = await api.sign_up()
    calls = [
        (CREATE_PROJECT, {"input": {"name": "Apollo"}}, "createProject"),
        (CREATE_TAG, {"input": {"name": "ops"}}, "createTag"),
        (REQUEST_INSIGHT, {"input": INSIGHT_INPUT}, "requestInsight"),
    ]
    for index, (mutation, variables, field) in enumerate(calls):
        key = f"key-{index}"
        first = await api.data(mutation, {**variables, "key": key}, account.access_token)
        again = await api.data(mutation, {**variables, "key": key}, account.access_token)
        assert again == first, field
    counts = await db.fetchrow(
        "SELECT (SELECT count(*) FROM project) AS projects, (SELECT count(*) FROM tag) AS tags,"
        " (SELECT count(*) FROM insight) AS insights,"
        " (SELECT count(*) FROM task WHERE kind = 'generate_insight') AS tasks"
    )
    assert dict(counts) == {"projects": 1, "tags": 1, "insights": 1, "tasks": 1}


async def test_a_replay_of_something_deleted_since_is_not_found(api: Api) -> None:
    account = await api.sign_up()
    variables = {"input": {"name": "Apollo"}, "key": "project-key"}
    project = (await api.data(CREATE_PROJECT, variables, account.access_token))["createProject"]
    await api.data(
        "mutation($id: ID!) { deleteProject(id: $id) }", {"id": project["id"]}, account.access_token
    )
    error = await api.error(CREATE_PROJECT, variables, account.access_token)
    assert error["extensions"] == {
        "code": "NOT_FOUND",
        "fields": {"idempotencyKey": "what this key created has been deleted"},
    }


async def test_a_failed_request_leaves_its_key_free(api: Api, db: asyncpg.Connection) -> None:
    account = await api.sign_up()
    missing = {"inputs": [entry_input(projectId=str(uuid.uuid4()))], "key": KEY}
    error = await api.error(CREATE_ENTRIES, missing, account.access_token)
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert await db.fetchval("SELECT count(*) FROM idempotency_key") == 0
    # The key is free: the corrected request (another input) is not a conflict.
    assert "errors" not in await create_entries(api, account, bulk(1))


async def test_the_hourly_clean_up_deletes_keys_older_than_a_day(
    api: Api, db: asyncpg.Connection, app_state: AppState, database_url: str
) -> None:
    account = await api.sign_up()
    for key in ("old", "young"):
        await create_entries(api, account, bulk(1), key=key)
    now = datetime.now(UTC)
    await db.execute(
        "UPDATE idempotency_key SET created_at = $1 WHERE key = 'old'", now - timedelta(hours=25)
    )
    await db.execute(
        "UPDATE idempotency_key SET created_at = $1 WHERE key = 'young'", now - timedelta(hours=23)
    )
    scheduler = make_scheduler(app_state, database_url)
    try:
        await scheduler.clean_up(now)
    finally:
        await scheduler.close()
    assert [row["key"] for row in await db.fetch("SELECT key FROM idempotency_key")] == ["young"]


async def test_deleting_the_account_deletes_its_keys(api: Api, db: asyncpg.Connection) -> None:
    account = await api.sign_up()
    await create_entries(api, account, bulk(1))
    await db.execute('DELETE FROM "user" WHERE id = $1', uuid.UUID(account.user_id))
    assert await db.fetchval("SELECT count(*) FROM idempotency_key") == 0
