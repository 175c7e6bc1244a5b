"""GET /export: the signed-in user's export (the englog-export/1 document of exportMyData),
streamed as a download for accounts of any size.

Authorised like /graphql (`Authorization: Bearer <accessToken>`, revoked sessions refused by
graph/context.py), counted against ENGLOG_RATE_LIMIT_EXPORTS, and written as it is read
(db/queries/export.py): one batch of rows in memory at a time, however large the account.
Each download holds a database connection (one snapshot) while the client reads it, so a
process runs a few at once and answers 503 beyond.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Send

from graph.auth.account import open_export, then_finally
from graph.context import Context, app_state
from graph.errors import (
    RATE_LIMITED,
    SERVICE_UNAVAILABLE,
    UNAUTHENTICATED,
    AppError,
    ServiceUnavailable,
)

logger = logging.getLogger("englog.export")

# A refusal's HTTP status by its code; any other AppError is a 400.
_STATUS = {UNAUTHENTICATED: 401, RATE_LIMITED: 429, SERVICE_UNAVAILABLE: 503}
BUSY_RETRY_SECONDS = 5


class _ClosingStream(StreamingResponse):
    """Closes its iterator however the response ends: a download cut off mid-way (the
    task cancelled while it waits to send) still ends its transaction at once."""

    def __init__(self, chunks: AsyncGenerator[bytes, None], headers: dict[str, str]) -> None:
        super().__init__(chunks, media_type="application/json", headers=headers)
        self._chunks = chunks

    async def stream_response(self, send: Send) -> None:
        async with contextlib.aclosing(self._chunks):
            await super().stream_response(send)


class ExportDownloads:
    """The /export endpoint of one process, with its cap on downloads running at once."""

    def __init__(self, *, max_running: int) -> None:
        self.max_running = max_running
        self._slots = asyncio.Semaphore(max_running)

    async def _release(self) -> None:
        self._slots.release()

    async def endpoint(self, request: Request) -> Response:
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
            await state.limiter.export(user_id)
            if self._slots.locked():
                raise ServiceUnavailable(
                    "Too many exports are running; try again shortly",
                    retryAfter=BUSY_RETRY_SECONDS,
                )
            await self._slots.acquire()
            try:
                chunks = await open_export(state.db, user_id=user_id)
            except BaseException:
                self._slots.release()
                raise
        except AppError as exc:
            return refusal(exc)
        filename = f"englog-export-{datetime.now(UTC):%Y-%m-%d}.json"
        return _ClosingStream(
            then_finally(chunks, self._release),
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "no-store",
            },
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
