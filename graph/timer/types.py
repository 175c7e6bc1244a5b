from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum

import strawberry

from db.models import RunningTimer as RunningTimerRow
from db.models import Tag as TagRow
from db.models.enums import ActivityType, ImpactLevel, ValueRating
from graph.context import Info
from graph.projects.types import Project
from graph.tags.types import Tag


@strawberry.type(description="The user's running timer (at most one): stopping it logs the entry.")
class RunningTimer:
    id: strawberry.ID = strawberry.field(description="The timer's id (a UUID).")
    title: str = strawberry.field(description="The entry's title, up to 200 characters.")
    description: str | None = strawberry.field(description="Details, up to 2000 characters.")
    type: ActivityType | None = strawberry.field(
        description="Kind of activity; required by the time the timer stops."
    )
    tags: list[Tag] = strawberry.field(description="Its tags, by name.")
    value_rating: ValueRating | None = strawberry.field(
        description="How valuable it is; the entry gets MEDIUM when unset."
    )
    impact_level: ImpactLevel | None = strawberry.field(
        description="Who it helps; the entry gets TEAM when unset."
    )
    started_at: datetime = strawberry.field(description="When it started (the entry's start).")
    project_id: strawberry.Private[uuid.UUID | None]

    @strawberry.field(description="The project it belongs to, if any.")
    async def project(self, info: Info) -> Project | None:
        if self.project_id is None:
            return None
        return await info.context.loaders.project_by_id.load(self.project_id)

    @classmethod
    def from_model(cls, row: RunningTimerRow, tags: list[TagRow]) -> RunningTimer:
        return cls(
            id=strawberry.ID(str(row.id)),
            title=row.title,
            description=row.description,
            type=ActivityType(row.type) if row.type is not None else None,
            tags=[Tag.from_model(tag) for tag in tags],
            value_rating=ValueRating(row.value_rating) if row.value_rating is not None else None,
            impact_level=ImpactLevel(row.impact_level) if row.impact_level is not None else None,
            started_at=row.started_at,
            project_id=row.project_id,
        )


@strawberry.enum(description="What happened to the user's timer.")
class TimerAction(Enum):
    STARTED = "STARTED"
    UPDATED = "UPDATED"
    STOPPED = "STOPPED"
    DISCARDED = "DISCARDED"


@strawberry.type(description="A change to the user's running timer.")
class TimerEvent:
    cursor: str = strawberry.field(
        description="Pass it as `since` to resume right after this event."
    )
    action: TimerAction = strawberry.field(description="What happened.")
    timer_id: strawberry.ID = strawberry.field(description="The timer's id.")
    timer: RunningTimer | None = strawberry.field(
        description="The timer as it is now; null once it is stopped or discarded."
    )


@strawberry.input(description="A timer to start (the entry it will become).")
class StartTimerInput:
    title: str = strawberry.field(description="1–200 characters.")
    description: str | None = strawberry.field(default=None, description="Up to 2000 characters.")
    type: ActivityType | None = strawberry.field(
        default=None, description="Kind of activity; needed by the stop at the latest."
    )
    project_id: strawberry.ID | None = strawberry.field(
        default=None, description="One of the user's projects."
    )
    tag_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Up to 20 of the user's tags."
    )
    value_rating: ValueRating | None = strawberry.field(
        default=None, description="The entry gets MEDIUM when unset."
    )
    impact_level: ImpactLevel | None = strawberry.field(
        default=None, description="The entry gets TEAM when unset."
    )
    started_at: datetime | None = strawberry.field(
        default=None, description="When the work started (not in the future); default now."
    )


@strawberry.input(description="Changes to the running timer; omitted fields stay, null clears.")
class UpdateTimerInput:
    title: str | None = strawberry.field(default=strawberry.UNSET, description="New title.")
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="New description; null clears it."
    )
    type: ActivityType | None = strawberry.field(
        default=strawberry.UNSET, description="New type; null clears it."
    )
    project_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="New project; null removes it."
    )
    tag_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces the tags; [] or null removes all."
    )
    value_rating: ValueRating | None = strawberry.field(
        default=strawberry.UNSET, description="New value rating; null clears it."
    )
    impact_level: ImpactLevel | None = strawberry.field(
        default=strawberry.UNSET, description="New impact level; null clears it."
    )
    started_at: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="New start (not in the future)."
    )


@strawberry.input(description="How to stop the running timer.")
class StopTimerInput:
    end_time: datetime | None = strawberry.field(
        default=None, description="The entry's end (after the timer's start); default now."
    )
    type: ActivityType | None = strawberry.field(
        default=None, description="The entry's type; default the timer's (one is needed)."
    )
