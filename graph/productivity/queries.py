from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import strawberry

from db.queries import productivity
from db.queries import user as users
from graph import validation as check
from graph.context import Info
from graph.errors import FieldErrors, Unauthenticated
from graph.productivity.types import ProductivityMetrics, TimeAllocation

MAX_RANGE = timedelta(days=366)

From = Annotated[
    datetime,
    strawberry.argument(
        name="from",
        description="Entries starting at or after this instant (1900-01-01 to 2999-12-31 UTC).",
    ),
]
To = Annotated[
    datetime,
    strawberry.argument(
        description="Entries starting before this instant (1900-01-01 to 2999-12-31 UTC)."
    ),
]


def _range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    errors = FieldErrors()
    # The instants an entry may have: the driver cannot send one whose UTC form leaves years
    # 1–9999, nor can the user's calendar days be counted near those ends.
    checked_start = check.instant(errors, "from", start)
    checked_end = check.instant(errors, "to", end)
    if checked_start is not None and checked_end is not None:
        if checked_end <= checked_start:
            errors.add("to", "must be after from")
        elif checked_end - checked_start > MAX_RANGE:
            errors.add("to", f"must be at most {MAX_RANGE.days} days after from")
    errors.raise_if_any()
    return start, end


async def _metrics(info: Info, start: datetime, end: datetime) -> productivity.Metrics:
    user_id = info.context.user_id()
    start, end = _range(start, end)
    async with info.context.db() as session:
        user = await users.get_user(session, user_id=user_id)
        if user is None:
            raise Unauthenticated("The account of this token no longer exists")
        return await productivity.compute_metrics(
            session, user_id=user_id, start=start, end=end, timezone=user.timezone
        )


@strawberry.type
class MetricsQuery:
    @strawberry.field(
        description="Minutes by activity type, project, value and impact of the entries "
        "starting in [from, to) (offsets required, at most 366 days)."
    )
    async def time_allocation(self, info: Info, from_: From, to: To) -> TimeAllocation:
        metrics = await _metrics(info, from_, to)
        return TimeAllocation.from_metrics(metrics, start=from_, end=to)

    @strawberry.field(
        description="Totals, daily hours, peak hour and value/impact figures of the entries "
        "starting in [from, to) (offsets required, at most 366 days)."
    )
    async def productivity_metrics(self, info: Info, from_: From, to: To) -> ProductivityMetrics:
        metrics = await _metrics(info, from_, to)
        return ProductivityMetrics.from_metrics(metrics, start=from_, end=to)
