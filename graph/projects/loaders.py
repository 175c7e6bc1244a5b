from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from db.queries import project as projects
from graph.projects.types import Project


def project_by_id_loader(
    db: async_sessionmaker[AsyncSession], user_id: Callable[[], uuid.UUID]
) -> DataLoader[uuid.UUID, Project | None]:
    async def load(keys: Sequence[uuid.UUID]) -> list[Project | None]:
        async with db() as session:
            rows = await projects.load_projects(session, user_id=user_id(), project_ids=set(keys))
        return [Project.from_model(rows[key]) if key in rows else None for key in keys]

    return DataLoader(load_fn=load)
