"""startTimer, updateTimer, stopTimer, discardTimer: the user's one running timer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import RunningTimer as RunningTimerRow
from db.queries import log_entry as entries
from db.queries import project as projects
from db.queries import timer as timers
from graph import validation as check
from graph.context import Info
from graph.entries.task import enqueue_enrichment
from graph.entries.types import LogEntry
from graph.errors import BadUserInput, FieldErrors, NotFound, unique_conflict
from graph.timer.queries import load_running_timer
from graph.timer.types import RunningTimer, StartTimerInput, StopTimerInput, UpdateTimerInput
from graph.transaction import transaction

NONE_RUNNING = {"timer": "no timer is running"}


def _not_running() -> NotFound:
    return NotFound("Running timer", NONE_RUNNING)


def _started_at(errors: FieldErrors, value: datetime | None) -> datetime | None:
    value = check.instant(errors, "startedAt", value)
    if value is not None and value > datetime.now(UTC):
        errors.add("startedAt", "must not be in the future")
        return None
    return value


def _timer_values(
    data: StartTimerInput | UpdateTimerInput,
) -> tuple[dict[str, Any], list[uuid.UUID] | None]:
    """The columns to write (only the fields given, for an update) and the tag ids (None:
    leave them). The same limits as a log entry's fields."""
    errors = FieldErrors()
    values: dict[str, Any] = {}
    check.set_required_text(errors, values, "title", data.title, max_len=check.MAX_TITLE)
    check.set_description(errors, values, data.description)
    for column in ("type", "value_rating", "impact_level"):
        choice = getattr(data, column)
        if check.given(choice):
            values[column] = choice.value if choice is not None else None
    if check.given(data.project_id):
        project_id = None
        if data.project_id is not None:
            project_id = check.parse_uuid(data.project_id)
            if project_id is None:
                errors.add("projectId", "must be an ID")
        values["project_id"] = project_id
    if check.given(data.started_at):
        if data.started_at is None:
            # Only an update can say null: a start without one starts now.
            if isinstance(data, UpdateTimerInput):
                errors.add("startedAt", "must not be null")
        else:
            values["started_at"] = _started_at(errors, data.started_at)
    tag_ids = None
    if check.given(data.tag_ids) and check.bounded(
        errors, "tagIds", data.tag_ids, max_items=check.MAX_TAGS_PER_ENTRY
    ):
        tag_ids = check.reference_ids(errors, "tagIds", data.tag_ids or [])
    errors.raise_if_any()
    return values, tag_ids


async def _check_owned(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    project_id: uuid.UUID | None,
    tag_ids: list[uuid.UUID] | None,
) -> None:
    """Another user's project or tag is answered as one that does not exist, as
    createLogEntry answers a project."""
    if project_id is not None and not await projects.owned_project_ids(
        session, user_id=user_id, project_ids={project_id}
    ):
        raise NotFound("Project", {"projectId": "no such project"})
    if tag_ids:
        owned = await timers.owned_tag_ids(session, user_id=user_id, tag_ids=set(tag_ids))
        missing = {
            f"tagIds.{index}": "no such tag"
            for index, tag_id in enumerate(tag_ids)
            if tag_id not in owned
        }
        if missing:
            raise NotFound("Tag", missing)


def _entry_data(
    timer: RunningTimerRow, tags: list[str], *, end: datetime, type_: str | None
) -> entries.EntryData:
    """The entry a stopped timer becomes, with createLogEntry's defaults for what it lacks
    (EntryData's value and impact; createLogEntry has no default type, so one is needed)."""
    type_ = type_ or timer.type
    if type_ is None:
        raise BadUserInput({"type": "is required: the timer has none, give it here"})
    if end <= timer.started_at:
        raise BadUserInput({"endTime": "must be after the timer's startedAt"})
    defaults = {
        column: value
        for column, value in (
            ("value_rating", timer.value_rating),
            ("impact_level", timer.impact_level),
        )
        if value is not None
    }
    return entries.EntryData(
        title=timer.title,
        description=timer.description,
        type=type_,
        start_time=timer.started_at,
        end_time=end,
        project_id=timer.project_id,
        tags=tags,
        **defaults,
    )


@strawberry.type
class TimerMutation:
    @strawberry.mutation(
        description="Start the user's timer; CONFLICT on `timer` when one is already running."
    )
    async def start_timer(self, info: Info, input: StartTimerInput) -> RunningTimer:
        user_id = info.context.user_id()
        values, tag_ids = _timer_values(input)
        values.setdefault("started_at", datetime.now(UTC))
        async with transaction(info.context.db, info.context.state.hub) as session:
            await _check_owned(
                session, user_id=user_id, project_id=values.get("project_id"), tag_ids=tag_ids
            )
            # The unique user_id decides, in the insert itself: of two concurrent starts
            # exactly one wins.
            with unique_conflict(
                index=timers.ONE_PER_USER,
                message="A timer is already running",
                fields={"timer": "is already running"},
            ):
                row = await timers.create_timer(
                    session, user_id=user_id, values=values, tag_ids=tag_ids or []
                )
            return await load_running_timer(session, row)

    @strawberry.mutation(
        description="Change the running timer; omitted fields stay. NOT_FOUND when none runs."
    )
    async def update_timer(self, info: Info, input: UpdateTimerInput) -> RunningTimer:
        user_id = info.context.user_id()
        values, tag_ids = _timer_values(input)
        async with transaction(info.context.db, info.context.state.hub) as session:
            await _check_owned(
                session, user_id=user_id, project_id=values.get("project_id"), tag_ids=tag_ids
            )
            row = await timers.update_timer(
                session, user_id=user_id, values=values, tag_ids=tag_ids
            )
            if row is None:
                raise _not_running()
            return await load_running_timer(session, row)

    @strawberry.mutation(
        description="Stop the running timer: logs the entry from its startedAt to `endTime` "
        "(default now) with its fields, and deletes the timer. NOT_FOUND when none runs."
    )
    async def stop_timer(self, info: Info, input: StopTimerInput | None = None) -> LogEntry:
        user_id = info.context.user_id()
        errors = FieldErrors()
        end = check.instant(errors, "endTime", input.end_time) if input is not None else None
        errors.raise_if_any()
        end = end or datetime.now(UTC)
        type_ = input.type.value if input is not None and input.type is not None else None
        async with transaction(info.context.db, info.context.state.hub) as session:
            # Locked: a concurrent stop waits, then finds none running (one entry, not two).
            timer = await timers.get_timer(session, user_id=user_id, for_update=True)
            if timer is None:
                raise _not_running()
            tags = await timers.load_timer_tags(session, timer_ids=[timer.id])
            item = _entry_data(timer, [tag.name for tag in tags[timer.id]], end=end, type_=type_)
            # createLogEntry's write and its side effects: the entry's event, its enrichment.
            rows = await entries.create_entries(session, user_id=user_id, items=[item])
            await enqueue_enrichment(session, user_id=user_id, entries=rows)
            await timers.delete_timer(session, user_id=user_id, action=timers.STOPPED)
        return LogEntry.from_model(rows[0])

    @strawberry.mutation(
        description="Delete the running timer without logging an entry. NOT_FOUND when none runs."
    )
    async def discard_timer(self, info: Info) -> bool:
        user_id = info.context.user_id()
        async with transaction(info.context.db, info.context.state.hub) as session:
            if await timers.delete_timer(session, user_id=user_id, action=timers.DISCARDED) is None:
                raise _not_running()
        return True
