from __future__ import annotations

from functools import partial

import strawberry

from db.models.enums import InsightKind, InsightStatus
from db.queries import insight as insights
from graph import validation as check
from graph.context import Info
from graph.errors import FieldErrors
from graph.insights.types import Insight, InsightConnection, InsightEdge
from graph.pagination import connection, decode_cursor


@strawberry.type
class InsightQuery:
    @strawberry.field(
        description="One of the user's insights; null when there is none with this id."
    )
    async def insight(self, info: Info, id: strawberry.ID) -> Insight | None:
        user_id = info.context.user_id()
        insight_id = check.parse_uuid(id)
        if insight_id is None:
            return None
        async with info.context.db() as session:
            row = await insights.get_insight(session, user_id=user_id, insight_id=insight_id)
        return Insight.from_model(row) if row else None

    @strawberry.field(
        description="The user's insights, newest first, in pages of 1–100 (Relay cursors); "
        "optionally only of one kind or status."
    )
    async def insights(
        self,
        info: Info,
        kind: InsightKind | None = None,
        status: InsightStatus | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> InsightConnection:
        user_id = info.context.user_id()
        errors = FieldErrors()
        check.page_size(errors, "first", first)
        errors.raise_if_any()
        cursor = decode_cursor(after) if after is not None else None
        db = info.context.db
        async with db() as session:
            page = await insights.list_insights(
                session,
                user_id=user_id,
                kind=kind.value if kind is not None else None,
                status=status.value if status is not None else None,
                first=first,
                after=cursor,
            )
        return connection(
            InsightConnection,
            InsightEdge,
            page.insights,
            node=Insight.from_model,
            sort_time=lambda row: row.created_at,
            has_next_page=page.has_next_page,
            after=after,
            db=db,
            count=partial(insights.count_insights, conditions=page.conditions),
        )
