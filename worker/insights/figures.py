"""The figures of a report, rendered by EngLog from the metrics the API computed in SQL.

Every number a report states about the period is written here, never by a model: the
totals, the activity mix, the projects, value and impact, and the rhythm (busiest hour and
day, average per active day, the value/impact score). Rounding is half away from zero, as
PostgreSQL rounds, so each figure equals the same figure recomputed in SQL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from worker.jobs import InsightJob
from worker.prompt import PeriodFacts, clean, hours, kind_spec, period_facts, plural, share
from worker.prompt import type_label as _type_label

NOTHING_LOGGED = "No work was logged in this period."
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class FigureLimits:
    """How much of each breakdown a kind shows, and whether it has a rhythm across days."""

    types: int = 6
    projects: int = 6
    across_days: bool = True  # busiest day and average per active day


# A day has no busiest day; the longer reports show more of their projects.
LIMITS: Mapping[str, FigureLimits] = {
    "DAILY_SUMMARY": FigureLimits(types=4, projects=4, across_days=False),
    "QUARTERLY_REVIEW": FigureLimits(projects=8),
    "ANNUAL_ASSESSMENT": FigureLimits(projects=10),
    "PERFORMANCE_REVIEW": FigureLimits(projects=8),
}


def limits_of(kind: str) -> FigureLimits:
    return LIMITS.get(kind, FigureLimits())


def busiest_day(job: InsightJob, facts: PeriodFacts) -> tuple[str, int] | None:
    """The day with the most minutes (the earliest of equal ones), when the job carries every
    entry of the period (the API sends at most the newest 500: a subset cannot tell)."""
    if not job.entries or len(job.entries) != facts.entry_count:
        return None
    minutes: Counter[str] = Counter()
    for entry in job.entries:
        minutes[entry.date] += entry.minutes
    day, most = min(minutes.items(), key=lambda item: (-item[1], item[0]))
    return (day, most) if most > 0 else None


def weekday(day: str) -> str:
    return WEEKDAYS[date.fromisoformat(day).weekday()]


def heading(job: InsightJob) -> str:
    return f"# {kind_spec(job.kind).title}: {job.period_start} to {job.period_end}"


def figure_lines(job: InsightJob) -> list[str]:
    """The figure sections in Markdown (no heading of the report, no trailing blank line);
    one line saying nothing was logged for an empty period."""
    facts = period_facts(job)
    limits = limits_of(job.kind)
    total = facts.total_minutes
    if total <= 0:
        return [NOTHING_LOGGED]
    out = [
        f"You logged **{hours(total)}** in **{plural(facts.entry_count, 'entry', 'entries')}** "
        f"on **{plural(facts.active_days, 'day')}**."
    ]

    def section(title: str, items: list[tuple[str, int]], limit: int) -> None:
        if items:
            out.extend(["", f"## {title}"])
            out.extend(f"- {name}: {hours(m)} ({share(m, total)})" for name, m in items[:limit])

    section("Where the time went", [(_type_label(k), m) for k, m in facts.by_type], limits.types)
    section("Projects", [(clean(k, 60), m) for k, m in facts.by_project], limits.projects)
    section("Value", [(f"{k.title()} value", m) for k, m in facts.by_value], 3)
    section("Impact", [(f"{k.title()} impact", m) for k, m in facts.by_impact], 4)

    rhythm = []
    if facts.value_impact_score is not None:
        rhythm.append(f"- Value/impact score: {facts.value_impact_score:g} of 100")
    if limits.across_days and facts.average_daily_hours is not None:
        rhythm.append(f"- Average per active day: {facts.average_daily_hours:g} h")
    if facts.peak_hour is not None:
        end = (facts.peak_hour + 1) % 24
        rhythm.append(f"- Busiest hour: {facts.peak_hour:02d}:00–{end:02d}:00")
    busiest = busiest_day(job, facts) if limits.across_days else None
    if busiest is not None:
        day, minutes = busiest
        rhythm.append(f"- Busiest day: {weekday(day)} {day} ({hours(minutes)})")
    if facts.top_tags:
        rhythm.append("- Frequent tags: " + ", ".join(clean(t, 30) for t, _ in facts.top_tags))
    if rhythm:
        out.extend(["", "## Patterns", *rhythm])
    return out


def model_footer(model: str, *, removed: int) -> str:
    """What the report says about who wrote what (no numbers: the figures are above)."""
    dropped = " Sentences citing figures the log does not hold were left out." if removed else ""
    return (
        f"*The figures above were computed by EngLog from your log; the sections after them "
        f"were written by {clean(model, 60)}, and every number in them was checked against "
        f"the log.{dropped}*"
    )


def assemble(job: InsightJob, sections: Mapping[str, str], *, model: str, removed: int) -> str:
    """The report: EngLog's heading and figures, then the model's (checked) sections in the
    kind's order, then who wrote what."""
    out = [heading(job), "", *figure_lines(job)]
    for title in kind_spec(job.kind).sections:
        body = sections.get(title, "").strip()
        if body:
            out.extend(["", f"## {title}", "", body])
    out.extend(["", "---", "", model_footer(model, removed=removed)])
    return "\n".join(out) + "\n"
