"""Worker tests: task code and the Ollama client against the fake Ollama server (no database)."""

from __future__ import annotations

import socket

from worker.jobs import EntryLine, InsightJob
from worker.settings import WorkerSettings


def worker_settings(
    ollama_host: str | None,
    *,
    retries: int = 2,
    timeout: float = 5.0,
    breaker_failures: int = 5,
    num_ctx: int = 4096,
    model: str = "llama3.2:3b",
) -> WorkerSettings:
    """Settings for tests: no backoff between retries, every other figure given explicitly."""
    return WorkerSettings(
        ollama_host=ollama_host,
        ollama_model=model,
        ollama_num_ctx=num_ctx,
        task_timeout_seconds=timeout,
        ollama_retries=retries,
        ollama_retry_backoff_seconds=0.0,
        breaker_failures=breaker_failures,
        breaker_reset_seconds=30.0,
    )


def closed_port_url() -> str:
    """The URL of a loopback port nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class ProgressRecorder:
    """A Progress callback that remembers what it was told."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    async def __call__(self, delta: str, percent: int) -> None:
        self.calls.append((delta, percent))

    @property
    def deltas(self) -> list[str]:
        return [delta for delta, _ in self.calls]

    @property
    def percents(self) -> list[int]:
        return [percent for _, percent in self.calls]


# A small week: its metrics are what db/queries/productivity.py computes for these entries.
ENTRIES = (
    EntryLine("2026-11-02", "Implemented cursor pagination", "CODE", 270, "HIGH", "PRODUCT", "API"),
    EntryLine("2026-11-02", "Sprint planning", "MEETING", 60, "MEDIUM", "TEAM", None),
    EntryLine("2026-11-03", "Fixed flaky  login test", "DEBUG", 120, "LOW", "TEAM", "API"),
)
METRICS = {
    "total_minutes": 450,
    "total_entries": 3,
    "by_type": [
        {"key": "CODE", "minutes": 270, "percent": 60.0},
        {"key": "DEBUG", "minutes": 120, "percent": 26.7},
        {"key": "MEETING", "minutes": 60, "percent": 13.3},
    ],
    "by_project": [
        {"key": "API", "minutes": 390, "percent": 86.7},
        {"key": "No project", "minutes": 60, "percent": 13.3},
    ],
    "by_value": [
        {"key": "HIGH", "minutes": 270, "percent": 60.0},
        {"key": "LOW", "minutes": 120, "percent": 26.7},
        {"key": "MEDIUM", "minutes": 60, "percent": 13.3},
    ],
    "by_impact": [
        {"key": "PRODUCT", "minutes": 270, "percent": 60.0},
        {"key": "TEAM", "minutes": 180, "percent": 40.0},
    ],
    "average_daily_hours": 3.75,
    "days_with_entries": 2,
    "peak_hour": 9,
    "high_value_percent": 60.0,
    "product_company_impact_percent": 60.0,
    "value_impact_score": 49.7,
}


JOB = InsightJob(
    insight_id="i1",
    kind="WEEKLY_REPORT",
    period_start="2026-11-02",
    period_end="2026-11-08",
    timezone="Europe/Berlin",
    metrics=METRICS,
    entries=ENTRIES,
)
