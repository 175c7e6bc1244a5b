"""Keyset pages, newest first: the order every listing of the API uses."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

T = TypeVar("T")


@dataclass(frozen=True)
class PageCursor:
    """A position in a list ordered by (time, id) descending."""

    start_time: datetime
    id: uuid.UUID


async def keyset_page(
    session: AsyncSession,
    model: type[T],
    *,
    time_column: InstrumentedAttribute[Any] | Any,
    id_column: InstrumentedAttribute[Any] | Any,
    conditions: Sequence[Any],
    first: int,
    after: PageCursor | None,
) -> tuple[list[T], bool]:
    """Up to `first` rows after the cursor, and whether more follow (one query, first + 1 rows)."""
    where = list(conditions)
    if after is not None:
        where.append(sa.tuple_(time_column, id_column) < sa.tuple_(after.start_time, after.id))
    query = (
        sa.select(model)
        .where(*where)
        .order_by(time_column.desc(), id_column.desc())
        .limit(first + 1)
    )
    rows = list((await session.scalars(query)).all())
    return rows[:first], len(rows) > first
