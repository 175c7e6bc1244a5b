"""Everything stored about one user, as one JSON document (the GDPR export), written as it is
read: rows come in batches from server-side cursors and leave as JSON bytes, so an export
holds one batch in memory whatever the size of the account.

Call inside one REPEATABLE READ transaction: every section is then read from one snapshot.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pydantic_core import to_json
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from db.models import (
    Event,
    Insight,
    LogEntry,
    LogEntryTag,
    Notification,
    Project,
    RefreshToken,
    ScheduleRun,
    Tag,
    Task,
    User,
)

FORMAT = "englog-export/1"
# Rows a server-side cursor hands over at once, and that one chunk of the document holds.
BATCH_ROWS = 500
# Columns that are not the user's data, by table. The password hash is the means to check
# it; the search vector an index of the entry's own title and description; the task's
# payload (copies of the rows above, and what the API keeps for itself), lease and
# idempotency key are the queue's machinery.
LEFT_OUT = {
    "user": {"password_hash"},
    "log_entry": {"search_vector"},
    "task": {"payload", "lease_token", "lease_owner", "lease_expires_at", "idempotency_key"},
}


@dataclass(frozen=True)
class Section:
    """One part of the document: its key, the model of its rows, their order, and the
    column that names their user."""

    key: str
    model: type[SQLModel]
    order: tuple[str, ...]
    owner: str = "user_id"

    def columns(self) -> list[sa.Column[Any]]:
        table: sa.Table = self.model.__table__  # type: ignore[attr-defined]
        left_out = LEFT_OUT.get(table.name, set())
        return [column for column in table.columns if column.name not in left_out]

    def query(self, user_id: uuid.UUID) -> sa.Select[Any]:
        table: sa.Table = self.model.__table__  # type: ignore[attr-defined]
        where: sa.ColumnElement[bool]
        if self.model is LogEntryTag:  # owned through its entry
            owned = sa.select(col(LogEntry.id)).where(col(LogEntry.user_id) == user_id)
            where = table.c.entry_id.in_(owned.scalar_subquery())
        else:
            where = table.c[self.owner] == user_id
        return sa.select(*self.columns()).where(where).order_by(*(table.c[c] for c in self.order))


SECTIONS = (
    Section("projects", Project, ("created_at", "id")),
    Section("tags", Tag, ("created_at", "id")),
    Section("log_entries", LogEntry, ("start_time", "id")),
    Section("log_entry_tags", LogEntryTag, ("entry_id", "tag_id")),
    Section("insights", Insight, ("created_at", "id")),
    Section("tasks", Task, ("created_at", "id")),
    Section("events", Event, ("id",)),
    Section("sessions", RefreshToken, ("created_at", "jti")),
    Section("notifications", Notification, ("created_at", "id")),
    Section("schedule_runs", ScheduleRun, ("period", "job")),
)
USER = Section("user", User, ("id",), owner="id")


async def count_user_rows(session: AsyncSession, *, user_id: uuid.UUID, up_to: int) -> int:
    """How many rows the export of the account holds (its user row aside), counted no
    further than `up_to` a table: bounded work, enough to tell whether it is over `up_to`."""
    counts = [
        sa.select(sa.func.count())
        .select_from(section.query(user_id).order_by(None).limit(up_to + 1).subquery())
        .scalar_subquery()
        for section in SECTIONS
    ]
    total: sa.ColumnElement[int] = counts[0]
    for count in counts[1:]:
        total = total + count
    return int((await session.execute(sa.select(total))).scalar_one())


async def export_user_data(
    session: AsyncSession, *, user_id: uuid.UUID, batch_rows: int = BATCH_ROWS
) -> AsyncGenerator[bytes, None] | None:
    """The document's chunks (the account read now; the rest as they are iterated), or None
    when the account does not exist."""
    user = (await session.execute(USER.query(user_id))).mappings().one_or_none()
    if user is None:
        return None
    return _document(session, dict(user), user_id, batch_rows)


async def _document(
    session: AsyncSession, user: dict[str, Any], user_id: uuid.UUID, batch_rows: int
) -> AsyncGenerator[bytes, None]:
    exported_at = datetime.now(UTC).isoformat()
    yield b'{"format":%b,"exported_at":%b,"user":%b' % (
        to_json(FORMAT),
        to_json(exported_at),
        to_json(user),
    )
    for section in SECTIONS:
        yield b',"%b":[' % section.key.encode()
        query = section.query(user_id).execution_options(yield_per=batch_rows)
        result = await session.stream(query)
        try:
            separator = b""
            async for rows in result.mappings().partitions():
                yield separator + _array_items(rows)
                separator = b","
        finally:
            await result.close()
        yield b"]"
    yield b"}"


def _array_items(rows: Iterable[Any]) -> bytes:
    return b",".join(to_json(dict(row)) for row in rows)
