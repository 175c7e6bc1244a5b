from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import RunningTimer as RunningTimerRow
from db.queries import timer as timers
from graph.context import Info
from graph.timer.types import RunningTimer


async def load_running_timer(session: AsyncSession, row: RunningTimerRow) -> RunningTimer:
    """The GraphQL timer of a row, with its tags."""
    tags = await timers.load_timer_tags(session, timer_ids=[row.id])
    return RunningTimer.from_model(row, tags[row.id])


@strawberry.type
class TimerQuery:
    @strawberry.field(description="The user's running timer; null when none runs.")
    async def running_timer(self, info: Info) -> RunningTimer | None:
        user_id = info.context.user_id()
        async with info.context.db() as session:
            row = await timers.get_timer(session, user_id=user_id)
            if row is None:
                return None
            return await load_running_timer(session, row)
