"""Projects: owned by one user; deleting one leaves its entries without a project."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import Project


async def list_projects(session: AsyncSession, *, user_id: uuid.UUID) -> Sequence[Project]:
    query = (
        sa.select(Project)
        .where(col(Project.user_id) == user_id)
        .order_by(col(Project.created_at).desc(), col(Project.id))
    )
    return (await session.scalars(query)).all()


async def get_project(
    session: AsyncSession, *, user_id: uuid.UUID, project_id: uuid.UUID
) -> Project | None:
    query = sa.select(Project).where(col(Project.id) == project_id, col(Project.user_id) == user_id)
    return (await session.scalars(query)).one_or_none()


async def load_projects(
    session: AsyncSession, *, user_id: uuid.UUID, project_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, Project]:
    query = sa.select(Project).where(
        col(Project.id).in_(list(project_ids)),
        col(Project.user_id) == user_id,
    )
    return {project.id: project for project in (await session.scalars(query)).all()}


async def owned_project_ids(
    session: AsyncSession, *, user_id: uuid.UUID, project_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    if not project_ids:
        return set()
    query = sa.select(col(Project.id)).where(
        col(Project.id).in_(list(project_ids)),
        col(Project.user_id) == user_id,
    )
    return set((await session.scalars(query)).all())


async def create_project(
    session: AsyncSession, *, user_id: uuid.UUID, values: dict[str, Any]
) -> Project:
    query = sa.insert(Project).values(user_id=user_id, **values).returning(Project)
    return (await session.scalars(query)).one()


async def update_project(
    session: AsyncSession, *, user_id: uuid.UUID, project_id: uuid.UUID, values: dict[str, Any]
) -> Project | None:
    query = (
        sa.update(Project)
        .where(col(Project.id) == project_id, col(Project.user_id) == user_id)
        .values(**values, updated_at=sa.func.now())
        .returning(Project)
    )
    return (await session.scalars(query)).one_or_none()


async def delete_project(
    session: AsyncSession, *, user_id: uuid.UUID, project_id: uuid.UUID
) -> bool:
    query = (
        sa.delete(Project)
        .where(col(Project.id) == project_id, col(Project.user_id) == user_id)
        .returning(col(Project.id))
    )
    return (await session.scalars(query)).first() is not None
