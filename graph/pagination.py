"""Relay pagination pieces: PageInfo and opaque keyset cursors."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime

import strawberry

from db.queries.pagination import PageCursor
from graph.errors import BadUserInput
from graph.validation import EARLIEST, LATEST

# A cursor this API gives out is ~80 characters: a longer text is not decoded at all.
MAX_CURSOR = 200


@strawberry.type(description="Where a page sits in the whole list (Relay cursor connections).")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow the last edge.")
    has_previous_page: bool = strawberry.field(
        description="Items come before the first edge (true whenever `after` was given)."
    )
    start_cursor: str | None = strawberry.field(description="Cursor of the first edge.")
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last edge: pass it as `after` for the next page."
    )


def encode_cursor(start_time: datetime, item_id: uuid.UUID) -> str:
    raw = f"{start_time.isoformat()}|{item_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, field: str = "after") -> PageCursor:
    """The keyset position of a cursor; BAD_USER_INPUT on `field` for anything this API could
    not have given out (the instants of cursors are those of entries and insights, and the
    driver cannot send one whose UTC form leaves years 1–9999)."""
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError("too long")
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
        when, _, item = raw.partition("|")
        start_time = datetime.fromisoformat(when)
        if start_time.utcoffset() is None:
            raise ValueError("naive cursor time")
        if not EARLIEST <= start_time < LATEST:
            raise ValueError("cursor time out of range")
        return PageCursor(start_time=start_time, id=uuid.UUID(item))
    except (ValueError, UnicodeError, binascii.Error):
        raise BadUserInput({field: "is not a cursor this API gave out"}) from None
