"""GET /export: the signed-in user's export (the englog-export/1 document of exportMyData),
streamed as a download for accounts of any size.

Authorised like /graphql (`Authorization: Bearer <accessToken>`, revoked sessions refused by
graph/context.py), counted against ENGLOG_RATE_LIMIT_EXPORTS, and written as it is read
(db/queries/export.py): one batch of rows in memory at a time, however large the account.
Each download holds a database connection (one snapshot) while the client reads it, so a
process runs a few at once and answers 503 beyond. The other downloads (graph/exports/:
entries, insights) are served by the same `ExportDownloads.serve`, sharing the limit and
the slots.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Send

from graph.auth.account import open_export, then_finally
from graph.context import AppState, Context, app_state
from graph.errors import (
    CONFLICT,
    NOT_FOUND,
    RATE_LIMITED,
    SERVICE_UNAVAILABLE,
    UNAUTHENTICATED,
    AppError,
    ServiceUnavailable,
)

logger = logging.getLogger("englog.export")

# A refusal's HTTP status by its code; any other AppError is a 400.
_STATUS = {
    UNAUTHENTICATED: 401,
    NOT_FOUND: 404,
    CONFLICT: 409,
    RATE_LIMITED: 429,
    SERVICE_UNAVAILABLE: 503,
}
BUSY_RETRY_SECONDS = 5


class _ClosingStream(StreamingResponse):
    """Closes its iterator however the response ends: a download cut off mid-way (the
    task cancelled while it waits to send) still ends its transaction at once."""

    def __init__(
        self,
        chunks: AsyncGenerator[bytes, None],
        headers: dict[str, str],
        media_type: str = "application/json",
    ) -> None:
        super().__init__(chunks, media_type=media_type, headers=headers)
        self._chunks = chunks

    async def stream_response(self, send: Send) -> None:
        async with contextlib.aclosing(self._chunks):
            await super().stream_response(send)


@dataclass(frozen=True)
class Download:
    """What a download sends: `open()` starts reading (it may refuse with an AppError, e.g.
    NOT_FOUND) and answers the chunks, whose iteration holds its database session."""

    open: Callable[[], Awaitable[AsyncGenerator[bytes, None]]]
    filename: str
    media_type: str = "application/json"


# Checks a request's parameters for the signed-in user (BAD_USER_INPUT when they are
# wrong) and answers the download they ask for.
Prepare = Callable[[AppState, uuid.UUID, Request], Awaitable[Download]]


class ExportDownloads:
    """The downloads of one process (GET /export, graph/exports/), with their cap on
    downloads running at once: each holds a database connection while it is read."""

    def __init__(self, *, max_running: int) -> None:
        self.max_running = max_running
        self._slots = asyncio.Semaphore(max_running)

    async def _release(self) -> None:
        self._slots.release()

    async def serve(self, request: Request, prepare: Prepare) -> Response:
        """The download `prepare` answers, for the token's user: refused as JSON (401, 400,
        404, 429, 503) before any byte of it is sent."""
        state = app_state(request.app)
        context = Context(
            state=state,
            request=request,
            response=None,
            authorization=request.headers.get("authorization"),
        )
        try:
            await context.check_revocation()
            user_id = context.user_id()
            download = await prepare(state, user_id, request)
            await state.limiter.export(user_id)
            if self._slots.locked():
                raise ServiceUnavailable(
                    "Too many exports are running; try again shortly",
                    retryAfter=BUSY_RETRY_SECONDS,
                )
            await self._slots.acquire()
            try:
                chunks = await download.open()
            except BaseException:
                self._slots.release()
                raise
        except AppError as exc:
            return refusal(exc)
        return _ClosingStream(
            then_finally(chunks, self._release),
            headers={
                "Content-Disposition": f'attachment; filename="{download.filename}"',
                "Cache-Control": "no-store",
            },
            media_type=download.media_type,
        )

    async def endpoint(self, request: Request) -> Response:
        return await self.serve(request, _account_export)


async def _account_export(state: AppState, user_id: uuid.UUID, _: Request) -> Download:
    return Download(
        open=lambda: open_export(state.db, user_id=user_id),
        filename=f"englog-export-{datetime.now(UTC):%Y-%m-%d}.json",
    )


def refusal(exc: AppError) -> Response:
    """An AppError as JSON in the shape of a GraphQL error, with its HTTP status."""
    status = _STATUS.get(str(exc.extensions["code"]), 400)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    retry_after = exc.extensions.get("retryAfter")
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    body = {"errors": [{"message": str(exc), "extensions": exc.extensions}]}
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )
