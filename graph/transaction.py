"""The transaction a mutation or a worker's report runs in, and the events it publishes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.queries.event import PENDING_KEY, EventRecord
from graph.live.hub import EventHub


@contextlib.asynccontextmanager
async def transaction(
    db: async_sessionmaker[AsyncSession], hub: EventHub
) -> AsyncIterator[AsyncSession]:
    """One transaction; the events it recorded (db/queries/event.py `record_events`) are
    published once, and only if, it commits: a subscriber told of an event can read it."""
    async with db() as session:
        async with session.begin():
            yield session
        events: list[EventRecord] = session.info.pop(PENDING_KEY, [])
    if events:
        await hub.publish_events(events)
