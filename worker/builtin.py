"""The built-in summariser: a plain report from the metrics when no Ollama is reachable.

It states what it is in the text as well as in `Generation.model` ("builtin"): a fallback that
lists facts, never presented as a language model's analysis.
"""

from __future__ import annotations

from worker.insights.figures import NOTHING_LOGGED, figure_lines, heading
from worker.jobs import InsightJob
from worker.prompt import clean, hours, type_label

NOTICE = (
    "*Written by EngLog's built-in summariser from your logged metrics, not by a language "
    "model: no model was available when this report was made.*"
)
# When the model answered, but neither of its answers passed EngLog's checks.
FALLBACK_NOTICE = (
    "*Written by EngLog's built-in summariser from your logged metrics, not by a language "
    "model: the model's answers did not pass EngLog's checks, so none of their text was kept.*"
)


def builtin_report(job: InsightJob, *, notice: str = NOTICE) -> str:
    """A Markdown report of the period's figures (worker/insights/figures.py) and highlights."""
    out = [heading(job), "", notice, "", *figure_lines(job)]
    if out[-1] == NOTHING_LOGGED:
        return "\n".join(out) + "\n"

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
