"""The DataLoaders of one request (or one websocket event): never shared across users."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from graph.projects.loaders import project_by_id_loader
from graph.projects.types import Project
from graph.tags.loaders import tags_by_entry_id_loader
from graph.tags.types import Tag


@dataclass(frozen=True)
class Loaders:
    project_by_id: DataLoader[uuid.UUID, Project | None]
    tags_by_entry_id: DataLoader[uuid.UUID, list[Tag]]

    @classmethod
    def create(
        cls, db: async_sessionmaker[AsyncSession], user_id: Callable[[], uuid.UUID]
    ) -> Loaders:
        return cls(
            project_by_id=project_by_id_loader(db, user_id),
            tags_by_entry_id=tags_by_entry_id_loader(db, user_id),
        )
