from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from db.queries import tag as tags
from graph.tags.types import Tag


def tags_by_entry_id_loader(
    db: async_sessionmaker[AsyncSession], user_id: Callable[[], uuid.UUID]
) -> DataLoader[uuid.UUID, list[Tag]]:
    async def load(keys: Sequence[uuid.UUID]) -> list[list[Tag]]:
        async with db() as session:
            rows = await tags.load_tags_by_entry(session, user_id=user_id(), entry_ids=list(keys))
        return [[Tag.from_model(row) for row in rows[key]] for key in keys]

    return DataLoader(load_fn=load)
