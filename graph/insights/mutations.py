from __future__ import annotations

import uuid

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Insight as InsightRow
from db.models.enums import InsightStatus
from db.queries import insight as insights
from db.queries import project as projects
from db.queries import user as users
from graph import idempotency
from graph import validation as check
from graph.context import Info
from graph.errors import Conflict, FieldErrors, NotFound, Unauthenticated
from graph.insights import task
from graph.insights.types import Insight, RequestInsightInput, UpdateInsightInput
from graph.transaction import transaction

MAX_PERIOD_DAYS = 366
MAX_PROJECT_IDS = 100
MAX_FOCUS_AREAS = 10
MAX_FOCUS_AREA = 100
# As much as a worker may report (graph/tasks/results.py MAX_CONTENT_CHARS).
MAX_EDITED_CONTENT = 100_000


def _request(data: RequestInsightInput) -> insights.InsightRequest:
    errors = FieldErrors()
    # The days entries can have: a period at the ends of the calendar (0001-01-01, 9999-12-31)
    # failed as an internal error turning into UTC instants.
    start = check.day(errors, "periodStart", data.period_start)
    end = check.day(errors, "periodEnd", data.period_end)
    if start and end:
        if data.period_end < data.period_start:
            errors.add("periodEnd", "must not be before periodStart")
        elif (data.period_end - data.period_start).days + 1 > MAX_PERIOD_DAYS:
            errors.add("periodEnd", f"the period must be at most {MAX_PERIOD_DAYS} days long")
    project_ids: list[uuid.UUID] = []
    if data.project_ids is not None and len(data.project_ids) > MAX_PROJECT_IDS:
        errors.add("projectIds", f"at most {MAX_PROJECT_IDS} items")
    else:
        parsed = check.reference_ids(errors, "projectIds", data.project_ids) or []
        project_ids = list(dict.fromkeys(parsed))
    focus_areas: list[str] = []
    if data.focus_areas is not None and len(data.focus_areas) > MAX_FOCUS_AREAS:
        errors.add("focusAreas", f"at most {MAX_FOCUS_AREAS} items")
    elif data.focus_areas is not None:
        for index, area in enumerate(data.focus_areas):
            clean = check.text(errors, f"focusAreas.{index}", area, max_len=MAX_FOCUS_AREA)
            if clean is not None:
                focus_areas.append(clean)
    errors.raise_if_any()
    return insights.InsightRequest(
        kind=data.kind.value,
        period_start=data.period_start,
        period_end=data.period_end,
        project_ids=project_ids,
        focus_areas=focus_areas,
    )


async def _requester(session: AsyncSession, user_id: uuid.UUID) -> task.Requester:
    user = await users.get_user(session, user_id=user_id)
    if user is None:
        raise Unauthenticated("The account of this token no longer exists")
    return task.Requester(user_id=user.id, timezone=user.timezone, first_name=user.first_name)


@strawberry.type
class InsightMutation:
    @strawberry.mutation(
        description="Ask for a report on a period: answers at once with the PENDING insight "
        "(its metrics already computed); a worker writes it, and insightEvents tells when."
    )
    async def request_insight(
        self,
        info: Info,
        input: RequestInsightInput,
        idempotency_key: idempotency.IdempotencyKeyArgument = None,
    ) -> Insight:
        user_id = info.context.user_id()
        key = idempotency.parse_key(idempotency_key)
        request = _request(input)
        # Before the transaction, so a flood of requests is refused without a connection
        # each; a retry with a key counts too, then.
        await info.context.state.limiter.insight(info.context, user_id)  # GPU time
        async with transaction(info.context.db, info.context.state.hub) as session:
            earlier = await idempotency.replay(
                session,
                user_id=user_id,
                key=key,
                operation="requestInsight",
                arguments=input,
                load=lambda ids: insights.get_insight(session, user_id=user_id, insight_id=ids[0]),
                what="Insight",
            )
            if earlier is not None:
                return Insight.from_model(earlier)
            user = await _requester(session, user_id)
            if request.project_ids:
                owned = await projects.owned_project_ids(
                    session, user_id=user_id, project_ids=set(request.project_ids)
                )
                if owned != set(request.project_ids):
                    raise NotFound("Project", {"projectIds": "no such project"})
            row = await task.create_insight(session, user=user, request=request)
            await idempotency.remember(session, user_id=user_id, key=key, ids=[row.id])
        return Insight.from_model(row)

    @strawberry.mutation(
        description="Try a FAILED insight again (a new task, the period's figures read "
        "afresh): PENDING again at once. CONFLICT unless it is FAILED."
    )
    async def retry_insight(self, info: Info, id: strawberry.ID) -> Insight:
        user_id = info.context.user_id()
        insight_id = check.target_id(id, "Insight")
        await info.context.state.limiter.insight(info.context, user_id)  # GPU time again
        async with transaction(info.context.db, info.context.state.hub) as session:
            row = await insights.get_insight(
                session, user_id=user_id, insight_id=insight_id, for_update=True
            )
            if row is None:
                raise NotFound("Insight")
            if row.status != InsightStatus.FAILED:
                raise Conflict(f"Only a FAILED insight can be retried; this one is {row.status}")
            user = await _requester(session, user_id)
            row = await task.retry_insight(session, insight=row, user=user)
        return Insight.from_model(row)

    @strawberry.mutation(
        description="Keep the user's own version of a COMPLETED report (editedContent, "
        "editedAt); its content stays as EngLog wrote it. insightEvents tells (EDITED). "
        "CONFLICT unless it is COMPLETED."
    )
    async def update_insight(
        self, info: Info, id: strawberry.ID, input: UpdateInsightInput
    ) -> Insight:
        user_id = info.context.user_id()
        insight_id = check.target_id(id, "Insight")
        edited = _edited_content(input)
        async with transaction(info.context.db, info.context.state.hub) as session:
            row = await _own(session, user_id, insight_id)
            if row.status != InsightStatus.COMPLETED:
                raise Conflict(f"Only a COMPLETED insight can be edited; this one is {row.status}")
            row = await insights.edit_insight(session, insight=row, edited_content=edited)
        return Insight.from_model(row)

    @strawberry.mutation(
        description="Delete a finished (COMPLETED or FAILED) insight for good; insightEvents "
        "tells (DELETED). CONFLICT while a worker may still be writing it."
    )
    async def delete_insight(self, info: Info, id: strawberry.ID) -> bool:
        user_id = info.context.user_id()
        insight_id = check.target_id(id, "Insight")
        async with transaction(info.context.db, info.context.state.hub) as session:
            row = await _own(session, user_id, insight_id)
            if row.status not in insights.FINAL:
                raise Conflict(
                    f"Only a COMPLETED or FAILED insight can be deleted; this one is {row.status}"
                )
            await insights.delete_insight(session, insight=row)
        return True


def _edited_content(data: UpdateInsightInput) -> str | None:
    errors = FieldErrors()
    value = data.edited_content
    if value is not None and not value.strip():
        errors.add("editedContent", "must not be empty; null discards the edits")
    edited = check.text(
        errors,
        "editedContent",
        value,
        max_len=MAX_EDITED_CONTENT,
        required=False,
        multiline=True,
    )
    errors.raise_if_any()
    return edited


async def _own(session: AsyncSession, user_id: uuid.UUID, insight_id: uuid.UUID) -> InsightRow:
    row = await insights.get_insight(
        session, user_id=user_id, insight_id=insight_id, for_update=True
    )
    if row is None:
        raise NotFound("Insight")
    return row
