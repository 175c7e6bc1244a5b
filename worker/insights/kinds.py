"""What each insight kind asks of the model: its title, its instructions, the narrative
sections it writes (EngLog writes the figures), and its output budget."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KindSpec:
    title: str
    instructions: str
    expected_tokens: int  # for the progress estimate
    # The narrative the model writes, one "## " heading each; EngLog writes the figures.
    sections: tuple[str, ...] = ()
    # Ollama's num_predict: the most tokens an answer may take (a loop ends here at worst).
    num_predict: int = 700


FIGURES_ARE_ENGLOG = (
    " EngLog prints the hours, percentages and counts itself, so do not list totals or "
    "shares; cite a number only when it appears in the facts given."
)


def _narrative(sections: tuple[str, ...], what: str, words: int) -> str:
    headings = ", ".join(f"“## {section}”" for section in sections)
    return (
        f"Write {what} under exactly these Markdown headings, in this order: {headings}. "
        f"Plain English prose or short bullet points, at most {words} words in all."
        + FIGURES_ARE_ENGLOG
    )


def _spec(title: str, sections: tuple[str, ...], what: str, words: int, expected: int) -> KindSpec:
    # The budget leaves a small model room for its Markdown, not for a second report.
    return KindSpec(
        title, _narrative(sections, what, words), expected, sections, num_predict=expected * 2
    )


KINDS: dict[str, KindSpec] = {
    "DAILY_SUMMARY": _spec(
        "Daily summary",
        ("What got done", "Tomorrow"),
        "a short daily summary: what got done, then what deserves attention tomorrow",
        150,
        250,
    ),
    "WEEKLY_REPORT": _spec(
        "Weekly report",
        ("Accomplishments", "Observations", "Focus for next week"),
        "a weekly report: the accomplishments, observations (interruptions, meeting load, "
        "low-value work) and the focus for next week",
        300,
        500,
    ),
    "SPRINT_ANALYSIS": _spec(
        "Sprint analysis",
        ("Delivered", "Observations", "Changes for the next sprint"),
        "a sprint analysis: what was delivered, how planned work fared against "
        "interruptions, meetings and support, and two or three concrete changes",
        350,
        600,
    ),
    "MONTHLY_INSIGHTS": _spec(
        "Monthly insights",
        ("Themes", "Observations", "Suggestions"),
        "the month's patterns: the main themes of work, how the mix of activities and value "
        "changed, recurring time sinks, and three suggestions",
        400,
        650,
    ),
    "QUARTERLY_REVIEW": _spec(
        "Quarterly review",
        ("Contributions", "Growth", "Goals for next quarter"),
        "a quarterly review: the major contributions and their impact, the growth shown "
        "(mentoring, learning, reviews) and goals for next quarter",
        450,
        800,
    ),
    "ANNUAL_ASSESSMENT": _spec(
        "Annual assessment",
        ("Themes of the year", "Contributions", "Next year"),
        "a year in review: the themes of the year, the biggest contributions and who they "
        "helped, and what to aim for next year",
        500,
        900,
    ),
    "PERFORMANCE_REVIEW": _spec(
        "Performance review draft",
        ("Impact", "Collaboration", "Growth", "Areas to develop"),
        "a self-assessment for a performance review, in the first person: impact delivered "
        "(with the evidence from the log), collaboration and mentoring, technical growth, "
        "and areas to develop; factual and modest, no superlatives",
        500,
        900,
    ),
}
DEFAULT_KIND = KINDS["WEEKLY_REPORT"]
