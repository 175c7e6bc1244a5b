from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime

import strawberry
from strawberry.scalars import JSON

from db.models import Insight as InsightRow
from db.models.enums import InsightKind, InsightStatus
from graph.pagination import PageInfo

strawberry.enum(InsightKind, description="What an insight is: the report a model writes.")
strawberry.enum(
    InsightStatus,
    description="Where an insight stands: PENDING (queued), RUNNING (a model is writing it), "
    "COMPLETED or FAILED.",
)


@strawberry.type(
    description="What EngLog checked of an insight's text before storing it: every number "
    "of the model's sections against the period's metrics (the figure sections are EngLog's "
    "own), and whether its answer had to be asked for again or replaced."
)
class InsightChecks:
    supported_numbers: int = strawberry.field(
        description="Numbers in the model's sections that the period's metrics hold."
    )
    unsupported_numbers: int = strawberry.field(
        description="Numbers the model wrote that the metrics do not hold; each one's "
        "sentence was taken out (see `removed`)."
    )
    retried: bool = strawberry.field(
        description="The model's first answer was refused (a loop, cut off, empty, without "
        "the sections, not English, mostly numbers) and it was asked again."
    )
    fallback: bool = strawberry.field(
        description="Its answers were refused twice: the text is the built-in summary "
        "(model `builtin`), and `error` says why."
    )
    removed: list[str] = strawberry.field(
        description="The sentences taken out for citing figures the log does not hold."
    )

    @classmethod
    def from_json(cls, data: dict[str, object]) -> InsightChecks:
        removed = data.get("removed")
        return cls(
            supported_numbers=int(str(data.get("supported_numbers", 0))),
            unsupported_numbers=int(str(data.get("unsupported_numbers", 0))),
            retried=bool(data.get("retried")),
            fallback=bool(data.get("fallback")),
            removed=[str(text) for text in removed] if isinstance(removed, list) else [],
        )


@strawberry.type(description="A report the model writes about a period of the user's work.")
class Insight:
    id: strawberry.ID = strawberry.field(description="The insight's id (a UUID).")
    kind: InsightKind = strawberry.field(description="What kind of report it is.")
    status: InsightStatus = strawberry.field(description="Where its generation stands.")
    period_start: date = strawberry.field(description="First day of the period (user's days).")
    period_end: date = strawberry.field(description="Last day of the period, included.")
    project_ids: list[strawberry.ID] = strawberry.field(
        description="The projects it is limited to; empty: all of the user's entries."
    )
    focus_areas: list[str] = strawberry.field(
        description="What the user asked the report to pay attention to."
    )
    content: str | None = strawberry.field(
        description="The report (Markdown) as EngLog wrote it: its figures, and the model's "
        "checked sections; null until it is COMPLETED. The user's edits are `editedContent`."
    )
    edited_content: str | None = strawberry.field(
        description="The user's own version of the report (updateInsight); null when not "
        "edited. `content` stays as it was written."
    )
    edited_at: datetime | None = strawberry.field(
        description="When the user last edited it; null when not edited."
    )
    checks: InsightChecks | None = strawberry.field(
        description="What was checked of its text; null until it is COMPLETED (and for "
        "insights written before the checks existed)."
    )
    metrics: JSON | None = strawberry.field(
        description="The period's figures computed when it was requested (or retried), as "
        "given to the model: total_minutes, total_entries, by_type, by_project, by_value, "
        "by_impact, average_daily_hours, days_with_entries, peak_hour, high_value_percent, "
        "product_company_impact_percent, value_impact_score."
    )
    model: str | None = strawberry.field(
        description="The model that wrote it, or `builtin` for the built-in summariser."
    )
    error: str | None = strawberry.field(
        description="Why the last attempt failed, if it did; on a COMPLETED insight, why the "
        "model's answers were refused and the built-in summary stands in."
    )
    attempts: int = strawberry.field(description="How many times a worker started writing it.")
    created_at: datetime = strawberry.field(description="When it was requested.")
    updated_at: datetime = strawberry.field(description="When its status last changed.")
    completed_at: datetime | None = strawberry.field(
        description="When it was COMPLETED; null otherwise."
    )

    @classmethod
    def from_model(cls, row: InsightRow) -> Insight:
        return cls(
            id=strawberry.ID(str(row.id)),
            kind=InsightKind(row.kind),
            status=InsightStatus(row.status),
            period_start=row.period_start,
            period_end=row.period_end,
            project_ids=[strawberry.ID(str(project_id)) for project_id in row.project_ids],
            focus_areas=list(row.focus_areas),
            content=row.content,
            edited_content=row.edited_content,
            edited_at=row.edited_at,
            checks=InsightChecks.from_json(row.checks) if row.checks is not None else None,
            metrics=JSON(row.metrics) if row.metrics is not None else None,
            model=row.model,
            error=row.error,
            attempts=row.attempts,
            created_at=row.created_at,
            updated_at=row.updated_at,
            completed_at=row.completed_at,
        )


@strawberry.type(description="An insight and its cursor.")
class InsightEdge:
    cursor: str = strawberry.field(description="Opaque position of this insight in the list.")
    node: Insight = strawberry.field(description="The insight.")


@strawberry.type(description="A page of insights, newest first (createdAt, then id, descending).")
class InsightConnection:
    edges: list[InsightEdge] = strawberry.field(description="The insights of this page.")
    page_info: PageInfo = strawberry.field(description="Cursors and whether more pages exist.")
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many insights match the filters, across all pages.")
    async def total_count(self) -> int:
        # Counted only when asked for: one query per page, not per insight.
        return await self.count()


@strawberry.input(description="What report to write, about which days and work.")
class RequestInsightInput:
    kind: InsightKind = strawberry.field(description="What kind of report.")
    period_start: date = strawberry.field(
        description="First day, in the user's time zone (1900-01-01 to 2999-12-31)."
    )
    period_end: date = strawberry.field(
        description="Last day, included; not before periodStart, at most 366 days in all."
    )
    project_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Only entries of these projects (up to 100 of the user's); omitted or "
        "empty: all entries.",
    )
    focus_areas: list[str] | None = strawberry.field(
        default=None,
        description="Up to 10 things the report should pay attention to, ≤ 100 characters each.",
    )


@strawberry.input(description="The user's version of a COMPLETED report.")
class UpdateInsightInput:
    edited_content: str | None = strawberry.field(
        description="The report as the user wants it (Markdown, at most 100,000 characters); "
        "null discards the edits (back to the text EngLog wrote)."
    )
