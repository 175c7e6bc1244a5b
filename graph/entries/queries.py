from __future__ import annotations

from functools import partial

import strawberry

from db.queries import log_entry as entries
from db.queries import project as projects
from graph import validation as check
from graph.context import Info
from graph.entries.types import LogEntry, LogEntryConnection, LogEntryEdge, LogEntryFilter
from graph.errors import FieldErrors, NotFound
from graph.pagination import connection, decode_cursor


def _filter(where: LogEntryFilter | None) -> entries.EntryFilter:
    if where is None:
        return entries.EntryFilter()
    errors = FieldErrors("filter.")
    # The instants an entry may have: outside them nothing matches, and the driver cannot send
    # one whose UTC form leaves years 1–9999.
    start_from = check.instant(errors, "from", where.from_)
    start_to = check.instant(errors, "to", where.to)
    for name, items in (
        ("types", where.types),
        ("valueRatings", where.value_ratings),
        ("impactLevels", where.impact_levels),
    ):
        check.bounded(errors, name, items, max_items=check.MAX_FILTER_ITEMS)
    project_ids = None
    if check.bounded(errors, "projectIds", where.project_ids, max_items=check.MAX_FILTER_ITEMS):
        project_ids = check.reference_ids(errors, "projectIds", where.project_ids)
    tags = check.tag_filter(errors, "tags", where.tags)
    search = check.text(errors, "search", where.search, max_len=check.MAX_SEARCH, required=False)
    errors.raise_if_any()
    return entries.EntryFilter(
        start_from=start_from,
        start_to=start_to,
        project_ids=project_ids,
        types=[item.value for item in where.types] if where.types is not None else None,
        tags=tags,
        value_ratings=[v.value for v in where.value_ratings]
        if where.value_ratings is not None
        else None,
        impact_levels=[v.value for v in where.impact_levels]
        if where.impact_levels is not None
        else None,
        search=search,
    )


@strawberry.type
class EntryQuery:
    @strawberry.field(
        description="One of the user's entries; null when there is none with this id."
    )
    async def log_entry(self, info: Info, id: strawberry.ID) -> LogEntry | None:
        user_id = info.context.user_id()
        entry_id = check.parse_uuid(id)
        if entry_id is None:
            return None
        async with info.context.db() as session:
            row = await entries.get_entry(session, user_id=user_id, entry_id=entry_id)
        return LogEntry.from_model(row) if row else None

    @strawberry.field(
        description="The user's entries, newest first, in pages of 1–100 (Relay cursors)."
    )
    async def log_entries(
        self,
        info: Info,
        filter: LogEntryFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> LogEntryConnection:
        user_id = info.context.user_id()
        errors = FieldErrors()
        check.page_size(errors, "first", first)
        errors.raise_if_any()
        where = _filter(filter)
        cursor = decode_cursor(after) if after is not None else None
        db = info.context.db
        async with db() as session:
            if where.project_ids:
                # Another user's project is NOT_FOUND, as everywhere else (not an empty page).
                wanted = set(where.project_ids)
                owned = await projects.owned_project_ids(
                    session, user_id=user_id, project_ids=wanted
                )
                if owned != wanted:
                    raise NotFound("Project", {"filter.projectIds": "no such project"})
            page = await entries.list_entries(
                session, user_id=user_id, where=where, first=first, after=cursor
            )
        return connection(
            LogEntryConnection,
            LogEntryEdge,
            page.entries,
            node=LogEntry.from_model,
            sort_time=lambda row: row.start_time,
            has_next_page=page.has_next_page,
            after=after,
            db=db,
            count=partial(entries.count_entries, conditions=page.conditions),
        )
