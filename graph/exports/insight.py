"""GET /export/insights/{id}: one of the user's insights as Markdown or PDF. Someone else's
id, a deleted one and a malformed one all answer 404 NOT_FOUND alike."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from db.models import Insight
from db.models.enums import InsightStatus
from db.queries import insight as insights
from graph.context import AppState
from graph.errors import Conflict, FieldErrors, NotFound
from graph.export import Download
from graph.exports.params import one_of
from graph.exports.pdf import render_pdf
from graph.validation import parse_uuid

FORMATS = ("markdown", "pdf")
MEDIA_TYPES = {"markdown": "text/markdown; charset=utf-8", "pdf": "application/pdf"}
EXTENSIONS = {"markdown": "md", "pdf": "pdf"}


@dataclass(frozen=True)
class Report:
    """What an insight download holds: its title and its text (the user's edits, if any)."""

    title: str
    markdown: str

    @classmethod
    def of(cls, row: Insight) -> Report:
        title = f"{row.kind.replace('_', ' ').title()}: {row.period_start} to {row.period_end}"
        text = (row.edited_content or row.content or "").strip()
        if not text.startswith("# "):  # the worker writes its own heading; an edit may not
            text = f"# {title}\n\n{text}"
        return cls(title=title, markdown=text + "\n")


async def load_report(
    db: async_sessionmaker[AsyncSession], *, user_id: uuid.UUID, insight_id: uuid.UUID | None
) -> Report:
    """The user's COMPLETED insight; NOT_FOUND (whosever it is) or CONFLICT before that."""
    async with db() as session:
        row = (
            await insights.get_insight(session, user_id=user_id, insight_id=insight_id)
            if insight_id is not None
            else None
        )
    if row is None:
        raise NotFound("Insight")
    if row.status != InsightStatus.COMPLETED:
        raise Conflict(f"The insight is {row.status}: only a COMPLETED one has a report")
    return Report.of(row)


async def _one(chunk: bytes) -> AsyncGenerator[bytes, None]:
    yield chunk


async def open_insight(
    db: async_sessionmaker[AsyncSession],
    *,
    user_id: uuid.UUID,
    insight_id: uuid.UUID | None,
    fmt: str,
) -> AsyncGenerator[bytes, None]:
    report = await load_report(db, user_id=user_id, insight_id=insight_id)
    if fmt == "pdf":  # CPU work of tens of milliseconds: off the event loop
        return _one(await asyncio.to_thread(render_pdf, report.markdown, title=report.title))
    return _one(report.markdown.encode())


async def prepare_insight(state: AppState, user_id: uuid.UUID, request: Request) -> Download:
    errors = FieldErrors()
    fmt = one_of(errors, request.query_params, "format", FORMATS)
    errors.raise_if_any()
    raw_id = str(request.path_params["insight_id"])
    insight_id = parse_uuid(raw_id)
    return Download(
        open=lambda: open_insight(state.db, user_id=user_id, insight_id=insight_id, fmt=fmt),
        filename=f"englog-insight-{insight_id or 'unknown'}.{EXTENSIONS[fmt]}",
        media_type=MEDIA_TYPES[fmt],
    )
