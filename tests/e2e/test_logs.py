"""`englog api` writes one JSON object a line, and the lines written while a request is served
carry its request id and the caller's trace id."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.processes import Launcher

pytestmark = pytest.mark.slow


def records(output: str) -> list[dict[str, Any]]:
    """Every line of the process's output, each of which must be a JSON object."""
    lines = [line for line in output.splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines]
    assert all(isinstance(record, dict) for record in parsed)
    return parsed


async def test_the_api_logs_json_lines_with_the_request_and_trace_ids(launcher: Launcher) -> None:
    api = await launcher.api({"ENGLOG_LOG_FORMAT": "json"})
    trace = uuid.uuid4().hex
    async with httpx.AsyncClient(base_url=api.base_url) as client:
        given = await client.get(
            "/live",
            headers={"X-Request-ID": "req-42", "traceparent": f"00-{trace}-{'1' * 16}-01"},
        )
        made = await client.get("/live", headers={"X-Request-ID": "not a plausible id!"})

    assert given.headers["x-request-id"] == "req-42"
    assert len(made.headers["x-request-id"]) == 32  # a new one, not the client's
    lines = records(api.proc.output())
    assert {"timestamp", "level", "logger", "message", "request_id", "trace_id"} <= set(lines[0])
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    served = [line for line in access if line["request_id"] == "req-42"]
    assert len(served) == 1
    assert served[0]["trace_id"] == trace
    assert "GET /live" in served[0]["message"]
    assert any(line["request_id"] == made.headers["x-request-id"] for line in access)
    assert any("gRPC worker protocol" in line["message"] for line in lines)
