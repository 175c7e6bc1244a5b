"""Creating entries also queues their enrichment (one `enrich_entry` task an entry, in the
same transaction), and the stored suggestions show on the entry."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import fields
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import create_engine, create_session_factory
from db.queries import log_entry as entries
from graph.entries.task import enqueue_enrichment
from tests.factories import Account, Api, entry_input
from tests.graph.entries.support import CREATE_ENTRIES, CREATE_ENTRY, Database
from worker.jobs import EnrichEntryJob

SUGGESTED = """
query Get($id: ID!) { logEntry(id: $id) { id suggestedTags suggestedSkills updatedAt } }
"""


async def enrich_tasks(db: Database, account: Account) -> list[dict[str, Any]]:
    rows = await db.connection.fetch(
        "SELECT * FROM task WHERE user_id = $1 AND kind = 'enrich_entry' ORDER BY idempotency_key",
        uuid.UUID(account.user_id),
    )
    tasks = []
    for row in rows:
        task = dict(row)
        task["payload"] = json.loads(task["payload"])
        tasks.append(task)
    return tasks


async def task_count(db: Database) -> int:
    count: int = await db.connection.fetchval("SELECT count(*) FROM task")
    return count


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url, pool_size=2)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


async def test_create_log_entry_queues_its_enrichment(
    api: Api, account: Account, db: Database
) -> None:
    await api.create_entry(account, tags=["old"])
    data = await api.data(
        CREATE_ENTRY,
        {
            "input": entry_input(
                1,
                title="Paired on the billing bug",
                type="MENTORING",
                description="With Sam, on retries",
                tags=["billing", "Old"],
            )
        },
        account.access_token,
    )
    entry = data["createLogEntry"]
    task = next(
        t for t in await enrich_tasks(db, account) if t["payload"]["entry_id"] == entry["id"]
    )
    assert {
        key: task[key] for key in ("kind", "status", "attempts", "user_id", "idempotency_key")
    } == {
        "kind": "enrich_entry",
        "status": "queued",
        "attempts": 0,
        "user_id": uuid.UUID(account.user_id),
        "idempotency_key": f"enrich_entry:{entry['id']}",
    }
    # The user's tags by usage (the entry's own included): "old" is on two entries now.
    assert task["payload"] == {
        "entry_id": entry["id"],
        "title": "Paired on the billing bug",
        "type": "MENTORING",
        "description": "With Sam, on retries",
        "existing_tags": ["old", "billing"],
    }
    assert set(task["payload"]) == {field.name for field in fields(EnrichEntryJob)}
    assert EnrichEntryJob(**task["payload"]).title == "Paired on the billing bug"


async def test_existing_tags_are_the_100_most_used(
    api: Api, account: Account, db: Database
) -> None:
    names = [f"tag-{index:03d}" for index in range(120)]
    inputs = [entry_input(index, tags=names[index * 20 : index * 20 + 20]) for index in range(6)]
    inputs.append(entry_input(7, tags=["tag-119", "tag-118"]))
    await api.data(CREATE_ENTRIES, {"inputs": inputs}, account.access_token)
    [task, *_] = await enrich_tasks(db, account)
    assert task["payload"]["existing_tags"] == ["tag-118", "tag-119", *names[:98]]


async def test_create_log_entries_queues_one_task_an_entry(
    api: Api, account: Account, db: Database
) -> None:
    inputs = [entry_input(index, title=f"Entry {index}") for index in range(3)]
    data = await api.data(CREATE_ENTRIES, {"inputs": inputs}, account.access_token)
    created = {entry["id"]: entry["title"] for entry in data["createLogEntries"]}
    tasks = await enrich_tasks(db, account)
    assert len(tasks) == 3
    assert {task["payload"]["entry_id"]: task["payload"]["title"] for task in tasks} == created
    assert {task["payload"]["type"] for task in tasks} == {"DEBUG"}
    assert await task_count(db) == 3


async def test_a_refused_bulk_create_queues_nothing(
    api: Api, account: Account, db: Database
) -> None:
    inputs = [entry_input(index) for index in range(3)]
    inputs[2]["projectId"] = "00000000-0000-4000-8000-000000000000"
    error = await api.error(CREATE_ENTRIES, {"inputs": inputs}, account.access_token)
    assert error["extensions"]["code"] == "NOT_FOUND"
    inputs = [entry_input(index) for index in range(3)]
    inputs[1]["title"] = ""
    error = await api.error(CREATE_ENTRIES, {"inputs": inputs}, account.access_token)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert (await db.entry_count(account), await task_count(db)) == (0, 0)


async def test_the_tasks_are_written_in_the_callers_transaction(
    account: Account, db: Database, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user_id = uuid.UUID(account.user_id)
    async with sessions() as session:
        transaction = await session.begin()
        rows = await entries.create_entries(
            session, user_id=user_id, items=[entry_data(0), entry_data(1)]
        )
        await enqueue_enrichment(session, user_id=user_id, entries=rows)
        count = await session.scalar(sa.text("SELECT count(DISTINCT id) FROM task"))
        assert count == 2
        # Rolled back with the entries: neither exists without the other.
        await transaction.rollback()
    assert (await db.entry_count(account), await task_count(db)) == (0, 0)
    async with sessions() as session, session.begin():
        await enqueue_enrichment(session, user_id=user_id, entries=[])
        count = await session.scalar(sa.text("SELECT count(*) FROM task"))
    assert count == 0


def entry_data(hours: int) -> entries.EntryData:
    values = entry_input(hours)
    return entries.EntryData(
        title=values["title"],
        type=values["type"],
        start_time=datetime.fromisoformat(values["startTime"]),
        end_time=datetime.fromisoformat(values["endTime"]),
    )


async def test_suggestions_are_empty_until_stored_then_shown(
    api: Api, account: Account, db: Database, sessions: async_sessionmaker[AsyncSession]
) -> None:
    entry = await api.create_entry(account)
    before = (await api.data(SUGGESTED, {"id": entry["id"]}, account.access_token))["logEntry"]
    assert (before["suggestedTags"], before["suggestedSkills"]) == ([], [])

    async with sessions() as session, session.begin():
        stored = await entries.store_suggestions(
            session,
            entry_id=uuid.UUID(entry["id"]),
            tags=["ci", "flaky-tests"],
            skills=["Debugging", "GitHub Actions"],
            model="llama3.2",
        )
    assert stored is True
    after = (await api.data(SUGGESTED, {"id": entry["id"]}, account.access_token))["logEntry"]
    assert after == {
        "id": entry["id"],
        "suggestedTags": ["ci", "flaky-tests"],
        "suggestedSkills": ["Debugging", "GitHub Actions"],
        # The user changed nothing.
        "updatedAt": before["updatedAt"],
    }
    row = await db.entry_row(entry["id"])
    assert row is not None
    assert json.loads(row["suggestions"]) == {
        "tags": ["ci", "flaky-tests"],
        "skills": ["Debugging", "GitHub Actions"],
        "model": "llama3.2",
    }


async def test_store_suggestions_for_a_deleted_entry_is_false(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        stored = await entries.store_suggestions(
            session, entry_id=uuid.uuid4(), tags=["x"], skills=[], model="m"
        )
    assert stored is False
