"""The printed result: one table, the ratio, and what a page costs in database work."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass

from bench.load import Phase
from bench.sqlcount import SqlCounts


@dataclass(frozen=True)
class RunInfo:
    postgres: str
    redis: str
    entries: int
    page_size: int
    concurrency: int
    seconds: float
    rounds: int
    warmup: float


def _percent(seconds: float | None, elapsed: float) -> str:
    if seconds is None or not elapsed:
        return "n/a"
    return f"{100 * seconds / elapsed:.0f}%"


def render(info: RunInfo, phases: dict[str, Phase], sql: SqlCounts | None) -> str:
    lines = [
        "",
        f"EngLog bench: logEntries(first: {info.page_size}) with project {{id name}} and "
        f"tags {{id name}}, {info.entries} entries seeded",
        f"PostgreSQL: {info.postgres} · Redis: {info.redis} · Python {platform.python_version()}"
        f" · {os.cpu_count()} CPUs · one uvicorn worker per server",
        f"{info.concurrency} keep-alive connection(s), {info.seconds:g} s per server in "
        f"{info.rounds} alternating round(s), after {info.warmup:g} s warm-up each"
        " · both servers gc.freeze() their start-up heap",
        "",
        f"{'server':<10}{'requests':>10}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'server CPU':>12}{'client CPU':>12}",
    ]
    for name, phase in phases.items():
        lines.append(
            f"{name:<10}{phase.requests:>10,}{phase.rps:>10.1f}"
            f"{phase.percentile_ms(0.50):>9.2f}{phase.percentile_ms(0.99):>9.2f}"
            f"{_percent(phase.server_cpu, phase.elapsed):>12}"
            f"{_percent(phase.client_cpu, phase.elapsed):>12}"
        )
    graphql, baseline = phases["GraphQL"], phases["baseline"]
    if baseline.rps and graphql.rps:
        lines += [
            "",
            f"ratio GraphQL/baseline req/s: {graphql.rps / baseline.rps:.3f} "
            f"(the baseline serves {baseline.rps / graphql.rps:.1f}× as many)",
        ]
    if sql is not None:
        lines.append(
            f"SQL per GraphQL page: {sql.statements} statements in {sql.checkouts} pool checkouts "
            f"({sql.begins} BEGIN, {sql.rollbacks} ROLLBACK, {sql.commits} COMMIT, "
            f"{sql.checkouts} pre-pings) ≈ {sql.round_trips()} round trips to PostgreSQL; "
            "baseline: 3 statements + 1 pool reset = 4"
        )
    lines.append("CPU columns: % of one core over the timed stretch (client = this process).")
    return "\n".join(lines)
