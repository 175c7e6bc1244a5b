"""The download routes, mounted by graph/app.py next to GET /export."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from graph.export import ExportDownloads
from graph.exports.entries import prepare_entries
from graph.exports.feed import FEED_PATH, calendar
from graph.exports.insight import prepare_insight

ENTRIES_PATH = "/export/entries"
INSIGHT_PATH = "/export/insights/{insight_id}"


def export_routes(downloads: ExportDownloads) -> list[BaseRoute]:
    """GET /export/entries and GET /export/insights/{id}, sharing `downloads`' limit and
    slots (each holds a database connection while it is read), and the calendar feed."""

    async def entries(request: Request) -> Response:
        return await downloads.serve(request, prepare_entries)

    async def insight(request: Request) -> Response:
        return await downloads.serve(request, prepare_insight)

    return [
        Route(ENTRIES_PATH, entries, methods=["GET"]),
        Route(INSIGHT_PATH, insight, methods=["GET"]),
        Route(FEED_PATH, calendar, methods=["GET"]),  # its secret is its credential
    ]
