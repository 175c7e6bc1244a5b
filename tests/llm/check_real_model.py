"""The opt-in real-model check (`just test-llm`): every insight kind over the demo data, written
by SmolLM2-135M (llama.cpp on the CPU, behind tests/fakes/llama_ollama.py) through a real
`englog worker`, and what EngLog made of it.

Not part of `just test`: the file name is not a `test_*.py` that pytest collects, so only an
explicit `pytest tests/llm/check_real_model.py` runs it, and it needs the `llm` dependency
group. It prints, per kind, the insight's status, model, the numbers of the model's text that
the metrics did and did not hold, whether it was retried or fell back to the built-in summary,
and how long it took. It asserts only what a model, however bad, cannot break except through
a bug of EngLog's: every insight ends COMPLETED (by the model or by the labelled built-in
fallback), and every stored report's figures equal the same figures recomputed here in SQL.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from englog.demo import DEMO_EMAIL, DEMO_PASSWORD, seed_demo
from graph.insights.task import InsightTask
from tests.e2e.processes import Launcher
from tests.factories import Api
from worker.insights.numbers import Evidence, numbers_in
from worker.jobs import InsightJob
from worker.prompt import NO_PROJECT, type_label
from worker.runner import from_message

MODEL = "smollm2:135m"
# How long one insight may take, both of its answers included, on a busy 2-core machine.
INSIGHT_TIMEOUT = 900.0
POLL_INTERVAL = 0.2
# Each kind over a period ending on the demo's last day, as long as the kind is about.
PERIOD_DAYS = {
    "DAILY_SUMMARY": 1,
    "WEEKLY_REPORT": 7,
    "SPRINT_ANALYSIS": 14,
    "MONTHLY_INSIGHTS": 30,
    "QUARTERLY_REVIEW": 91,
    "ANNUAL_ASSESSMENT": 365,
    "PERFORMANCE_REVIEW": 182,
}
LOG_IN = "mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { accessToken } }"
KINDS = '{ __type(name: "InsightKind") { enumValues { name } } }'
HAS_CHECKS = '{ __type(name: "InsightChecks") { name } }'
REQUEST = "mutation($input: RequestInsightInput!) { requestInsight(input: $input) { id } }"
INSIGHT = "query($id: ID!) {{ insight(id: $id) {{ status model error attempts {checks} }} }}"
CHECKS = "checks { supportedNumbers unsupportedNumbers retried fallback removed }"
# The figure sections EngLog renders (worker/insights/figures.py), and their lines.
TOTAL = re.compile(r"You logged ([\d,.]+) h in ([\d,]+) entr(?:y|ies) on ([\d,]+) days?\.")
FIGURE_SECTIONS = ("Where the time went", "Projects", "Value", "Impact")
SHARE = re.compile(r"^- (.+): ([\d,.]+) h \((\d+)%\)$")


@dataclass
class Outcome:
    kind: str
    insight_id: str
    insight: dict[str, Any]
    seconds: float
    # Per answer of the model's (the first, then the retry's): numbers the metrics hold, of all.
    raw_numbers: list[tuple[int, int]] = field(default_factory=list)


async def test_every_insight_kind_written_by_a_real_small_model(
    launcher: Launcher,
    tmp_path: Path,
    database_url: str,
    pg: asyncpg.Connection,
    capsys: pytest.CaptureFixture[str],
) -> None:
    api = await launcher.api()
    await asyncio.to_thread(seed_demo, database_url)
    answers = tmp_path / "answers.jsonl"
    model = await launcher.start(
        "llama-ollama",
        *("tests.fakes.llama_ollama", "--port", "0", "--model", MODEL, "--record", str(answers)),
    )
    output = await model.wait_for_output("llama-ollama listening on ", within=120)
    url = output.split("llama-ollama listening on ", 1)[1].split()[0]
    # One task at a time: the model answers one request at a time, and a second task would
    # spend its timeout waiting for the first.
    await launcher.worker(
        api,
        {
            "ENGLOG_OLLAMA_HOST": url,
            "ENGLOG_OLLAMA_MODEL": MODEL,
            "ENGLOG_MAX_CONCURRENT_TASKS": "1",
            "ENGLOG_TASK_TIMEOUT_SECONDS": str(INSIGHT_TIMEOUT),
        },
    )
    last_day: date = await pg.fetchval(
        "SELECT max((e.start_time AT TIME ZONE u.timezone)::date) FROM log_entry e "
        'JOIN "user" u ON u.id = e.user_id WHERE u.email = $1',
        DEMO_EMAIL,
    )

    async with httpx.AsyncClient(base_url=api.base_url, timeout=60.0) as client:
        http = Api(client)
        token = (await http.data(LOG_IN, {"e": DEMO_EMAIL, "p": DEMO_PASSWORD}))["logIn"][
            "accessToken"
        ]
        kinds = [v["name"] for v in (await http.data(KINDS))["__type"]["enumValues"]]
        has_checks = (await http.data(HAS_CHECKS))["__type"] is not None
        query = INSIGHT.format(checks=CHECKS if has_checks else "")
        outcomes = []
        for kind in kinds:
            # A day's summary is of the last full day (the demo's last day is still ahead).
            end = last_day - timedelta(days=1) if kind == "DAILY_SUMMARY" else last_day
            start = end - timedelta(days=PERIOD_DAYS.get(kind, 7) - 1)
            outcomes.append(await _generate(http, token, query, kind, (start, end)))

    if has_checks:
        await _count_raw_numbers(pg, outcomes, answers)
    with capsys.disabled():
        print("\n" + _table(outcomes, has_checks), flush=True)
        print(f"The model's answers, one JSON line each: {answers}", flush=True)

    assert sorted(kinds) == sorted(PERIOD_DAYS)
    for outcome in outcomes:
        insight = outcome.insight
        assert insight["status"] == "COMPLETED", (outcome.kind, insight)
        assert insight["model"] in (MODEL, "builtin"), (outcome.kind, insight)
        if has_checks:
            checks = insight["checks"]
            # A fallback is labelled as one: the built-in summary, and the model's failure kept.
            assert checks["fallback"] == (insight["model"] == "builtin"), (outcome.kind, insight)
            assert (insight["error"] is not None) == checks["fallback"], (outcome.kind, insight)
    # Every stored report of the demo user, the seeded ones included.
    reports = await pg.fetch(
        "SELECT i.kind, i.period_start, i.period_end, i.content FROM insight i "
        "JOIN \"user\" u ON u.id = i.user_id WHERE u.email = $1 AND i.status = 'COMPLETED'",
        DEMO_EMAIL,
    )
    assert len(reports) == len(outcomes) + 2  # the demo's own weekly report and daily summary
    for report in reports:
        await _assert_figures_equal_sql(pg, report)


async def _generate(
    http: Api, token: str, query: str, kind: str, period: tuple[date, date]
) -> Outcome:
    """requestInsight, then the insight once it ended (bounded wait, not a measurement)."""
    began = time.monotonic()
    variables = {
        "input": {"kind": kind, "periodStart": str(period[0]), "periodEnd": str(period[1])}
    }
    insight_id = (await http.data(REQUEST, variables, token))["requestInsight"]["id"]
    while True:
        insight = (await http.data(query, {"id": insight_id}, token))["insight"]
        if insight["status"] in ("COMPLETED", "FAILED"):
            return Outcome(kind, insight_id, insight, time.monotonic() - began)
        if time.monotonic() - began > INSIGHT_TIMEOUT:
            raise AssertionError(f"{kind}: not ended within {INSIGHT_TIMEOUT:g} s: {insight}")
        await asyncio.sleep(POLL_INTERVAL)


def _table(outcomes: list[Outcome], has_checks: bool) -> str:
    head = (
        *("kind", "status", "model", "supported", "unsupported", "retried", "fallback", "s"),
        "raw answers' numbers held",
    )
    rows = []
    for o in outcomes:
        checks = o.insight.get("checks") or {}

        def cell(key: str, checks: dict[str, Any] = checks) -> str:
            return str(checks[key]) if key in checks else "-"

        rows.append(
            (
                o.kind,
                o.insight["status"],
                str(o.insight["model"]),
                cell("supportedNumbers"),
                cell("unsupportedNumbers"),
                cell("retried"),
                cell("fallback"),
                f"{o.seconds:.1f}",
                ", ".join(f"{held}/{found}" for held, found in o.raw_numbers) or "-",
            )
        )
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [head, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if not has_checks:
        lines.append("(this API has no Insight.checks yet: supported/unsupported/retried unknown)")
    lines.append(
        "supported/unsupported: numbers of the stored model text (checks); raw answers' numbers "
        "held: of every answer the model gave, numbers the period's metrics hold / numbers in it"
    )
    lines.extend(f"{o.kind}: error: {o.insight['error']}" for o in outcomes if o.insight["error"])
    return "\n".join(lines)


async def _count_raw_numbers(
    pg: asyncpg.Connection, outcomes: list[Outcome], answers: Path
) -> None:
    """For the table: how many numbers of each raw answer (checked or refused) the period's
    metrics hold, by the worker's own number checker. The stand-in records the answers in the
    order it gave them; the insights were generated one after another, each with one answer,
    or two when it was retried."""
    expected = sum(1 + bool(o.insight["checks"]["retried"]) for o in outcomes)
    deadline = time.monotonic() + 30  # the last answer's line may be a moment behind its result
    while len(lines := (await asyncio.to_thread(answers.read_text)).splitlines()) < expected:
        assert time.monotonic() < deadline, f"{len(lines)} answers recorded, {expected} expected"
        await asyncio.sleep(POLL_INTERVAL)
    recorded = iter(json.loads(line)["answer"] for line in lines)
    for outcome in outcomes:
        payload = await pg.fetchval(
            "SELECT t.payload FROM task t JOIN insight i ON i.task_id = t.id WHERE i.id = $1",
            uuid.UUID(outcome.insight_id),
        )
        job = from_message(InsightTask().job_message(json.loads(payload))["insight"], InsightJob)
        evidence = Evidence.of(job)
        for _ in range(1 + bool(outcome.insight["checks"]["retried"])):
            found = numbers_in(next(recorded))
            outcome.raw_numbers.append((sum(map(evidence.supports, found)), len(found)))


def _hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _percent(minutes: int, total: int) -> int:
    return int((Decimal(100 * minutes) / total).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def _number(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


async def _assert_figures_equal_sql(pg: asyncpg.Connection, report: asyncpg.Record) -> None:
    """The report's totals and every line of its figure sections equal the period's entries
    summed here (the user's days: the demo account is on UTC, and the query says so anyway)."""
    where = (
        'FROM log_entry e JOIN "user" u ON u.id = e.user_id '
        "LEFT JOIN project p ON p.id = e.project_id WHERE u.email = $1 "
        "AND (e.start_time AT TIME ZONE u.timezone)::date BETWEEN $2 AND $3"
    )
    scope = (DEMO_EMAIL, report["period_start"], report["period_end"])
    total, count, days = await pg.fetchrow(
        "SELECT coalesce(sum(e.duration_minutes), 0)::int, count(*)::int, "
        f"count(DISTINCT (e.start_time AT TIME ZONE u.timezone)::date)::int {where}",
        *scope,
    )
    shares: dict[str, dict[str, int]] = {}
    for section, key in (
        ("Where the time went", "e.type::text"),
        ("Projects", "p.id::text"),
        ("Value", "e.value_rating::text"),
        ("Impact", "e.impact_level::text"),
    ):
        rows = await pg.fetch(
            f"SELECT {key} AS key, min(p.name) AS name, sum(e.duration_minutes)::int AS minutes "
            f"{where} GROUP BY {key}",
            *scope,
        )
        shares[section] = {_label(section, row): row["minutes"] for row in rows}

    what = f"{report['kind']} {report['period_start']}..{report['period_end']}"
    text = report["content"].replace("**", "")
    stated = TOTAL.search(text)
    assert stated is not None, f"{what}: no total line in\n{report['content']}"
    assert (_number(stated[1]), _number(stated[2]), _number(stated[3])) == (
        _hours(total),
        count,
        days,
    ), f"{what}: {stated[0]!r} but SQL says {total} min, {count} entries, {days} days"
    sections = _first_sections(text)
    assert "Where the time went" in sections, f"{what}: no activity figures"
    for title in FIGURE_SECTIONS:
        for line in sections.get(title, []):
            share = SHARE.match(line)
            assert share is not None, f"{what}: {title}: not a figure line: {line!r}"
            label, stated_hours, stated_percent = share.groups()
            minutes = shares[title].get(label)
            assert minutes is not None, f"{what}: {title}: {label!r} has no entries in SQL"
            assert (_number(stated_hours), int(stated_percent)) == (
                _hours(minutes),
                _percent(minutes, total),
            ), f"{what}: {line!r} but SQL says {minutes} of {total} min"


def _label(section: str, row: asyncpg.Record) -> str:
    key = row["key"]
    if section == "Where the time went":
        return type_label(key)
    if section == "Projects":
        return str(row["name"]) if key is not None else NO_PROJECT
    return f"{key.title()} {'value' if section == 'Value' else 'impact'}"


def _first_sections(text: str) -> dict[str, list[str]]:
    """The list items under the first heading of each figure section (a model's own section
    of the same name comes later, after EngLog's)."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("## ") or line.strip() == "---":
            title = line[3:].strip()
            current = None
            if title in FIGURE_SECTIONS and title not in sections:
                current = sections[title] = []
        elif current is not None and line.startswith("- "):
            current.append(line.strip())
    return sections
