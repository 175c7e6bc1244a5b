from __future__ import annotations

from datetime import date, datetime

import strawberry

from db.models import Project as ProjectRow
from db.models.enums import ProjectStatus

strawberry.enum(ProjectStatus, description="Where a project stands.")


@strawberry.type(description="Something the user works on; entries may belong to one.")
class Project:
    id: strawberry.ID = strawberry.field(description="The project's id (a UUID).")
    name: str = strawberry.field(description="Name, unique per user (case-insensitive).")
    description: str | None = strawberry.field(description="Free text, up to 2000 characters.")
    status: ProjectStatus = strawberry.field(description="Lifecycle status.")
    color: str | None = strawberry.field(description="Display colour as #RRGGBB.")
    start_date: date | None = strawberry.field(description="First day of the project.")
    end_date: date | None = strawberry.field(description="Last day of the project.")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")

    @classmethod
    def from_model(cls, row: ProjectRow) -> Project:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            description=row.description,
            status=ProjectStatus(row.status),
            color=row.color,
            start_date=row.start_date,
            end_date=row.end_date,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.input(description="A new project.")
class CreateProjectInput:
    name: str = strawberry.field(description="1–200 characters, unique per user.")
    description: str | None = strawberry.field(default=None, description="Up to 2000 characters.")
    status: ProjectStatus = strawberry.field(
        default=ProjectStatus.ACTIVE, description="Defaults to ACTIVE."
    )
    color: str | None = strawberry.field(default=None, description="#RRGGBB.")
    start_date: date | None = strawberry.field(default=None, description="First day.")
    end_date: date | None = strawberry.field(
        default=None, description="Last day; not before startDate."
    )


@strawberry.input(description="Changes to a project; omitted fields stay, null clears.")
class UpdateProjectInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="New name.")
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="New description; null clears it."
    )
    status: ProjectStatus | None = strawberry.field(
        default=strawberry.UNSET, description="New status."
    )
    color: str | None = strawberry.field(
        default=strawberry.UNSET, description="#RRGGBB; null clears."
    )
    start_date: date | None = strawberry.field(
        default=strawberry.UNSET, description="New first day; null clears."
    )
    end_date: date | None = strawberry.field(
        default=strawberry.UNSET, description="New last day; null clears."
    )
