"""The built-in summariser: honest numbers, labelled as not written by a model."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from protos.vocabulary import BUILTIN_MODEL
from tests.worker import JOB
from worker.builtin import NOTICE, builtin_report
from worker.jobs import InsightJob


def weekly(**changes: Any) -> InsightJob:
    return replace(JOB, **changes)


def test_the_report_lists_the_periods_figures_and_says_no_model_wrote_it() -> None:
    assert builtin_report(weekly(focus_areas=("code review",))) == "\n".join(
        [
            "# Weekly report: 2026-11-02 to 2026-11-08",
            "",
            NOTICE,
            "",
            "You logged **7.5 h** in **3 entries** on **2 days**.",
            "",
            "## Where the time went",
            "- Coding: 4.5 h (60%)",
            "- Debugging: 2.0 h (27%)",
            "- Meetings: 1.0 h (13%)",
            "",
            "## Projects",
            "- API: 6.5 h (87%)",
            "- No project: 1.0 h (13%)",
            "",
            "## Value",
            "- High value: 4.5 h (60%)",
            "- Low value: 2.0 h (27%)",
            "- Medium value: 1.0 h (13%)",
            "",
            "## Impact",
            "- Product impact: 4.5 h (60%)",
            "- Team impact: 3.0 h (40%)",
            "",
            "## Patterns",
            "- Value/impact score: 49.7 of 100",
            "- Average per active day: 3.75 h",
            "- Busiest hour: 09:00–10:00",
            "- Busiest day: Monday 2026-11-02 (5.5 h)",
            "",
            "## Highest-value work",
            "- 2026-11-02: Implemented cursor pagination (Coding, 4.5 h, high value, "
            "product impact)",
            "",
            "Focus areas asked for (code review) need a language model to discuss; "
            "this report only lists the numbers.",
            "",
        ]
    )
    assert "not by a language model" in NOTICE
    assert BUILTIN_MODEL == "builtin"


def test_without_metrics_the_report_counts_the_entries() -> None:
    report = builtin_report(weekly(metrics={}))

    assert "You logged **7.5 h** in **3 entries** on **2 days**." in report
    assert "- No project: 1.0 h (13%)" in report
    # Only what the entries tell: with every entry of the period, the busiest day.
    assert "## Patterns\n- Busiest day: Monday 2026-11-02 (5.5 h)\n\n" in report
    assert "Busiest hour" not in report


def test_an_empty_period_says_nothing_was_logged() -> None:
    report = builtin_report(weekly(metrics={"total_minutes": 0, "total_entries": 0}, entries=()))

    assert report == (
        f"# Weekly report: 2026-11-02 to 2026-11-08\n\n{NOTICE}\n\n"
        "No work was logged in this period.\n"
    )
