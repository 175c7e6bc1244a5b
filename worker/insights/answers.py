"""A model's answer read into the sections asked for, and the checks that refuse it.

Each check is one object with a `name` and a `problem(answer)` (None: fine), run in order;
the first problem found is why the answer is not stored. They look for what small models
write when they fail: nothing, an answer cut by the token cap, a loop, the sections
ignored, another language, a wall of dates or numbers, figures the log does not hold.

The language check is a heuristic for English, the language of every prompt: the share of
the most common English function words among the answer's words.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from worker.insights.numbers import NumberVerdict
from worker.jobs import LOOP_CUT

# Ollama's done_reason of an answer that reached num_predict.
LENGTH = "length"

_HEADING = re.compile(r"^\s{0,3}(?P<hashes>#{1,6})?\s*(?P<title>.+?)\s*$")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_DIGIT = re.compile(r"\d")
_STOPWORDS = """a about after all also an and are as at be been but by can for from had has
have he her his how i if in into is it its it's more most my no not of on or our out so than
that the their them then there these they this to up was we were what when which while who
will with you your"""
STOPWORDS = frozenset(_STOPWORDS.split())

MIN_WORDS = 12
MIN_STOPWORD_SHARE = 0.12
MAX_DIGIT_SHARE = 0.25
MAX_REPEATED_SHARE = 0.4
GRAM = 4


def normalise_title(text: str) -> str:
    return " ".join(re.sub(r"[#*_:`“”\"'.]+", " ", text).lower().split())


def split_sections(text: str, requested: Sequence[str]) -> dict[str, str]:
    """The text under each requested heading ("## Accomplishments", "**Accomplishments:**",
    "Accomplishments:" on a line of its own, any case). Text before the first one (a
    preamble) and under headings not asked for (a figures table of the model's own) is
    dropped; a heading met twice keeps both parts."""
    wanted = {normalise_title(title): title for title in requested}
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.splitlines():
        match = _HEADING.match(line)
        if match is not None and _is_heading(line, match, wanted):
            current = wanted.get(normalise_title(match.group("title")))
            if current is not None:
                sections.setdefault(current, [])
            continue
        if current is not None:
            sections[current].append(line)
    return {title: "\n".join(lines).strip() for title, lines in sections.items()}


def _is_heading(line: str, match: re.Match[str], wanted: Mapping[str, str]) -> bool:
    if match.group("hashes"):
        return True  # any Markdown heading ends the section before it
    stripped = line.strip()
    bold = stripped.startswith(("**", "__")) and stripped.rstrip(":").endswith(("**", "__"))
    known = normalise_title(match.group("title")) in wanted
    return known and (bold or stripped.endswith(":") or len(stripped.split()) <= 6)


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def repeated_share(text: str) -> float:
    """The share of the text's word 4-grams (digits as 0, so dates look alike) that repeat an
    earlier one: near 0 in prose, near 1 in a loop."""
    tokens = _DIGIT.sub("0", text.lower()).split()
    grams = [tuple(tokens[i : i + GRAM]) for i in range(len(tokens) - GRAM + 1)]
    if len(grams) < 20:
        return 0.0
    return 1 - len(set(grams)) / len(grams)


def repeated_lines(text: str) -> int:
    """How many times the commonest non-blank line (digits as 0) is written."""
    lines = [_DIGIT.sub("0", line.strip().lower()) for line in text.splitlines()]
    counts = Counter(line for line in lines if len(line) > 2)
    return max(counts.values(), default=0)


def looping(text: str) -> bool:
    """Whether the end of a text being streamed is a loop: the stream can stop there."""
    tail = text[-1_200:]
    return repeated_share(tail) > 0.6 or repeated_lines(tail) >= 8


@dataclass(frozen=True)
class Answer:
    """A model's answer as the checks read it."""

    text: str  # as the model wrote it
    sections: dict[str, str]  # split_sections of it
    requested: tuple[str, ...]
    done_reason: str  # Ollama's ("stop", "length"), or LOOP_CUT
    numbers: NumberVerdict


class AnswerCheck(Protocol):
    @property
    def name(self) -> str: ...

    def problem(self, answer: Answer) -> str | None: ...


@dataclass(frozen=True)
class NotEmpty:
    name: str = "empty"

    def problem(self, answer: Answer) -> str | None:
        count = len(words(answer.text))
        if count == 0:
            return "the answer was empty"
        return f"the answer was nearly empty ({count} words)" if count < MIN_WORDS else None


@dataclass(frozen=True)
class NotLooping:
    name: str = "loop"

    def problem(self, answer: Answer) -> str | None:
        if answer.done_reason == LOOP_CUT:
            return "the answer repeated itself and was stopped"
        if repeated_share(answer.text) > MAX_REPEATED_SHARE or repeated_lines(answer.text) >= 4:
            return "the answer repeated itself"
        return None


@dataclass(frozen=True)
class NotCut:
    name: str = "cut"

    def problem(self, answer: Answer) -> str | None:
        if answer.done_reason == LENGTH:
            return "the answer was cut off at its token limit"
        return None


@dataclass(frozen=True)
class HasSections:
    name: str = "sections"

    def problem(self, answer: Answer) -> str | None:
        missing = [t for t in answer.requested if not answer.sections.get(t, "").strip()]
        return f"the answer left out the sections {', '.join(missing)}" if missing else None


@dataclass(frozen=True)
class InEnglish:
    name: str = "language"

    def problem(self, answer: Answer) -> str | None:
        found = words(answer.text)
        if len(found) < MIN_WORDS:
            return None
        share = sum(w in STOPWORDS for w in found) / len(found)
        return "the answer was not in English" if share < MIN_STOPWORD_SHARE else None


@dataclass(frozen=True)
class NotNumberWall:
    name: str = "numbers"

    def problem(self, answer: Answer) -> str | None:
        tokens = answer.text.split()
        if len(tokens) < 10:
            return None
        share = sum(bool(_DIGIT.search(t)) for t in tokens) / len(tokens)
        return "the answer was mostly dates and numbers" if share > MAX_DIGIT_SHARE else None


@dataclass(frozen=True)
class FiguresHold:
    """Some invented figures are taken out sentence by sentence (numbers.py); an answer made
    mostly of them, or left with an empty section by their removal, is not a report."""

    name: str = "figures"

    def problem(self, answer: Answer) -> str | None:
        verdict = answer.numbers
        if verdict.unsupported >= 4 and verdict.unsupported > verdict.supported:
            return (
                f"{verdict.unsupported} of the answer's "
                f"{verdict.unsupported + verdict.supported} numbers are not in the log"
            )
        emptied = [t for t in answer.requested if not verdict.sections.get(t, "").strip()]
        if emptied:
            return f"nothing the log supports was left in {', '.join(emptied)}"
        return None


# A loop or a wall of dates first: such an answer has few words, and "empty" would hide why.
CHECKS: tuple[AnswerCheck, ...] = (
    NotLooping(),
    NotCut(),
    NotNumberWall(),
    NotEmpty(),
    InEnglish(),
    HasSections(),
    FiguresHold(),
)


def first_problem(answer: Answer, checks: Sequence[AnswerCheck] = CHECKS) -> str | None:
    for check in checks:
        problem = check.problem(answer)
        if problem is not None:
            return problem
    return None
