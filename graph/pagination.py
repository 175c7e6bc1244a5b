"""Relay pagination pieces: PageInfo, opaque keyset cursors, and the one connection builder."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Protocol, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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


class KeyedRow(Protocol):
    @property
    def id(self) -> uuid.UUID: ...


RowT = TypeVar("RowT", bound=KeyedRow)
NodeT = TypeVar("NodeT")
EdgeT = TypeVar("EdgeT")
ConnectionT = TypeVar("ConnectionT")
NodeT_contra = TypeVar("NodeT_contra", contravariant=True)
EdgeT_co = TypeVar("EdgeT_co", covariant=True)
ConnectionT_co = TypeVar("ConnectionT_co", covariant=True)


class EdgeType(Protocol[NodeT_contra, EdgeT_co]):
    def __call__(self, *, cursor: str, node: NodeT_contra) -> EdgeT_co: ...


class ConnectionType(Protocol[EdgeT, ConnectionT_co]):
    def __call__(
        self, *, edges: list[EdgeT], page_info: PageInfo, count: Callable[[], Awaitable[int]]
    ) -> ConnectionT_co: ...


def connection(
    connection_type: ConnectionType[EdgeT, ConnectionT],
    edge_type: EdgeType[NodeT, EdgeT],
    rows: Sequence[RowT],
    *,
    node: Callable[[RowT], NodeT],
    sort_time: Callable[[RowT], datetime],
    has_next_page: bool,
    after: str | None,
    db: async_sessionmaker[AsyncSession],
    count: Callable[[AsyncSession], Awaitable[int]],
) -> ConnectionT:
    """A page of a keyset listing (db/queries/pagination.py) as its Relay connection: each
    row's cursor is its (sort_time, id); `count` runs, in a session of its own, only when
    totalCount is asked for."""
    cursors = [encode_cursor(sort_time(row), row.id) for row in rows]

    async def total() -> int:
        async with db() as session:
            return await count(session)

    return connection_type(
        edges=[
            edge_type(cursor=cursor, node=node(row))
            for cursor, row in zip(cursors, rows, strict=True)
        ],
        page_info=PageInfo(
            has_next_page=has_next_page,
            has_previous_page=after is not None,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        ),
        count=total,
    )
