"""Idempotency keys: claiming one in the transaction that creates, its result, the clean-up."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models.idempotency_key import IdempotencyKey
from db.models.log_entry import LogEntry

# How long a key answers its first result; after it, the key is free again.
KEY_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class EarlierUse:
    """A key's live earlier use: what it was for, and what it created."""

    request_hash: str
    result: list[str] | None


async def claim_key(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    key: str,
    operation: str,
    request_hash: str,
    now: datetime,
) -> EarlierUse | None:
    """Claims the key for this request in the caller's transaction: None when it is this
    request's now (never used, or its use expired), else its earlier use.

    A concurrent first use of the key, not committed yet, holds the primary key: this waits
    for it, then finds its committed result, or claims the key when it rolled back."""
    created_at = col(IdempotencyKey.created_at)
    values = insert(IdempotencyKey).values(
        user_id=user_id, key=key, operation=operation, request_hash=request_hash, created_at=now
    )
    statement = values.on_conflict_do_update(
        index_elements=[col(IdempotencyKey.user_id), col(IdempotencyKey.key)],
        set_={
            "operation": values.excluded.operation,
            "request_hash": values.excluded.request_hash,
            "result": None,
            "created_at": values.excluded.created_at,
        },
        where=created_at <= now - KEY_LIFETIME,
    ).returning(col(IdempotencyKey.key))
    if (await session.execute(statement)).first() is not None:
        return None
    # READ COMMITTED: this statement sees the row the conflict waited for.
    earlier = (
        await session.execute(
            sa.select(col(IdempotencyKey.request_hash), col(IdempotencyKey.result)).where(
                col(IdempotencyKey.user_id) == user_id, col(IdempotencyKey.key) == key
            )
        )
    ).one()
    return EarlierUse(request_hash=earlier.request_hash, result=earlier.result)


async def record_result(
    session: AsyncSession, *, user_id: uuid.UUID, key: str, ids: Sequence[uuid.UUID]
) -> None:
    """Stores what the claimed key's request created, before its transaction commits."""
    await session.execute(
        sa.update(IdempotencyKey)
        .where(col(IdempotencyKey.user_id) == user_id, col(IdempotencyKey.key) == key)
        .values(result=[str(object_id) for object_id in ids])
    )


async def load_entries_in_order(
    session: AsyncSession, *, user_id: uuid.UUID, entry_ids: Sequence[uuid.UUID]
) -> list[LogEntry] | None:
    """The user's entries of these ids in this order; None when any is gone."""
    query = sa.select(LogEntry).where(
        col(LogEntry.id).in_(entry_ids), col(LogEntry.user_id) == user_id
    )
    found = {entry.id: entry for entry in (await session.scalars(query)).all()}
    if len(found) != len(set(entry_ids)):
        return None
    return [found[entry_id] for entry_id in entry_ids]


async def delete_expired_keys(session: AsyncSession, *, now: datetime) -> int:
    """Deletes the keys whose lifetime is over (they answer nothing any more)."""
    statement = sa.delete(IdempotencyKey).where(
        col(IdempotencyKey.created_at) <= now - KEY_LIFETIME
    )
    result: CursorResult[Any] = cast(CursorResult[Any], await session.execute(statement))
    return result.rowcount
