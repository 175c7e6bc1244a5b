"""Answers a model gives to an insight prompt, good and bad, for the fake Ollama to script.

Each takes the headings the prompt asks for (worker/prompt.py KindSpec.sections) and returns
the text a model would stream. The bad ones are what small models were seen to write: a loop
of dates running past the end of the month, invented totals, an answer cut at the token cap,
nothing at all, another language.
"""

from __future__ import annotations

from collections.abc import Sequence

from worker.prompt import kind_spec

# One body a section (a model that writes the same paragraph under each heading loops).
BODIES = (
    "You moved the main work of the period forward and kept the log honest about where the "
    "time went. The work with the most value was also where most of the effort was spent.",
    "Meetings stayed light, and the debugging was focused on one flaky test rather than "
    "spread across the week. There were few interruptions in the log.",
    "Keep protecting the long blocks of coding time, and write down what each review found "
    "so that the next report can show it.",
    "Mentoring and reviews are where the team felt your work; ask for feedback on them.",
)
PROSE = BODIES[0]
FRENCH = (
    "Vous avez beaucoup travaillé sur le projet pendant cette période, avec des réunions "
    "nombreuses et une revue de code importante pour toute l'équipe.",
    "Les interruptions restent rares; le débogage a pris une matinée entière, sans plus.",
    "Pour la semaine prochaine, gardez des plages longues pour écrire du code tranquille.",
    "Le mentorat a aidé deux collègues à avancer sur leurs propres tâches difficiles.",
)


def sections_of(kind: str) -> tuple[str, ...]:
    return kind_spec(kind).sections


def narrative(headings: Sequence[str], bodies: Sequence[str] | None = None) -> str:
    """A well-formed answer: a short preamble, then every heading with its body (BODIES)."""
    parts = ["Here is the narrative you asked for.", ""]
    for index, heading in enumerate(headings):
        given = bodies[index] if bodies is not None and index < len(bodies) else ""
        body = given or BODIES[index % len(BODIES)]
        parts += [f"## {heading}", body, ""]
    return "\n".join(parts)


def date_loop(lines: int = 44) -> str:
    """A list of dates that runs on past the end of the month (2026-13-1, 2026-14-5…)."""
    out = []
    for index in range(lines):
        month, day = 11 + index // 10, 1 + index % 10
        out.append(f"- 2026-{month}-{day}: 2026-{month}-{day + 1}")
    return "\n".join(out) + "\n"


def invented_totals(headings: Sequence[str]) -> str:
    """Well-formed, but three of its figures are the model's own: 62.5 h, 14 entries, 85%."""
    invented = (
        "You logged 62.5 hours across 14 entries this period. " + BODIES[0],
        "Coding took 85% of the time. " + BODIES[1],
    )
    return narrative(headings, invented)


def cut_off(headings: Sequence[str]) -> str:
    """Every section but the last, which stops mid-sentence (the fake says "length")."""
    text = narrative(headings[:-1])
    return text + f"## {headings[-1]}\nNext, you could focus on the"


def wrong_language(headings: Sequence[str]) -> str:
    return narrative(headings, [FRENCH[i % len(FRENCH)] for i in range(len(headings))])


# A short well-formed weekly answer in 20 deltas, for tests that time a stream by its deltas
# (a worker killed or stopped mid-answer), and the sections it is stored as.
WEEKLY_TOKENS = (
    "## Accomplishments\n",
    "You fixed ",
    "the flaky deploy ",
    "and reviewed ",
    "the pipeline ",
    "with the team.\n\n",
    "## Observations\n",
    "The week ",
    "was calm, ",
    "and the work ",
    "stayed focused.\n\n",
    "## Focus for next week\n",
    "Keep the release ",
    "on track ",
    "and protect ",
    "the time ",
    "for reviews ",
    "and for ",
    "the deploy ",
    "work.\n",
)
WEEKLY_STORED = (
    "## Accomplishments\n\nYou fixed the flaky deploy and reviewed the pipeline with the team."
    "\n\n## Observations\n\nThe week was calm, and the work stayed focused.\n\n"
    "## Focus for next week\n\nKeep the release on track and protect the time for reviews "
    "and for the deploy work.\n"
)
