from __future__ import annotations

from typing import Any

import strawberry

from db.queries import project as projects
from graph import idempotency
from graph import validation as check
from graph.context import Info
from graph.errors import BadUserInput, FieldErrors, NotFound, name_taken
from graph.projects.types import CreateProjectInput, Project, UpdateProjectInput


def _project_values(data: CreateProjectInput | UpdateProjectInput) -> dict[str, Any]:
    """Column values of the fields that were given, validated."""
    errors = FieldErrors()
    values: dict[str, Any] = {}

    check.set_required_text(errors, values, "name", data.name, max_len=check.MAX_TITLE)
    check.set_description(errors, values, data.description)
    if check.given(data.status):
        if data.status is None:
            errors.add("status", "must not be null")
        else:
            values["status"] = data.status.value
    if check.given(data.color):
        values["color"] = check.color(errors, "color", data.color)
    if check.given(data.start_date):
        values["start_date"] = data.start_date
    if check.given(data.end_date):
        values["end_date"] = data.end_date
    start, end = values.get("start_date"), values.get("end_date")
    if start and end and end < start:
        errors.add("endDate", "must not be before startDate")
    errors.raise_if_any()
    return values


@strawberry.type
class ProjectMutation:
    @strawberry.mutation(description="Create a project.")
    async def create_project(
        self,
        info: Info,
        input: CreateProjectInput,
        idempotency_key: idempotency.IdempotencyKeyArgument = None,
    ) -> Project:
        user_id = info.context.user_id()
        key = idempotency.parse_key(idempotency_key)
        values = _project_values(input)
        with name_taken(index="uq_project_user_name", what="project"):
            async with info.context.db() as session, session.begin():
                earlier = await idempotency.replay(
                    session,
                    user_id=user_id,
                    key=key,
                    operation="createProject",
                    arguments=input,
                    load=lambda ids: projects.get_project(
                        session, user_id=user_id, project_id=ids[0]
                    ),
                    what="Project",
                )
                if earlier is not None:
                    return Project.from_model(earlier)
                row = await projects.create_project(session, user_id=user_id, values=values)
                await idempotency.remember(session, user_id=user_id, key=key, ids=[row.id])
        return Project.from_model(row)

    @strawberry.mutation(description="Change a project; omitted fields stay as they are.")
    async def update_project(
        self, info: Info, id: strawberry.ID, input: UpdateProjectInput
    ) -> Project:
        user_id = info.context.user_id()
        project_id = check.target_id(id, "Project")
        values = _project_values(input)
        with name_taken(index="uq_project_user_name", what="project"):
            async with info.context.db() as session, session.begin():
                current = await projects.get_project(
                    session, user_id=user_id, project_id=project_id
                )
                if current is None:
                    raise NotFound("Project")
                start = values.get("start_date", current.start_date)
                end = values.get("end_date", current.end_date)
                if start and end and end < start:
                    raise BadUserInput({"endDate": "must not be before startDate"})
                row = await projects.update_project(
                    session, user_id=user_id, project_id=project_id, values=values
                )
        assert row is not None
        return Project.from_model(row)

    @strawberry.mutation(description="Delete a project; its entries stay, without a project.")
    async def delete_project(self, info: Info, id: strawberry.ID) -> bool:
        user_id = info.context.user_id()
        project_id = check.target_id(id, "Project")
        async with info.context.db() as session, session.begin():
            if not await projects.delete_project(session, user_id=user_id, project_id=project_id):
                raise NotFound("Project")
        return True
