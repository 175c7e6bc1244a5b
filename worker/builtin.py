"""The built-in summariser: a plain report from the metrics when no Ollama is reachable.

It states what it is in the text as well as in `Generation.model` ("builtin"): a fallback that
lists facts, never presented as a language model's analysis.
"""

from __future__ import annotations

from worker.jobs import InsightJob
from worker.prompt import clean, hours, kind_spec, period_facts, plural, share, type_label

NOTICE = (
    "*Written by EngLog's built-in summariser from your logged metrics, not by a language "
    "model: no model was available when this report was made.*"
)


def builtin_report(job: InsightJob) -> str:
    """A Markdown report of the period's totals, activity mix, projects, value and highlights."""
    spec = kind_spec(job.kind)
    facts = period_facts(job)
    total = facts.total_minutes
    out = [f"# {spec.title}: {job.period_start} to {job.period_end}", "", NOTICE, ""]
    if total <= 0:
        out.append("No work was logged in this period.")
        return "\n".join(out) + "\n"

    out.append(
        f"You logged **{hours(total)}** in **{plural(facts.entry_count, 'entry', 'entries')}** "
        f"on **{plural(facts.active_days, 'day')}**."
    )

    def section(title: str, items: list[tuple[str, int]], limit: int) -> None:
        if items:
            out.extend(["", f"## {title}"])
            out.extend(f"- {name}: {hours(m)} ({share(m, total)})" for name, m in items[:limit])

    section("Where the time went", [(type_label(k), m) for k, m in facts.by_type], 6)
    section("Projects", [(clean(k, 60), m) for k, m in facts.by_project], 6)
    section("Value", [(f"{k.title()} value", m) for k, m in facts.by_value], 3)
    section("Impact", [(f"{k.title()} impact", m) for k, m in facts.by_impact], 4)

    rhythm = []
    if facts.value_impact_score is not None:
        rhythm.append(f"- Value/impact score: {facts.value_impact_score:g} of 100")
    if facts.average_daily_hours is not None:
        rhythm.append(f"- Average per active day: {facts.average_daily_hours:g} h")
    if facts.peak_hour is not None:
        end = (facts.peak_hour + 1) % 24
        rhythm.append(f"- Busiest hour: {facts.peak_hour:02d}:00–{end:02d}:00")
    if facts.top_tags:
        rhythm.append("- Frequent tags: " + ", ".join(clean(t, 30) for t, _ in facts.top_tags))
    if rhythm:
        out.extend(["", "## Patterns", *rhythm])

    best = sorted(
        (e for e in job.entries if e.value_rating == "HIGH" or e.impact_level == "COMPANY"),
        key=lambda e: -e.minutes,
    )[:5]
    if best:
        out.extend(["", "## Highest-value work"])
        out.extend(
            f"- {e.date}: {clean(e.title, 80)} ({type_label(e.type)}, {hours(e.minutes)}, "
            f"{e.value_rating.lower()} value, {e.impact_level.lower()} impact)"
            for e in best
        )

    focus = [clean(f, 80) for f in job.focus_areas[:5] if clean(f, 80)]
    if focus:
        out.extend(
            [
                "",
                f"Focus areas asked for ({'; '.join(focus)}) need a language model to discuss; "
                "this report only lists the numbers.",
            ]
        )
    return "\n".join(out) + "\n"
