from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.queries import event as events
from db.queries import notification as notifications
from graph import validation as check
from graph.context import Info
from graph.live.feeds import follow
from graph.notifications.types import Notification, NotificationEvent


async def notification_events(
    db: async_sessionmaker[AsyncSession], batch: Sequence[events.EventRecord]
) -> list[tuple[int, NotificationEvent]]:
    """The delivered items of a batch of notification events (one query)."""
    async with db() as session:
        rows = await notifications.load_notifications(
            session, ids={event.object_id for event in batch}
        )
    return [
        (
            event.id,
            NotificationEvent(
                cursor=str(event.id), notification=Notification.from_model(rows[event.object_id])
            ),
        )
        for event in batch
        if event.object_id in rows
    ]


@strawberry.type
class NotificationSubscription:
    @strawberry.subscription(
        description="Notifications EngLog sends the user (logging reminders). With `since` "
        "(a cursor), first every one sent after it, then live: no gap, no duplicate."
    )
    async def notifications(
        self, info: Info, since: check.Since = None
    ) -> AsyncGenerator[NotificationEvent, None]:
        after = await check.resume_after(
            info.context.db, user_id=info.context.user_id(), topic=events.NOTIFICATION, since=since
        )
        resume = str(after) if after is not None else None
        async for item in follow(
            info, topic=events.NOTIFICATION, since=resume, load=notification_events
        ):
            yield item
