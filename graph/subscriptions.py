"""Resumable event streams: replay from PostgreSQL after the cursor, then follow Redis.

Redis messages only say "something happened"; what is delivered is always read from the
event log in id order, so the seam between replay and live has no gap and no duplicate,
out-of-order publishes cannot reorder a user's events, and a Redis outage costs nothing
but a re-read (RESYNC) when it comes back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TypeVar

from db.queries import event as events
from graph.context import Info
from graph.errors import BadUserInput
from graph.events import Subscriber, user_channel

T = TypeVar("T")

# Builds the delivered items of a batch of events (one query for the batch, not per event).
Loader = Callable[[Sequence[events.EventRecord]], Awaitable[list[T]]]


def parse_since(since: str | None) -> int | None:
    if since is None:
        return None
    if not since.isdigit() or len(since) > 19:
        raise BadUserInput({"since": "is not a cursor this API gave out"})
    return int(since)


async def follow(info: Info, *, topic: str, since: str | None, load: Loader[T]) -> AsyncIterator[T]:
    """The user's `topic` events after `since` (or from now on), then live, forever."""
    user_id = info.context.user_id()
    after = parse_since(since)
    state = info.context.state
    async with state.hub.subscribe(user_channel(user_id)) as live:
        # Subscribed first, read second: whatever commits from here on is seen either in
        # the read below or by a wake-up after it.
        if after is None:
            async with state.db() as session:
                after = await events.latest_event_id(session, user_id=user_id, topic=topic)
        last = after
        while True:
            async with state.db() as session:
                batch = await events.events_after(session, user_id=user_id, topic=topic, after=last)
            if batch:
                for item in await load(batch):
                    yield item
                last = batch[-1].id
                if len(batch) == events.MAX_REPLAY:
                    continue  # more to replay before waiting
            await _next_wake(live, topic)


async def _next_wake(live: Subscriber, topic: str) -> None:
    """Waits for a message that may mean new events of `topic` (or a resync)."""
    while True:
        message = await live.get()
        kind = message.get("type")
        if kind == "resync" or (kind == "event" and message.get("topic") == topic):
            return
