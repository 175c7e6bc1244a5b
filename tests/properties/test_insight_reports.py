"""For generated entry sets, every number in every stored report (the built-in summariser's
and a fake model's) equals an independent SQL recomputation of the period's figures."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest
from hypothesis import settings
from hypothesis import strategies as st

from graph.context import AppState
from tests.factories import Account, Api
from tests.fakes.insight_answers import BODIES, narrative
from tests.fakes.ollama import FakeOllama, Script
from tests.graph.insights.writing import write_insight
from tests.properties.harness import EXAMPLES, for_all
from tests.worker import worker_settings
from worker.llm import OllamaLLM
from worker.prompt import kind_spec

MODEL = "llama3.2:3b"
REPORTS = settings(EXAMPLES, max_examples=8)  # each example writes two reports
PERIOD_START, PERIOD_END = "2026-11-02", "2026-11-08"  # Europe/London is UTC in November
# Every number a report writes: not inside a word (a model's name, "v1") and not a marker.
NUMBER = re.compile(r"(?<![\w.:/-])\d[\d,]*(?:\.\d+)?(?:-\d+-\d+|:\d+)?(?![\w-])")
TITLES = ("Reviewed the pipeline", "Fixed the flaky deploy", "Planning", "Wrote the docs")
ENTRY = st.fixed_dictionaries(
    {
        "day": st.integers(min_value=0, max_value=6),
        "hour": st.integers(min_value=0, max_value=23),
        "minutes": st.integers(min_value=1, max_value=600),
        "title": st.sampled_from(TITLES),
        "type": st.sampled_from(("CODE", "MEETING", "REVIEW", "DEBUG")),
        "valueRating": st.sampled_from(("LOW", "MEDIUM", "HIGH")),
        "impactLevel": st.sampled_from(("PERSONAL", "TEAM", "PRODUCT", "COMPANY")),
        "project": st.sampled_from((None, "Apollo", "Gemini")),
    }
)
CASES = st.tuples(
    st.lists(ENTRY, min_size=0, max_size=8),
    st.sampled_from(("WEEKLY_REPORT", "MONTHLY_INSIGHTS", "PERFORMANCE_REVIEW")),
)


@pytest.fixture(scope="module")
def ollama() -> Iterator[FakeOllama]:
    with FakeOllama(Script(models=(MODEL,))) as fake:
        yield fake


@pytest.fixture
async def llm(ollama: FakeOllama) -> AsyncIterator[OllamaLLM]:
    async with OllamaLLM(worker_settings(ollama.url)) as client:
        yield client


async def figures_in_sql(pg: asyncpg.Connection, user_id: str) -> set[str]:
    """Every figure of the period as a report may print it, computed here in SQL."""
    period = """SELECT e.*, coalesce(p.name, 'No project') AS project,
                       (e.start_time AT TIME ZONE 'Europe/London')::date AS day,
                       extract(hour FROM e.start_time AT TIME ZONE 'Europe/London')::int AS hour
                FROM log_entry AS e LEFT JOIN project AS p ON p.id = e.project_id
                WHERE e.user_id = $1"""
    user = uuid.UUID(user_id)
    total = await pg.fetchval(
        f"SELECT coalesce(sum(duration_minutes), 0) FROM ({period}) AS x",
        user,
    )
    found = {PERIOD_START, PERIOD_END, "100"}  # the period, and the score's scale
    groups = ["type", "project", "value_rating", "impact_level", "day", "id", "()"]
    for group in groups:
        rows = await pg.fetch(
            f"""SELECT round(sum(duration_minutes) / 60.0, 1) AS hours,
                       round(100.0 * sum(duration_minutes) / nullif($2, 0)) AS percent,
                       count(*) AS entries, count(DISTINCT day) AS days,
                       round(sum(duration_minutes) / 60.0 / count(DISTINCT day), 2) AS average
                FROM ({period}) AS x GROUP BY {group}""",
            user,
            total,
        )
        for row in rows:
            if row["hours"] is None:  # no entries: the () grouping's one row
                continue
            found |= {f"{row['hours']:,}", str(row["percent"])}
            if group == "()":
                found |= {str(row["entries"]), str(row["days"]), f"{float(row['average']):g}"}
    for row in await pg.fetch(f"SELECT DISTINCT day FROM ({period}) AS x", user):
        found.add(row["day"].isoformat())
    peak = await pg.fetchval(
        f"SELECT hour FROM ({period}) AS x GROUP BY hour "
        "ORDER BY sum(duration_minutes) DESC, hour LIMIT 1",
        user,
    )
    if peak is not None:
        found |= {f"{peak:02d}:00", f"{(peak + 1) % 24:02d}:00"}
    score = await pg.fetchval(
        f"""SELECT round(((sum(duration_minutes * (CASE value_rating WHEN 'LOW' THEN 1
                   WHEN 'MEDIUM' THEN 2 ELSE 3 END) * (CASE impact_level WHEN 'PERSONAL'
                   THEN 1 WHEN 'TEAM' THEN 2 WHEN 'PRODUCT' THEN 3 ELSE 4 END))::numeric
                   / nullif(sum(duration_minutes), 0)) - 1) / 11 * 100, 1)
            FROM ({period}) AS x""",
        user,
    )
    if score is not None:
        found.add(f"{float(score):g}")
    return found


async def create_entries(api: Api, account: Account, entries: list[dict[str, Any]]) -> None:
    projects: dict[str, str] = {}
    inputs = []
    for entry in entries:
        name = entry["project"]
        if name is not None and name not in projects:
            projects[name] = (await api.create_project(account, name))["id"]
        start = datetime.fromisoformat(f"{PERIOD_START}T00:00:00+00:00") + timedelta(
            days=entry["day"], hours=entry["hour"]
        )
        inputs.append(
            {
                "title": entry["title"],
                "type": entry["type"],
                "valueRating": entry["valueRating"],
                "impactLevel": entry["impactLevel"],
                "projectId": projects.get(name) if name else None,
                "startTime": start.isoformat(),
                "endTime": (start + timedelta(minutes=entry["minutes"])).isoformat(),
            }
        )
    if inputs:
        await api.data(
            "mutation($i: [CreateLogEntryInput!]!) { createLogEntries(inputs: $i) { id } }",
            {"i": inputs},
            account.access_token,
        )


async def test_every_number_of_every_stored_report_is_a_figure_recomputed_in_sql(
    api: Api, pg: asyncpg.Connection, app_state: AppState, ollama: FakeOllama, llm: OllamaLLM
) -> None:
    async def check(case: tuple[list[dict[str, Any]], str]) -> None:
        entries, kind = case
        account = await api.sign_up()
        await create_entries(api, account, entries)
        figures = await figures_in_sql(pg, account.user_id)
        hours = sorted((f for f in figures if "." in f and "-" not in f), key=len)
        # The model cites one true figure (some hours of the period) and invents two.
        cited = f"Some of the work took {hours[-1]} h. " if hours else ""
        bodies = [
            f"{cited}You also logged 999.5 hours on 2099-01-01. {BODIES[0]}",
            *BODIES[1:],
        ]
        ollama.script = Script(models=(MODEL,), reply=narrative(kind_spec(kind).sections, bodies))
        for model in (None, llm):
            request = {"kind": kind, "periodStart": PERIOD_START, "periodEnd": PERIOD_END}
            data = await api.data(
                "mutation($i: RequestInsightInput!) { requestInsight(input: $i) { id } }",
                {"i": request},
                account.access_token,
            )
            insight_id = data["requestInsight"]["id"]
            await write_insight(app_state.db, insight_id, model)
            row = await pg.fetchrow(
                "SELECT status, model, content FROM insight WHERE id = $1",
                uuid.UUID(insight_id),
            )
            assert row["status"] == "COMPLETED"
            assert row["model"] == ("builtin" if model is None else MODEL)
            written = set(NUMBER.findall(row["content"]))
            assert written <= figures, (written - figures, row["content"])
            assert "999.5" not in row["content"]

    await for_all(CASES, check, REPORTS)
