from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.queries import event as events
from db.queries import timer as timers
from graph import validation as check
from graph.context import Info
from graph.live.feeds import follow
from graph.timer.types import RunningTimer, TimerAction, TimerEvent


async def timer_events(
    db: async_sessionmaker[AsyncSession], batch: Sequence[events.EventRecord]
) -> list[tuple[int, TimerEvent]]:
    """The delivered items of a batch of timer events (two queries); a timer that no longer
    runs is null."""
    ids = {event.object_id for event in batch}
    async with db() as session:
        rows = await timers.load_timers(session, timer_ids=ids)
        tags = await timers.load_timer_tags(session, timer_ids=set(rows))
    return [
        (
            event.id,
            TimerEvent(
                cursor=str(event.id),
                action=TimerAction(event.action),
                timer_id=strawberry.ID(str(event.object_id)),
                timer=RunningTimer.from_model(rows[event.object_id], tags[event.object_id])
                if event.object_id in rows and rows[event.object_id].user_id == event.user_id
                else None,
            ),
        )
        for event in batch
    ]


@strawberry.type
class TimerSubscription:
    @strawberry.subscription(
        description="The user's timer started, updated, stopped or discarded, in every tab and "
        "device. With `since` (a cursor), first everything after it, then live."
    )
    async def timer_events(
        self, info: Info, since: check.Since = None
    ) -> AsyncGenerator[TimerEvent, None]:
        after = await check.resume_after(
            info.context.db, user_id=info.context.user_id(), topic=timers.TIMER, since=since
        )
        resume = str(after) if after is not None else None
        async for item in follow(info, topic=timers.TIMER, since=resume, load=timer_events):
            yield item
