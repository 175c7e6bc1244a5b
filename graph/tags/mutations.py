from __future__ import annotations

from typing import Any

import strawberry

from db.queries import tag as tags
from graph import idempotency
from graph import validation as check
from graph.context import Info
from graph.errors import FieldErrors, NotFound, name_taken
from graph.tags.types import CreateTagInput, Tag, UpdateTagInput


def _tag_values(data: CreateTagInput | UpdateTagInput) -> dict[str, Any]:
    errors = FieldErrors()
    values: dict[str, Any] = {}
    check.set_required_text(errors, values, "name", data.name, max_len=check.MAX_TAG_NAME)
    if check.given(data.category):
        values["category"] = check.text(
            errors, "category", data.category, max_len=check.MAX_TAG_NAME, required=False
        )
    if check.given(data.color):
        values["color"] = check.color(errors, "color", data.color)
    errors.raise_if_any()
    return values


@strawberry.type
class TagMutation:
    @strawberry.mutation(description="Create a tag.")
    async def create_tag(
        self,
        info: Info,
        input: CreateTagInput,
        idempotency_key: idempotency.IdempotencyKeyArgument = None,
    ) -> Tag:
        user_id = info.context.user_id()
        key = idempotency.parse_key(idempotency_key)
        values = _tag_values(input)
        with name_taken(index="uq_tag_user_name", what="tag"):
            async with info.context.db() as session, session.begin():
                earlier = await idempotency.replay(
                    session,
                    user_id=user_id,
                    key=key,
                    operation="createTag",
                    arguments=input,
                    load=lambda ids: tags.get_tag(session, user_id=user_id, tag_id=ids[0]),
                    what="Tag",
                )
                if earlier is not None:
                    return Tag.from_model(earlier)
                row = await tags.create_tag(session, user_id=user_id, values=values)
                await idempotency.remember(session, user_id=user_id, key=key, ids=[row.id])
        return Tag.from_model(row)

    @strawberry.mutation(description="Change a tag; omitted fields stay as they are.")
    async def update_tag(self, info: Info, id: strawberry.ID, input: UpdateTagInput) -> Tag:
        user_id = info.context.user_id()
        tag_id = check.target_id(id, "Tag")
        values = _tag_values(input)
        with name_taken(index="uq_tag_user_name", what="tag"):
            async with info.context.db() as session, session.begin():
                row = await tags.update_tag(session, user_id=user_id, tag_id=tag_id, values=values)
        if row is None:
            raise NotFound("Tag")
        return Tag.from_model(row)

    @strawberry.mutation(description="Delete a tag; it is removed from every entry.")
    async def delete_tag(self, info: Info, id: strawberry.ID) -> bool:
        user_id = info.context.user_id()
        tag_id = check.target_id(id, "Tag")
        async with info.context.db() as session, session.begin():
            if not await tags.delete_tag(session, user_id=user_id, tag_id=tag_id):
                raise NotFound("Tag")
        return True
