"""The JSON log line's fields, in and out of a request."""

from __future__ import annotations

import json
import logging
import sys

from core.logs import JsonFormatter, request_id, trace_id


def line(record: logging.LogRecord) -> dict[str, object]:
    parsed: dict[str, object] = json.loads(JsonFormatter().format(record))
    return parsed


def record(message: str, *args: object, exc: bool = False) -> logging.LogRecord:
    info = None
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            info = sys.exc_info()
    return logging.LogRecord("englog.test", logging.WARNING, __file__, 1, message, args, info)


def test_a_line_outside_a_request_has_null_ids() -> None:
    assert line(record("hello %s", "there")) | {"timestamp": "t"} == {
        "timestamp": "t",
        "level": "WARNING",
        "logger": "englog.test",
        "message": "hello there",
        "request_id": None,
        "trace_id": None,
    }


def test_a_line_inside_a_request_carries_its_ids_and_an_exception_its_traceback() -> None:
    tokens = request_id.set("req-1"), trace_id.set("ab" * 16)
    try:
        found = line(record("failed", exc=True))
    finally:
        request_id.reset(tokens[0])
        trace_id.reset(tokens[1])

    assert (found["request_id"], found["trace_id"]) == ("req-1", "ab" * 16)
    assert "ValueError: boom" in str(found["exception"])
    assert str(found["timestamp"]).endswith("+00:00")
