"""The durable task queue of DESIGN.md section 2, in the `task` table.

Tasks are written in the caller's transaction (so a task exists exactly when the row that
needs it does); NOTIFY wakes waiting streams when that transaction commits.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import Task

CHANNEL = "englog_tasks"
DEFAULT_MAX_ATTEMPTS = 5


async def enqueue(
    session: AsyncSession,
    *,
    kind: str,
    payload: dict[str, Any],
    user_id: uuid.UUID | None = None,
    idempotency_key: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    run_after: datetime | None = None,
) -> uuid.UUID:
    """Adds a task in the caller's transaction; the same idempotency key gives the same task."""
    values: dict[str, Any] = {
        "kind": kind,
        "payload": payload,
        "user_id": user_id,
        "idempotency_key": idempotency_key,
        "max_attempts": max_attempts,
    }
    if run_after is not None:
        values["run_after"] = run_after
    statement = insert(Task).values(**values)
    if idempotency_key is not None:
        statement = statement.on_conflict_do_nothing(
            index_elements=[col(Task.idempotency_key)]
        )
    task_id = (await session.execute(statement.returning(col(Task.id)))).scalar_one_or_none()
    if task_id is None:
        existing = sa.select(col(Task.id)).where(col(Task.idempotency_key) == idempotency_key)
        return (await session.execute(existing)).scalar_one()
    # Delivered at commit, and only if the transaction commits.
    await session.execute(sa.select(sa.func.pg_notify(CHANNEL, kind)))
    return task_id
