from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import strawberry

from db.models.enums import ImpactLevel, ValueRating
from db.queries import idempotency as keys
from db.queries import log_entry as entries
from db.queries import project as projects
from graph import idempotency
from graph import validation as check
from graph.context import Info
from graph.entries.task import enqueue_enrichment
from graph.entries.types import CreateLogEntryInput, LogEntry, UpdateLogEntryInput
from graph.errors import BadUserInput, FieldErrors, NotFound
from graph.transaction import transaction


def _entry_data(data: CreateLogEntryInput, errors: FieldErrors) -> entries.EntryData | None:
    title = check.text(errors, "title", data.title, max_len=check.MAX_TITLE)
    description = check.text(
        errors,
        "description",
        data.description,
        max_len=check.MAX_DESCRIPTION,
        required=False,
        multiline=True,
    )
    start = check.instant(errors, "startTime", data.start_time)
    end = check.instant(errors, "endTime", data.end_time)
    if start and end and end <= start:
        errors.add("endTime", "must be after startTime")
    project_id = None
    if data.project_id is not None:
        project_id = check.parse_uuid(data.project_id)
        if project_id is None:
            errors.add("projectId", "must be an ID")
    tags = check.tag_names(errors, "tags", data.tags)
    if errors or title is None or start is None or end is None:
        return None
    return entries.EntryData(
        title=title,
        description=description,
        type=data.type.value,
        start_time=start,
        end_time=end,
        project_id=project_id,
        value_rating=(data.value_rating or ValueRating.MEDIUM).value,
        impact_level=(data.impact_level or ImpactLevel.TEAM).value,
        tags=tags or [],
    )


def _missing_projects(
    wanted: Sequence[tuple[str, uuid.UUID | None]], owned: set[uuid.UUID]
) -> dict[str, str]:
    return {
        field: "no such project"
        for field, project_id in wanted
        if project_id is not None and project_id not in owned
    }


@strawberry.type
class EntryMutation:
    @strawberry.mutation(description="Log one entry; unknown tag names are created.")
    async def create_log_entry(
        self,
        info: Info,
        input: CreateLogEntryInput,
        idempotency_key: idempotency.IdempotencyKeyArgument = None,
    ) -> LogEntry:
        rows = await _create(
            info,
            [input],
            prefix=lambda _: "",
            key=idempotency_key,
            operation="createLogEntry",
            arguments=input,
        )
        return rows[0]

    @strawberry.mutation(
        description="Log up to 500 entries at once: all are written, or none (errors are keyed "
        "`inputs.<index>.<field>`)."
    )
    async def create_log_entries(
        self,
        info: Info,
        inputs: list[CreateLogEntryInput],
        idempotency_key: idempotency.IdempotencyKeyArgument = None,
    ) -> list[LogEntry]:
        if not 1 <= len(inputs) <= check.MAX_BULK_ENTRIES:
            raise BadUserInput({"inputs": f"must hold 1 to {check.MAX_BULK_ENTRIES} entries"})
        return await _create(
            info,
            inputs,
            prefix=lambda index: f"inputs.{index}.",
            key=idempotency_key,
            operation="createLogEntries",
            arguments=inputs,
        )

    @strawberry.mutation(description="Change an entry; omitted fields stay as they are.")
    async def update_log_entry(
        self, info: Info, id: strawberry.ID, input: UpdateLogEntryInput
    ) -> LogEntry:
        user_id = info.context.user_id()
        entry_id = check.target_id(id, "Log entry")
        values, tags = _update_values(input)
        async with transaction(info.context.db, info.context.state.hub) as session:
            current = await entries.get_entry(session, user_id=user_id, entry_id=entry_id)
            if current is None:
                raise NotFound("Log entry")
            start = values.get("start_time", current.start_time)
            end = values.get("end_time", current.end_time)
            if end <= start:
                raise BadUserInput({"endTime": "must be after startTime"})
            project_id = values.get("project_id")
            if project_id is not None and not await projects.owned_project_ids(
                session, user_id=user_id, project_ids={project_id}
            ):
                raise NotFound("Project", {"projectId": "no such project"})
            row = await entries.update_entry(
                session, user_id=user_id, entry_id=entry_id, values=values, tags=tags
            )
        assert row is not None
        return LogEntry.from_model(row)

    @strawberry.mutation(description="Delete an entry.")
    async def delete_log_entry(self, info: Info, id: strawberry.ID) -> bool:
        user_id = info.context.user_id()
        entry_id = check.target_id(id, "Log entry")
        async with transaction(info.context.db, info.context.state.hub) as session:
            if not await entries.delete_entry(session, user_id=user_id, entry_id=entry_id):
                raise NotFound("Log entry")
        return True


