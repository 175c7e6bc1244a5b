from __future__ import annotations

import strawberry

from db.queries import project as projects
from graph.context import Info
from graph.projects.types import Project
from graph.validation import parse_uuid


@strawberry.type
class ProjectQuery:
    @strawberry.field(description="The user's projects, newest first.")
    async def projects(self, info: Info) -> list[Project]:
        user_id = info.context.user_id()
        async with info.context.db() as session:
            rows = await projects.list_projects(session, user_id=user_id)
        return [Project.from_model(row) for row in rows]

    @strawberry.field(
        description="One of the user's projects; null when there is none with this id."
    )
    async def project(self, info: Info, id: strawberry.ID) -> Project | None:
        user_id = info.context.user_id()
        project_id = parse_uuid(id)
        if project_id is None:
            return None
        async with info.context.db() as session:
            row = await projects.get_project(session, user_id=user_id, project_id=project_id)
        return Project.from_model(row) if row else None
