from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import db.models  # noqa: F401 - registers the tables
from db.engine import asyncpg_dsn, sqlalchemy_url
from db.migrate import downgrade, upgrade
from tests.factories import connect, drop_database, recreate_database

TABLES = {
    "user",
    "refresh_token",
    "project",
    "tag",
    "log_entry",
    "log_entry_tag",
    "insight",
    "task",
    "event",
    "notification",
    "schedule_run",
    "ended_session",
    "idempotency_key",
    "running_timer",
    "running_timer_tag",
    "access_token",
    "calendar_feed",
}


@pytest.fixture
def empty_database(server_url: str) -> Iterator[str]:
    name = "englog_migration_check"
    yield recreate_database(server_url, name)
    drop_database(server_url, name)


async def _tables(url: str) -> set[str]:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        rows = await connection.fetch(
            "SELECT tablename FROM pg_tables "
            "WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        )
        return {row["tablename"] for row in rows}
    finally:
        await connection.close()


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, SQLModel.metadata))


async def _schema_drift(url: str) -> list[object]:
    engine = create_async_engine(sqlalchemy_url(url))
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_diff)
    finally:
        await engine.dispose()


def test_migrations_upgrade_an_empty_database_and_downgrade_cleanly(empty_database: str) -> None:
    upgrade(empty_database)
    assert asyncio.run(_tables(empty_database)) == TABLES
    downgrade(empty_database, "base")
    assert asyncio.run(_tables(empty_database)) == set()
    upgrade(empty_database)
    assert asyncio.run(_tables(empty_database)) == TABLES


def test_migrations_match_the_table_models(empty_database: str) -> None:
    upgrade(empty_database)
    assert asyncio.run(_schema_drift(empty_database)) == []


async def test_database_constraints_hold_without_the_api(database_url: str) -> None:
    async with connect(database_url) as connection:
        user_id = await connection.fetchval(
            'INSERT INTO "user" (email, password_hash, first_name, last_name) '
            "VALUES ('a@b.io', 'x', 'A', 'B') RETURNING id"
        )
        with pytest.raises(asyncpg.UniqueViolationError):
            await connection.execute(
                'INSERT INTO "user" (email, password_hash, first_name, last_name) '
                "VALUES ('A@B.IO', 'x', 'A', 'B')"
            )
        with pytest.raises(asyncpg.CheckViolationError):
            await connection.execute(
                "INSERT INTO log_entry (user_id, title, type, start_time, end_time) "
                "VALUES ($1, 't', 'CODE', now(), now())",
                user_id,
            )
        with pytest.raises(asyncpg.CheckViolationError):
            await connection.execute(
                "INSERT INTO log_entry (user_id, title, type, start_time, end_time) "
                "VALUES ($1, $2, 'CODE', now(), now() + interval '1 hour')",
                user_id,
                "t" * 201,
            )
        with pytest.raises(asyncpg.CheckViolationError):
            await connection.execute(
                "INSERT INTO tag (user_id, name) VALUES ($1, $2)", user_id, "n" * 51
            )
        minutes = await connection.fetchval(
            "INSERT INTO log_entry (user_id, title, type, start_time, end_time) "
            "VALUES ($1, 't', 'CODE', '2026-01-01T09:00Z', '2026-01-01T10:30Z') "
            "RETURNING duration_minutes",
            user_id,
        )
        assert minutes == 90
