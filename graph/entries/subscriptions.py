from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence

import sqlalchemy as sa
import strawberry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from db.models import LogEntry as LogEntryRow
from db.queries import event as events
from graph import validation as check
from graph.context import Info
from graph.entries.types import LogEntry
from graph.live.feeds import follow


@strawberry.type(description="A change to one of the user's log entries.")
class LogEntryEvent:
    cursor: str = strawberry.field(
        description="Pass it as `since` to resume right after this event."
    )
    action: str = strawberry.field(description="CREATED, UPDATED, DELETED or ENRICHED.")
    entry_id: strawberry.ID = strawberry.field(description="The entry's id.")
    entry: LogEntry | None = strawberry.field(
        description="The entry as it is now; null once it is deleted."
    )


async def log_entry_events(
    db: async_sessionmaker[AsyncSession], batch: Sequence[events.EventRecord]
) -> list[tuple[int, LogEntryEvent]]:
    """The delivered items of a batch of entry events (one query); a deleted entry is null."""
    ids = list({event.object_id for event in batch})
    async with db() as session:
        query = sa.select(LogEntryRow).where(col(LogEntryRow.id).in_(ids))
        rows = {row.id: row for row in (await session.scalars(query)).all()}
    return [
        (
            event.id,
            LogEntryEvent(
                cursor=str(event.id),
                action=event.action,
                entry_id=strawberry.ID(str(event.object_id)),
                entry=LogEntry.from_model(rows[event.object_id])
                if event.object_id in rows
                else None,
            ),
        )
        for event in batch
    ]


@strawberry.type
class EntrySubscription:
    @strawberry.subscription(
        description="Created, updated, deleted and enriched entries. With `since` (a cursor), "
        "first everything that changed after it, then live: no gap, no duplicate."
    )
    async def log_entry_events(
        self, info: Info, since: check.Since = None
    ) -> AsyncGenerator[LogEntryEvent, None]:
        after = await check.resume_after(
            info.context.db, user_id=info.context.user_id(), topic=events.LOG_ENTRY, since=since
        )
        resume = str(after) if after is not None else None
        async for item in follow(info, topic=events.LOG_ENTRY, since=resume, load=log_entry_events):
            yield item
