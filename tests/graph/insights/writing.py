"""An insight written the way a worker writes it, in this process: its task's job through the
wire conversion into the worker's insight task (with the fake Ollama, or no model), its
Success through the API's checks and the kind's hooks. And the figures of its period
recomputed in SQL, independently of db/queries/productivity.py and the worker's rendering."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import queue
from db.queries import insight as insights
from graph.insights.task import INSIGHT_TASK
from graph.tasks.results import check_success
from worker.jobs import InsightJob
from worker.llm import OllamaLLM
from worker.prompt import TYPE_LABELS  # the wording, not a figure: the report's own
from worker.runner import from_message, success_of
from worker.tasks import insight as insight_task
from worker.tasks.kinds import Context, Tools

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


async def _ignore(delta: str, percent: int) -> None:
    return None


async def write_insight(
    sessions: async_sessionmaker[AsyncSession], insight_id: str, llm: OllamaLLM | None
) -> None:
    async with sessions() as session:
        row = await insights.load_insight(session, insight_id=uuid.UUID(insight_id))
        assert row is not None
        assert row.task_id is not None
        task = await queue.get_task(session, task_id=row.task_id)
        assert task is not None
    job = from_message(INSIGHT_TASK.job_message(task.payload)["insight"], InsightJob)
    context = Context(tools=Tools(llm=llm, mailer=None), task_id=str(task.id), progress=_ignore)
    result = check_success(success_of(await insight_task.run(job, context)))
    async with sessions() as session, session.begin():
        await INSIGHT_TASK.on_leased(session, payload=task.payload)
        await INSIGHT_TASK.on_success(session, payload=task.payload, result=result)


def without_tags(content: str) -> str:
    """The report without its tags line: names, not figures."""
    return "\n".join(
        line for line in content.split("\n") if not line.startswith("- Frequent tags:")
    )


async def sql_figures(
    pg: asyncpg.Connection,
    *,
    user_id: str,
    timezone: str,
    period_start: str,
    period_end: str,
    daily: bool = False,
) -> str:
    """The figure sections of a report on the period, each number from its own SQL."""
    period = """
        SELECT e.type, coalesce(p.name, 'No project') AS project, e.value_rating,
               e.impact_level, e.duration_minutes AS minutes,
               (e.start_time AT TIME ZONE $2)::date AS day,
               extract(hour FROM e.start_time AT TIME ZONE $2)::int AS hour
        FROM log_entry AS e LEFT JOIN project AS p ON p.id = e.project_id
        WHERE e.user_id = $1
          AND (e.start_time AT TIME ZONE $2)::date BETWEEN $3::date AND $4::date
    """
    args: tuple[Any, ...] = (
        uuid.UUID(user_id),
        timezone,
        date.fromisoformat(period_start),
        date.fromisoformat(period_end),
    )
    total = await pg.fetchrow(
        f"""SELECT coalesce(sum(minutes), 0) AS minutes, count(*) AS entries,
                   count(DISTINCT day) AS days,
                   round(coalesce(sum(minutes), 0) / 60.0, 1) AS hours,
                   round(coalesce(sum(minutes), 0) / 60.0 / nullif(count(DISTINCT day), 0), 2)
                     AS average,
                   round(((sum(minutes * (CASE value_rating WHEN 'LOW' THEN 1 WHEN 'MEDIUM'
                     THEN 2 ELSE 3 END) * (CASE impact_level WHEN 'PERSONAL' THEN 1
                     WHEN 'TEAM' THEN 2 WHEN 'PRODUCT' THEN 3 ELSE 4 END))::numeric
                     / nullif(sum(minutes), 0)) - 1) / 11 * 100, 1) AS score
            FROM ({period}) AS x""",
        *args,
    )
    if total["minutes"] == 0:
        return "No work was logged in this period."
    heading = f"on **{total['days']} day{'s' if total['days'] != 1 else ''}**."
    entries = f"{total['entries']} entr{'ies' if total['entries'] != 1 else 'y'}"
    out = [f"You logged **{total['hours']:,} h** in **{entries}** {heading}"]

    async def section(title: str, column: str, label: Any, limit: int) -> None:
        rows = await pg.fetch(
            f"""SELECT {column} AS key, round(sum(minutes) / 60.0, 1) AS hours,
                       round(100.0 * sum(minutes) / $5) AS percent
                FROM ({period}) AS x GROUP BY {column}
                ORDER BY sum(minutes) DESC, {column} COLLATE "C" LIMIT {limit}""",
            *args,
            total["minutes"],
        )
        if rows:
            out.extend(["", f"## {title}"])
            out.extend(f"- {label(r['key'])}: {r['hours']:,} h ({r['percent']}%)" for r in rows)

    await section("Where the time went", "type", TYPE_LABELS.__getitem__, 4 if daily else 6)
    await section("Projects", "project", str, 4 if daily else 6)
    await section("Value", "value_rating", lambda k: f"{k.title()} value", 3)
    await section("Impact", "impact_level", lambda k: f"{k.title()} impact", 4)
    peak = await pg.fetchval(
        f"SELECT hour FROM ({period}) AS x GROUP BY hour ORDER BY sum(minutes) DESC, hour LIMIT 1",
        *args,
    )
    busiest = await pg.fetchrow(
        f"SELECT day, round(sum(minutes) / 60.0, 1) AS hours FROM ({period}) AS x "
        "GROUP BY day ORDER BY sum(minutes) DESC, day LIMIT 1",
        *args,
    )
    out.extend(["", "## Patterns", f"- Value/impact score: {float(total['score']):g} of 100"])
    if not daily:
        out.append(f"- Average per active day: {float(total['average']):g} h")
    out.append(f"- Busiest hour: {peak:02d}:00–{(peak + 1) % 24:02d}:00")
    if not daily:
        day = busiest["day"]
        out.append(f"- Busiest day: {WEEKDAYS[day.weekday()]} {day} ({busiest['hours']:,} h)")
    return "\n".join(out)
