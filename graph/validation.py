"""Input checks shared by the domains. Each adds to a FieldErrors so one answer lists them all."""

from __future__ import annotations

import re
import uuid
import zoneinfo
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from functools import cache
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.types.unset import UnsetType

from db.queries import event as events
from graph.errors import BadUserInput, FieldErrors, NotFound

MAX_TITLE = 200
MAX_DESCRIPTION = 2000
MAX_TAG_NAME = 50
MAX_TAGS_PER_ENTRY = 20
MAX_PAGE_SIZE = 100
MAX_BULK_ENTRIES = 500
MAX_NAME = 100
MIN_PASSWORD = 8
MAX_PASSWORD = 128
MAX_EMAIL = 254
MAX_SEARCH = 200
# Items of each list of a query filter: far more than a user has projects or enum values, and
# far below what PostgreSQL binds in one statement (32,767 parameters).
MAX_FILTER_ITEMS = 100
# The instants an entry (and the days an insight's period) may have. The driver cannot send
# one whose UTC form leaves years 1–9999 and sends 0001-01-01 / 9999-12-31 23:59:59.999999 UTC
# as ±infinity, and durationMinutes is a 32-bit count (about 4,000 years): outside this range
# a write failed as an internal error.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)  # excluded
RANGE_MESSAGE = "must be between 1900-01-01 and 2999-12-31"

# Event ids (subscription cursors) are PostgreSQL bigints, written in ASCII digits.
_EVENT_CURSOR = re.compile(r"[0-9]{1,19}")
MAX_EVENT_ID = 2**63 - 1
NOT_A_CURSOR = "is not a cursor this API gave out"
# The `since` argument of every resumable subscription.
Since = Annotated[
    str | None,
    strawberry.argument(
        description="Resume after this `cursor` of the stream: first everything after it, "
        "then live. A cursor beyond the newest event of the user's stream (another account's, "
        "say) or anything that is not a cursor is refused with BAD_USER_INPUT on `since`, "
        "never clamped. Omitted: from now on."
    ),
]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
# PostgreSQL text cannot hold NUL, and no field here has a use for other C0 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f]")


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def given(value: object) -> bool:
    """Whether a partial-update field was sent at all (null counts: it clears)."""
    return not isinstance(value, UnsetType)


def text(
    errors: FieldErrors,
    field: str,
    value: str | None,
    *,
    max_len: int,
    required: bool = True,
    multiline: bool = False,
) -> str | None:
    """The stripped value, or None after recording why it is not acceptable."""
    if value is None:
        if required:
            errors.add(field, "is required")
        return None
    stripped = value.strip()
    if required and not stripped:
        errors.add(field, "must not be empty")
        return None
    if len(stripped) > max_len:
        errors.add(field, f"must be at most {max_len} characters")
        return None
    if (_CONTROL if multiline else _CONTROL_SINGLE_LINE).search(stripped):
        errors.add(field, "must not contain control characters")
        return None
    return stripped or None


def set_required_text(
    errors: FieldErrors, values: dict[str, Any], field: str, value: str | None, *, max_len: int
) -> None:
    """A partial update's short text that cannot be cleared (a name, a title): when given,
    checked into values[field]; null is refused."""
    if not given(value):
        return
    if value is None:
        errors.add(field, "must not be null")
    else:
        values[field] = text(errors, field, value, max_len=max_len)


def set_description(errors: FieldErrors, values: dict[str, Any], value: str | None) -> None:
    """A partial update's optional multi-line description: when given, checked into
    values["description"]; null clears it."""
    if given(value):
        values["description"] = text(
            errors, "description", value, max_len=MAX_DESCRIPTION, required=False, multiline=True
        )


