from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Sequence

import sqlalchemy as sa
import strawberry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from db.models import Insight as InsightRow
from db.models.enums import InsightStatus
from db.queries import event as events
from db.queries import insight as insights
from graph import validation as check
from graph.context import Info
from graph.errors import NotFound
from graph.insights.types import Insight
from graph.live.feeds import follow
from graph.live.hub import progress_channel

FINAL = {InsightStatus.COMPLETED.value, InsightStatus.FAILED.value}
STATUSES = {status.value for status in InsightStatus}


@strawberry.type(description="A status change of one of the user's insights.")
class InsightEvent:
    cursor: str = strawberry.field(
        description="Pass it as `since` to resume right after this event."
    )
    insight: Insight = strawberry.field(description="The insight, with `status` as of this event.")
    action: str = strawberry.field(
        description="What happened: the status it reached (PENDING, RUNNING, COMPLETED, "
        "FAILED), EDITED (updateInsight) or DELETED (deleteInsight: the insight as it was, "
        "its text emptied; queries no longer return it)."
    )


@strawberry.type(description="Text the model wrote since the last message, while it writes.")
class InsightProgress:
    insight_id: strawberry.ID = strawberry.field(description="The insight being written.")
    status: InsightStatus = strawberry.field(description="RUNNING while text comes; then final.")
    delta: str | None = strawberry.field(
        description="New text (the first message carries all the text so far); null on status "
        "messages."
    )
    percent: int = strawberry.field(description="Estimated progress, 0–100.")


async def insight_events(
    db: async_sessionmaker[AsyncSession], batch: Sequence[events.EventRecord]
) -> list[tuple[int, InsightEvent]]:
    """The delivered items of a batch of insight events (one query); gone insights skipped."""
    ids = list({event.object_id for event in batch})
    async with db() as session:
        query = sa.select(InsightRow).where(col(InsightRow.id).in_(ids))
        rows = {row.id: row for row in (await session.scalars(query)).all()}
    delivered = []
    for event in batch:
        row = rows.get(event.object_id)
        if row is None:
            continue
        insight = Insight.from_model(row)
        if event.action in STATUSES:  # as of this event; an edit or deletion keeps it
            insight.status = InsightStatus(event.action)
        delivered.append(
            (event.id, InsightEvent(cursor=str(event.id), insight=insight, action=event.action))
        )
    return delivered


@strawberry.type
class InsightSubscription:
    @strawberry.subscription(
        description="Every status change of the user's insights. With `since` (a cursor), "
        "first everything that changed after it, then live: no gap, no duplicate."
    )
    async def insight_events(
        self, info: Info, since: check.Since = None
    ) -> AsyncGenerator[InsightEvent, None]:
        after = await check.resume_after(
            info.context.db, user_id=info.context.user_id(), topic=events.INSIGHT, since=since
        )
        resume = str(after) if after is not None else None
        async for item in follow(info, topic=events.INSIGHT, since=resume, load=insight_events):
            yield item

    @strawberry.subscription(
        description="The model's text as it writes one insight: first the text so far, then "
        "each delta; completes when the insight is COMPLETED or FAILED."
    )
    async def insight_progress(
        self, info: Info, id: strawberry.ID
    ) -> AsyncGenerator[InsightProgress, None]:
        user_id = info.context.user_id()
        insight_id = check.target_id(id, "Insight")
        state = info.context.state
        hub = state.hub
        async with state.db() as session:
            if await insights.get_insight(session, user_id=user_id, insight_id=insight_id) is None:
                raise NotFound("Insight")
        async with hub.subscribe(progress_channel(insight_id)) as live:
            # Subscribed first: the end (or a delta) after the checks below is not missed.
            status = await _status(info, insight_id)
            if status in FINAL:
                yield InsightProgress(
                    insight_id=id, status=InsightStatus(status), delta=None, percent=100
                )
                return
            text, percent = await hub.progress_so_far(insight_id)
            known = len(text.encode())
            if text:
                yield _running(id, text, percent)
            while True:
                message = await live.get()
                kind = message.get("type")
                if kind == "progress":
                    delta = str(message.get("delta", ""))
                    offset = int(str(message.get("offset", 0)))
                    if offset >= known:
                        known = offset + len(delta.encode())
                        yield _running(id, delta, int(str(message.get("percent", 0))))
                elif kind == "restart":
                    known = 0
                    yield InsightProgress(
                        insight_id=id, status=InsightStatus.PENDING, delta=None, percent=0
                    )
                elif kind in ("end", "resync"):
                    status = await _status(info, insight_id)
                    if status in FINAL:
                        yield InsightProgress(
                            insight_id=id, status=InsightStatus(status), delta=None, percent=100
                        )
                        return
                    text, percent = await hub.progress_so_far(insight_id)
                    if len(text.encode()) < known:
                        # Redis lost the text so far (restarted empty): the worker's next
                        # deltas start again from offset 0. Follow them from there; the
                        # whole text is the insight's content once it completes.
                        known = len(text.encode())
                    missing = text.encode()[known:].decode(errors="ignore")
                    if missing:
                        known = len(text.encode())
                        yield _running(id, missing, percent)


def _running(insight_id: strawberry.ID, delta: str, percent: int) -> InsightProgress:
    return InsightProgress(
        insight_id=insight_id, status=InsightStatus.RUNNING, delta=delta, percent=percent
    )


async def _status(info: Info, insight_id: uuid.UUID) -> str:
    async with info.context.db() as session:
        row = await insights.load_insight(session, insight_id=insight_id)
    return row.status if row is not None else InsightStatus.FAILED.value
