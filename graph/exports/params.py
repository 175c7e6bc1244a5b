"""The query parameters of GET /export/entries, checked: BAD_USER_INPUT naming the parameter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from starlette.datastructures import QueryParams

from db.models.enums import ActivityType
from db.queries.log_entry import EntryFilter
from graph.errors import FieldErrors
from graph.validation import (
    EARLIEST,
    LATEST,
    MAX_FILTER_ITEMS,
    RANGE_MESSAGE,
    bounded,
    reference_ids,
    tag_filter,
)

BOUND_MESSAGE = (
    "must be a date (2026-01-05) or an ISO-8601 date and time (2026-01-05T09:00:00+01:00)"
)


def one_of(errors: FieldErrors, params: QueryParams, field: str, choices: tuple[str, ...]) -> str:
    """The parameter's value among `choices` (the first when it is absent)."""
    value = params.get(field, choices[0])
    if value not in choices:
        errors.add(field, f"must be one of {', '.join(choices)}")
    return value


@dataclass(frozen=True)
class Bound:
    """`from` or `to` as given: a day (in the user's time zone; `to` includes it) or an
    instant (one without an offset is in the user's time zone)."""

    value: date | datetime
    end: bool

    def instant(self, zone: ZoneInfo) -> datetime:
        if isinstance(self.value, datetime):
            moment = self.value
            return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)
        day = self.value + timedelta(days=1) if self.end else self.value
        return datetime.combine(day, time(), tzinfo=zone)


def _bound(errors: FieldErrors, params: QueryParams, field: str) -> Bound | None:
    text = params.get(field)
    if text is None or text == "":
        return None
    try:
        value: date | datetime = (
            date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        )
    except ValueError:
        errors.add(field, BOUND_MESSAGE)
        return None
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST.date() <= day < LATEST.date():
        errors.add(field, RANGE_MESSAGE)
        return None
    return Bound(value, end=field == "to")


@dataclass(frozen=True)
class EntrySelection:
    """Which entries a download covers; the bounds are made instants in the user's zone."""

    start: Bound | None
    end: Bound | None
    project_ids: list[str] | None
    types: list[str] | None
    tags: list[str] | None

    def filter(self, zone: ZoneInfo) -> EntryFilter:
        errors = FieldErrors()
        return EntryFilter(
            start_from=self.start.instant(zone) if self.start else None,
            start_to=self.end.instant(zone) if self.end else None,
            project_ids=reference_ids(errors, "project", self.project_ids),
            types=self.types,
            tags=self.tags,
        )


def entry_selection(params: QueryParams, *, formats: tuple[str, ...]) -> tuple[str, EntrySelection]:
    """The format and the entries a request asks for; BadUserInput naming every wrong
    parameter (`format`, `from`, `to`, `project.N`, `type.N`, `tag.N`)."""
    errors = FieldErrors()
    fmt = one_of(errors, params, "format", formats)
    start, end = _bound(errors, params, "from"), _bound(errors, params, "to")
    utc = ZoneInfo("UTC")  # the user's zone shifts both bounds alike
    if start and end and start.instant(utc) >= end.instant(utc):
        errors.add("to", "must be after from")
    projects = params.getlist("project") or None
    if bounded(errors, "project", projects, max_items=MAX_FILTER_ITEMS):
        reference_ids(errors, "project", projects)
    types = params.getlist("type") or None
    if bounded(errors, "type", types, max_items=MAX_FILTER_ITEMS):
        for index, value in enumerate(types or []):
            if value not in ActivityType.__members__:
                errors.add(f"type.{index}", f"must be one of {', '.join(ActivityType)}")
    tags = tag_filter(errors, "tag", params.getlist("tag") or None)
    errors.raise_if_any()
    return fmt, EntrySelection(start, end, projects, types, tags)