def aware(errors: FieldErrors, field: str, value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        errors.add(field, "must include a UTC offset (ISO-8601, e.g. 2026-01-05T09:00:00+01:00)")
        return None
    return value


def instant(errors: FieldErrors, field: str, value: datetime | None) -> datetime | None:
    """An aware datetime within EARLIEST..LATEST."""
    value = aware(errors, field, value)
    if value is not None and not EARLIEST <= value < LATEST:
        errors.add(field, f"{RANGE_MESSAGE} (UTC)")
        return None
    return value


def day(errors: FieldErrors, field: str, value: date) -> date | None:
    """A calendar day within EARLIEST..LATEST."""
    if not EARLIEST.date() <= value < LATEST.date():
        errors.add(field, RANGE_MESSAGE)
        return None
    return value


def color(errors: FieldErrors, field: str, value: str | None) -> str | None:
    if value is None:
        return None
    if not _COLOR.match(value):
        errors.add(field, "must be a hex colour like #1A2B3C")
        return None
    return value


def clock_time(errors: FieldErrors, field: str, value: str) -> time | None:
    """A wall-clock time written HH:MM (24-hour), or None after recording why not."""
    match = _CLOCK.fullmatch(value)
    if match is None:
        errors.add(field, "must be a time of day written HH:MM, from 00:00 to 23:59")
        return None
    return time(int(match[1]), int(match[2]))


def timezone(errors: FieldErrors, field: str, value: str) -> str | None:
    if value not in _timezones():
        errors.add(field, "must be an IANA time zone such as Europe/Berlin")
        return None
    return value


def email(errors: FieldErrors, field: str, value: str) -> str | None:
    value = value.strip()
    if len(value) > MAX_EMAIL or not _EMAIL.match(value) or _CONTROL_SINGLE_LINE.search(value):
        errors.add(field, "must be a valid e-mail address")
        return None
    return value.lower()


def password(errors: FieldErrors, field: str, value: str) -> str | None:
    if len(value) < MIN_PASSWORD:
        errors.add(field, f"must be at least {MIN_PASSWORD} characters")
        return None
    if len(value) > MAX_PASSWORD:
        errors.add(field, f"must be at most {MAX_PASSWORD} characters")
        return None
    if "\x00" in value:
        errors.add(field, "must not contain NUL characters")
        return None
    return value


def page_size(errors: FieldErrors, field: str, value: int) -> int:
    if not 1 <= value <= MAX_PAGE_SIZE:
        errors.add(field, f"must be between 1 and {MAX_PAGE_SIZE}")
    return value


def bounded(
    errors: FieldErrors, field: str, items: Sequence[object] | None, *, max_items: int
) -> bool:
    """Whether a list is absent or within `max_items` (its items are checked only then)."""
    if items is not None and len(items) > max_items:
        errors.add(field, f"at most {max_items} items")
        return False
    return True


def tag_filter(errors: FieldErrors, field: str, names: Sequence[str] | None) -> list[str] | None:
    """Stripped tag names to look entries up by, each a name a tag could have."""
    if names is None or not bounded(errors, field, names, max_items=MAX_FILTER_ITEMS):
        return None
    result = []
    for index, name in enumerate(names):
        clean = text(errors, f"{field}.{index}", name, max_len=MAX_TAG_NAME)
        if clean is not None:
            result.append(clean)
    return result


def tag_names(errors: FieldErrors, field: str, names: Sequence[str] | None) -> list[str] | None:
    """Stripped, de-duplicated (case-insensitively, first spelling wins) tag names."""
    if names is None:
        return None
    if len(names) > MAX_TAGS_PER_ENTRY:
        errors.add(field, f"at most {MAX_TAGS_PER_ENTRY} tags an entry")
        return None
    result: dict[str, str] = {}
    for index, name in enumerate(names):
        clean = text(errors, f"{field}.{index}", name, max_len=MAX_TAG_NAME)
        if clean is not None:
            result.setdefault(clean.lower(), clean)
    return list(result.values())


def parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def target_id(value: str, what: str) -> uuid.UUID:
    """The id of the object an operation acts on; a malformed one is simply not found."""
    parsed = parse_uuid(value)
    if parsed is None:
        raise NotFound(what)
    return parsed


def reference_ids(
    errors: FieldErrors, field: str, values: Sequence[str] | None
) -> list[uuid.UUID] | None:
    if values is None:
        return None
    parsed = []
    for index, value in enumerate(values):
        item = parse_uuid(value)
        if item is None:
            errors.add(f"{field}.{index}", "must be an ID")
        else:
            parsed.append(item)
    return parsed


async def resume_after(
    db: async_sessionmaker[AsyncSession],
    *,
    user_id: uuid.UUID,
    topic: str,
    since: str | None,
    field: str = "since",
) -> int | None:
    """The event id a resumable subscription replays after, or BAD_USER_INPUT on `field`.

    A cursor beyond the user's newest event of the topic is refused, not clamped: taken as
    it is, every event up to it, live ones included, would be skipped, and the subscription
    would say nothing for as long as it lived. (Events are never deleted, so every cursor the
    stream gave out is at most its newest; the database, not this process's feed, is asked,
    so a cursor another API process delivered a moment ago is known.)"""
    if since is None:
        return None
    if not _EVENT_CURSOR.fullmatch(since) or int(since) > MAX_EVENT_ID:
        raise BadUserInput({field: NOT_A_CURSOR})
    after = int(since)
    async with db() as session:
        newest = await events.latest_event_id(session, user_id=user_id, topic=topic)
    if after > newest:
        raise BadUserInput({field: "is beyond the newest event of this stream"})
    return after
