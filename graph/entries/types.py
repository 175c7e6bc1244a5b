from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import strawberry

from db.models import LogEntry as LogEntryRow
from db.models.enums import ActivityType, ImpactLevel, ValueRating
from graph.context import Info
from graph.pagination import PageInfo
from graph.projects.types import Project
from graph.tags.types import Tag

# The table models' enums, registered as GraphQL enums (the same Python classes).
strawberry.enum(ActivityType, description="What kind of work an entry was.")
strawberry.enum(ValueRating, description="How valuable the work was.")
strawberry.enum(ImpactLevel, description="Who benefits from the work.")


@strawberry.type(description="One piece of work the user logged.")
class LogEntry:
    id: strawberry.ID = strawberry.field(description="The entry's id (a UUID).")
    title: str = strawberry.field(description="Short title, up to 200 characters.")
    description: str | None = strawberry.field(description="Details, up to 2000 characters.")
    type: ActivityType = strawberry.field(description="Kind of activity.")
    start_time: datetime = strawberry.field(description="When the work started.")
    end_time: datetime = strawberry.field(description="When it ended (after startTime).")
    duration_minutes: int = strawberry.field(description="endTime − startTime in whole minutes.")
    value_rating: ValueRating = strawberry.field(description="How valuable it was.")
    impact_level: ImpactLevel = strawberry.field(description="Who it helped.")
    created_at: datetime = strawberry.field(description="When it was logged.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    suggested_tags: list[str] = strawberry.field(
        description="Tag names the model suggests for it; empty until a worker has enriched it."
    )
    suggested_skills: list[str] = strawberry.field(
        description="Skills the model sees in it; empty until a worker has enriched it."
    )
    entry_id: strawberry.Private[uuid.UUID]
    project_id: strawberry.Private[uuid.UUID | None]

    @strawberry.field(description="The project it belongs to, if any.")
    async def project(self, info: Info) -> Project | None:
        if self.project_id is None:
            return None
        return await info.context.loaders.project_by_id.load(self.project_id)

    @strawberry.field(description="Its tags, by name.")
    async def tags(self, info: Info) -> list[Tag]:
        return await info.context.loaders.tags_by_entry_id.load(self.entry_id)

    @classmethod
    def from_model(cls, row: LogEntryRow) -> LogEntry:
        suggestions = row.suggestions or {}
        return cls(
            id=strawberry.ID(str(row.id)),
            title=row.title,
            description=row.description,
            type=ActivityType(row.type),
            start_time=row.start_time,
            end_time=row.end_time,
            duration_minutes=row.duration_minutes,
            value_rating=ValueRating(row.value_rating),
            impact_level=ImpactLevel(row.impact_level),
            created_at=row.created_at,
            updated_at=row.updated_at,
            suggested_tags=_names(suggestions.get("tags")),
            suggested_skills=_names(suggestions.get("skills")),
            entry_id=row.id,
            project_id=row.project_id,
        )


def _names(value: Any) -> list[str]:
    """A list of names from the suggestions JSON; anything else reads as none."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, str)]


@strawberry.type(description="An entry and its cursor.")
class LogEntryEdge:
    cursor: str = strawberry.field(description="Opaque position of this entry in the list.")
    node: LogEntry = strawberry.field(description="The entry.")


@strawberry.type(description="A page of entries, newest first (startTime, then id, descending).")
class LogEntryConnection:
    edges: list[LogEntryEdge] = strawberry.field(description="The entries of this page.")
    page_info: PageInfo = strawberry.field(description="Cursors and whether more pages exist.")
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many entries match the filter, across all pages.")
    async def total_count(self) -> int:
        # Counted only when asked for: one query per page, not per entry.
        return await self.count()


@strawberry.input(description="Narrows logEntries; every list means 'any of'.")
class LogEntryFilter:
    from_: datetime | None = strawberry.field(
        name="from",
        default=None,
        description="Entries starting at or after this instant (1900-01-01 to 2999-12-31 UTC).",
    )
    to: datetime | None = strawberry.field(
        default=None,
        description="Entries starting before this instant (1900-01-01 to 2999-12-31 UTC).",
    )
    project_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Entries of any of these projects (up to 100 of the user's)."
    )
    types: list[ActivityType] | None = strawberry.field(
        default=None, description="Entries of any of these activity types (up to 100 items)."
    )
    tags: list[str] | None = strawberry.field(
        default=None,
        description="Entries carrying any of these tags (case-insensitive; up to 100 names, "
        "each 1–50 characters without control characters).",
    )
    value_ratings: list[ValueRating] | None = strawberry.field(
        default=None, description="Entries with any of these value ratings (up to 100 items)."
    )
    impact_levels: list[ImpactLevel] | None = strawberry.field(
        default=None, description="Entries with any of these impact levels (up to 100 items)."
    )
    search: str | None = strawberry.field(
        default=None,
        description="Full-text search over title and description (web-search syntax: "
        'words, "phrases", -excluded, or); up to 200 characters without control characters.',
    )


@strawberry.input(description="A new log entry.")
class CreateLogEntryInput:
    title: str = strawberry.field(description="1–200 characters.")
    description: str | None = strawberry.field(default=None, description="Up to 2000 characters.")
    type: ActivityType = strawberry.field(description="Kind of activity.")
    project_id: strawberry.ID | None = strawberry.field(
        default=None, description="One of the user's projects."
    )
    tags: list[str] | None = strawberry.field(
        default=None, description="Up to 20 tag names (≤ 50 chars); unknown ones are created."
    )
    start_time: datetime = strawberry.field(
        description="Start, ISO-8601 with offset, between 1900-01-01 and 2999-12-31 UTC."
    )
    end_time: datetime = strawberry.field(description="End, after startTime, in the same range.")
    value_rating: ValueRating | None = strawberry.field(
        default=None, description="Defaults to MEDIUM."
    )
    impact_level: ImpactLevel | None = strawberry.field(
        default=None, description="Defaults to TEAM."
    )


@strawberry.input(description="Changes to an entry; omitted fields stay, null clears.")
class UpdateLogEntryInput:
    title: str | None = strawberry.field(default=strawberry.UNSET, description="New title.")
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="New description; null clears it."
    )
    type: ActivityType | None = strawberry.field(default=strawberry.UNSET, description="New type.")
    project_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="New project; null removes it."
    )
    tags: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces the tag set; [] or null removes all."
    )
    start_time: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="New start."
    )
    end_time: datetime | None = strawberry.field(default=strawberry.UNSET, description="New end.")
    value_rating: ValueRating | None = strawberry.field(
        default=strawberry.UNSET, description="New value rating."
    )
    impact_level: ImpactLevel | None = strawberry.field(
        default=strawberry.UNSET, description="New impact level."
    )
