"""GET /export/entries: the user's entries of a period and filter as CSV, JSON or Markdown,
written a batch of rows at a time (db/queries/entry_export.py)."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncGenerator, Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic_core import to_json
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from db.queries import entry_export
from db.queries.entry_export import ExportedEntry
from graph.auth.account import NO_ACCOUNT
from graph.context import AppState
from graph.errors import Unauthenticated
from graph.export import Download
from graph.exports.markdown import BragDocument
from graph.exports.params import EntrySelection, entry_selection
from graph.exports.session import held_session

# Columns a spreadsheet reads and Toggl Track's CSV import knows by name (Description,
# Project, Tags, Start date, Start time, End date, End time, Duration), then EngLog's own.
CSV_COLUMNS = (
    "Description",
    "Project",
    "Tags",
    "Start date",
    "Start time",
    "End date",
    "End time",
    "Duration",
    "Type",
    "Value",
    "Impact",
    "Notes",
)
TAG_SEPARATOR = ", "  # Toggl's
# A cell a spreadsheet would run as a formula (OWASP "CSV injection"): kept as text by a
# leading single quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "markdown": "text/markdown; charset=utf-8",
}
EXTENSIONS = {"csv": "csv", "json": "json", "markdown": "md"}


def safe_cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def clock(seconds: int) -> str:
    """A duration as H:MM:SS."""
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def csv_row(entry: ExportedEntry, zone: ZoneInfo) -> list[str]:
    start, end = entry.start_time.astimezone(zone), entry.end_time.astimezone(zone)
    cells = [
        entry.title,
        entry.project or "",
        TAG_SEPARATOR.join(entry.tags),
        f"{start:%Y-%m-%d}",
        f"{start:%H:%M:%S}",
        f"{end:%Y-%m-%d}",
        f"{end:%H:%M:%S}",
        clock(int((entry.end_time - entry.start_time).total_seconds())),
        entry.type,
        entry.value_rating,
        entry.impact_level,
        entry.description or "",
    ]
    return [safe_cell(cell) for cell in cells]


class CsvWriter:
    """Rows written by Python's csv module (RFC 4180 quoting, CRLF), UTF-8 with a BOM so
    spreadsheets read it as UTF-8."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer)

    def _take(self) -> bytes:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text.encode()

    def start(self) -> bytes:
        self._writer.writerow(CSV_COLUMNS)
        return "\ufeff".encode() + self._take()

    def batch(self, entries: list[ExportedEntry]) -> bytes:
        self._writer.writerows(csv_row(entry, self.zone) for entry in entries)
        return self._take()

    def end(self) -> bytes:
        return b""


def json_item(entry: ExportedEntry, zone: ZoneInfo) -> dict[str, object]:
    return {
        "id": str(entry.id),
        "title": entry.title,
        "description": entry.description,
        "type": entry.type,
        "projectId": str(entry.project_id) if entry.project_id else None,
        "project": entry.project,
        "tags": entry.tags,
        "startTime": entry.start_time.astimezone(zone).isoformat(),
        "endTime": entry.end_time.astimezone(zone).isoformat(),
        "durationMinutes": entry.duration_minutes,
        "valueRating": entry.value_rating,
        "impactLevel": entry.impact_level,
    }


class JsonWriter:
    """One JSON array of entries, its items written as they are read."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._separator = b""

    def start(self) -> bytes:
        return b"["

    def batch(self, entries: list[ExportedEntry]) -> bytes:
        items = b",".join(to_json(json_item(entry, self.zone)) for entry in entries)
        chunk, self._separator = self._separator + items, b","
        return chunk

    def end(self) -> bytes:
        return b"]"


Writer = CsvWriter | JsonWriter | BragDocument
WRITERS: dict[str, Callable[[ZoneInfo, EntrySelection], Writer]] = {
    "csv": lambda zone, _: CsvWriter(zone),
    "json": lambda zone, _: JsonWriter(zone),
    "markdown": lambda zone, selection: BragDocument(zone, selection),
}


async def open_entries(
    db: async_sessionmaker[AsyncSession],
    *,
    user_id: uuid.UUID,
    fmt: str,
    selection: EntrySelection,
    batch_rows: int = entry_export.BATCH_ROWS,
) -> AsyncGenerator[bytes, None]:
    """The user's entries of `selection` in `fmt`, as chunks read from one snapshot."""

    async def produce(session: AsyncSession) -> AsyncGenerator[bytes, None]:
        timezone = await entry_export.user_timezone(session, user_id=user_id)
        if timezone is None:
            raise Unauthenticated(NO_ACCOUNT)
        zone = ZoneInfo(timezone)
        query = entry_export.export_query(
            user_id,
            selection.filter(zone),
            by_week_in=timezone if fmt == "markdown" else None,
        )
        return _chunks(session, query, WRITERS[fmt](zone, selection), batch_rows)

    return await held_session(db, produce)


async def _chunks(
    session: AsyncSession, query: sa.Select[Any], writer: Writer, batch_rows: int
) -> AsyncGenerator[bytes, None]:
    yield writer.start()
    async for entries in entry_export.stream_entries(session, query, batch_rows=batch_rows):
        yield writer.batch(entries)
    closing = writer.end()
    if closing:
        yield closing


async def prepare_entries(state: AppState, user_id: uuid.UUID, request: Request) -> Download:
    fmt, selection = entry_selection(request.query_params, formats=tuple(MEDIA_TYPES))
    return Download(
        open=lambda: open_entries(state.db, user_id=user_id, fmt=fmt, selection=selection),
        filename=f"englog-entries-{datetime.now(UTC):%Y-%m-%d}.{EXTENSIONS[fmt]}",
        media_type=MEDIA_TYPES[fmt],
    )