async def _create(
    info: Info,
    inputs: Sequence[CreateLogEntryInput],
    *,
    prefix: Any,
    key: str | None,
    operation: str,
    arguments: object,
) -> list[LogEntry]:
    user_id = info.context.user_id()
    key = idempotency.parse_key(key)
    errors = FieldErrors()
    items: list[entries.EntryData] = []
    for index, data in enumerate(inputs):
        errors.prefix = prefix(index)
        item = _entry_data(data, errors)
        if item is not None:
            items.append(item)
    errors.raise_if_any()
    wanted = [(f"{prefix(i)}projectId", item.project_id) for i, item in enumerate(items)]
    async with transaction(info.context.db, info.context.state.hub) as session:
        earlier = await idempotency.replay(
            session,
            user_id=user_id,
            key=key,
            operation=operation,
            arguments=arguments,
            load=lambda ids: keys.load_entries_in_order(session, user_id=user_id, entry_ids=ids),
            what="Log entry",
        )
        if earlier is not None:
            return [LogEntry.from_model(row) for row in earlier]
        owned = await projects.owned_project_ids(
            session, user_id=user_id, project_ids={p for _, p in wanted if p is not None}
        )
        missing = _missing_projects(wanted, owned)
        if missing:
            raise NotFound("Project", missing)
        rows = await entries.create_entries(session, user_id=user_id, items=items)
        await enqueue_enrichment(session, user_id=user_id, entries=rows)
        await idempotency.remember(session, user_id=user_id, key=key, ids=[row.id for row in rows])
    return [LogEntry.from_model(row) for row in rows]


def _update_values(data: UpdateLogEntryInput) -> tuple[dict[str, Any], list[str] | None]:
    errors = FieldErrors()
    values: dict[str, Any] = {}

    def not_null(field: str, value: object) -> bool:
        if value is None:
            errors.add(field, "must not be null")
            return False
        return True

    check.set_required_text(errors, values, "title", data.title, max_len=check.MAX_TITLE)
    check.set_description(errors, values, data.description)
    if check.given(data.type) and not_null("type", data.type):
        assert data.type is not None
        values["type"] = data.type.value
    if check.given(data.project_id):
        if data.project_id is None:
            values["project_id"] = None
        else:
            project_id = check.parse_uuid(data.project_id)
            if project_id is None:
                errors.add("projectId", "must be an ID")
            values["project_id"] = project_id
    if check.given(data.start_time) and not_null("startTime", data.start_time):
        values["start_time"] = check.instant(errors, "startTime", data.start_time)
    if check.given(data.end_time) and not_null("endTime", data.end_time):
        values["end_time"] = check.instant(errors, "endTime", data.end_time)
    if check.given(data.value_rating) and not_null("valueRating", data.value_rating):
        assert data.value_rating is not None
        values["value_rating"] = data.value_rating.value
    if check.given(data.impact_level) and not_null("impactLevel", data.impact_level):
        assert data.impact_level is not None
        values["impact_level"] = data.impact_level.value
    tags: list[str] | None = None
    if check.given(data.tags):
        tags = check.tag_names(errors, "tags", data.tags or [])
    errors.raise_if_any()
    return values, tags
