from __future__ import annotations

import strawberry

from db.queries import tag as tags
from graph.context import Info
from graph.errors import BadUserInput
from graph.tags.types import Tag
from graph.validation import MAX_PAGE_SIZE


@strawberry.type
class TagQuery:
    @strawberry.field(description="All of the user's tags, by name.")
    async def tags(self, info: Info) -> list[Tag]:
        user_id = info.context.user_id()
        async with info.context.db() as session:
            rows = await tags.list_tags(session, user_id=user_id)
        return [Tag.from_model(row) for row in rows]

    @strawberry.field(description="The user's most used tags (limit 1–100).")
    async def popular_tags(self, info: Info, limit: int = 10) -> list[Tag]:
        user_id = info.context.user_id()
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise BadUserInput({"limit": f"must be between 1 and {MAX_PAGE_SIZE}"})
        async with info.context.db() as session:
            rows = await tags.list_popular_tags(session, user_id=user_id, limit=limit)
        return [Tag.from_model(row) for row in rows]
