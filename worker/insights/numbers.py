"""Every number of a model's narrative, matched against the period's metrics.

A number is supported when the job says it: a duration (minutes, or hours as rounded from
them), a share (as the metrics round it, or recomputed from the minutes), a count (entries,
active days, projects, activity types), a date inside the period, the busiest hour, a year
of the period, or a number the user wrote themselves (in an entry's title, a project, a tag
or a focus area). Numbers written as words ("three") and numbers inside words ("OAuth2",
"v1", "S3") are not read.

An unsupported number takes its sentence (a list item, or a sentence of prose) out of the
report: the sentence is a claim the log does not back, and a marker in its place would
still read as a claim around it. What was taken out is kept in the insight's checks, so the
user can see it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from worker.jobs import InsightJob
from worker.prompt import PeriodFacts, period_facts

NUMBER = re.compile(
    r"(?<![\w.,:/-])(?:"
    r"(?P<date>\d{4}-\d{1,2}-\d{1,2})"
    r"|(?P<time>\d{1,2}:\d{2})"
    r"|(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:\s?(?P<unit>%|percent\b|per\s?cent\b|hours?\b|hrs?\b|h\b|minutes?\b|mins?\b"
    r"|entries\b|entry\b|days?\b|projects?\b))?"
    r")(?!\w)",
    re.IGNORECASE,
)
UNITS = {
    "%": "percent",
    "percent": "percent",
    "h": "hours",
    "hr": "hours",
    "hrs": "hours",
    "hour": "hours",
    "hours": "hours",
    "min": "minutes",
    "mins": "minutes",
    "minute": "minutes",
    "minutes": "minutes",
    "entry": "entries",
    "entries": "entries",
    "day": "days",
    "days": "days",
    "project": "projects",
    "projects": "projects",
}
# A list item's marker ("- ", "* ", "1. ") is layout, not a number of the text.
LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d{1,2}[.)])\s+")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(*_A-Z])")
MAX_REMOVED_CHARS = 300


@dataclass(frozen=True)
class Number:
    text: str
    kind: str  # date | time | percent | hours | minutes | entries | days | projects | plain
    value: Decimal
    decimals: int


def numbers_in(text: str) -> list[Number]:
    """The numbers written in `text`, each with what it counts (from its unit)."""
    found = []
    for match in NUMBER.finditer(text):
        if match.group("date"):
            found.append(Number(match.group(0), "date", Decimal(0), 0))
        elif match.group("time"):
            found.append(Number(match.group(0), "time", Decimal(0), 0))
        else:
            raw = match.group("num").replace(",", "")
            unit = re.sub(r"\s+", "", (match.group("unit") or "").lower())
            decimals = len(raw.split(".")[1]) if "." in raw else 0
            kind = UNITS.get(unit, "plain")
            found.append(Number(match.group(0), kind, Decimal(raw), decimals))
    return found


@dataclass(frozen=True)
class Evidence:
    """What the period's numbers are, from the job: the values a narrative may cite."""

    start: date
    end: date
    minutes: frozenset[int]
    hours: tuple[Decimal, ...]
    percents: tuple[Decimal, ...]
    entries: frozenset[int]
    days: frozenset[int]
    projects: frozenset[int]
    plain: frozenset[Decimal]
    clock_hours: frozenset[int]
    quoted: frozenset[str]  # numbers as the user wrote them in their own text

    @classmethod
    def of(cls, job: InsightJob) -> Evidence:
        facts = period_facts(job)
        start, end = date.fromisoformat(job.period_start), date.fromisoformat(job.period_end)
        complete = bool(job.entries) and len(job.entries) == facts.entry_count
        minutes = _minutes(job, facts, complete=complete)
        total = facts.total_minutes
        percents = [Decimal(str(v)) for v in _metric_percents(job.metrics)]
        if total > 0:
            percents += [Decimal(100 * m) / total for m in minutes]
        hours = [Decimal(m) / 60 for m in minutes]
        if facts.average_daily_hours is not None and facts.active_days > 0:
            hours.append(Decimal(str(facts.average_daily_hours)))
        entries = {facts.entry_count}
        days = {facts.active_days, (end - start).days + 1}
        if complete:
            for field_ in ("date", "type", "project", "value_rating", "impact_level"):
                entries.update(Counter(getattr(e, field_) for e in job.entries).values())
        named = [k for k, m in facts.by_project if m > 0 and k != "No project"]
        projects = {len(named), len(facts.by_project)}
        counts = {
            *entries,
            *days,
            *projects,
            len(facts.by_type),
        }
        score = facts.value_impact_score
        plain = {Decimal(c) for c in counts} | {Decimal(y) for y in range(start.year, end.year + 1)}
        if score is not None:
            plain.add(Decimal(str(score)))
        clock = set()
        if facts.peak_hour is not None:
            clock = {facts.peak_hour, (facts.peak_hour + 1) % 24}
            plain.add(Decimal(facts.peak_hour))
        return cls(
            start=start,
            end=end,
            minutes=frozenset(minutes),
            hours=tuple(hours),
            percents=tuple(percents),
            entries=frozenset(entries),
            days=frozenset(days),
            projects=frozenset(projects),
            plain=frozenset(plain),
            clock_hours=frozenset(clock),
            quoted=frozenset(_quoted(job)),
        )

    def supports(self, number: Number) -> bool:
        if number.text in self.quoted:
            return True
        if number.kind == "date":
            day = _date(number.text)
            return day is not None and self.start <= day <= self.end
        if number.kind == "time":
            hour, minute = number.text.split(":")
            return minute == "00" and int(hour) in self.clock_hours
        value, decimals = number.value, number.decimals
        if number.kind == "percent":
            return _near(value, decimals, self.percents)
        if number.kind == "hours":
            return _near(value, decimals, self.hours)
        if number.kind == "minutes":
            return decimals == 0 and int(value) in self.minutes
        if number.kind in ("entries", "days", "projects"):
            counts: frozenset[int] = getattr(self, number.kind)
            return decimals == 0 and int(value) in counts
        if decimals == 0 and value in self.plain:
            return True
        # A bare decimal: an hours figure, a share or the score as the facts print them.
        return decimals > 0 and (
            _near(value, decimals, self.hours)
            or _near(value, decimals, self.percents)
            or value in self.plain
        )


@dataclass(frozen=True)
class NumberVerdict:
    """The sections with every unsupported sentence taken out, and what was counted."""

    sections: dict[str, str]
    supported: int = 0
    unsupported: int = 0
    removed: tuple[str, ...] = field(default_factory=tuple)


def check_numbers(sections: Mapping[str, str], evidence: Evidence) -> NumberVerdict:
    """Every number of every section against `evidence`; a sentence holding an unsupported
    one is taken out (and listed in `removed`)."""
    supported = unsupported = 0
    removed: list[str] = []
    kept_sections: dict[str, str] = {}
    for title, body in sections.items():
        kept_lines = []
        for line in body.splitlines():
            marker = LIST_MARKER.match(line)
            prefix = marker.group(0) if marker else ""
            kept = []
            for sentence in SENTENCE_END.split(line[len(prefix) :]):
                numbers = numbers_in(sentence)
                bad = [n for n in numbers if not evidence.supports(n)]
                if bad:
                    unsupported += len(bad)
                    removed.append(_short(sentence))
                else:
                    supported += len(numbers)
                    kept.append(sentence)
            if kept or not line.strip():
                kept_lines.append(prefix + " ".join(kept))
        kept_sections[title] = "\n".join(kept_lines).strip()
    return NumberVerdict(kept_sections, supported, unsupported, tuple(removed))


def _minutes(job: InsightJob, facts: PeriodFacts, *, complete: bool) -> set[int]:
    minutes = {facts.total_minutes}
    for items in (facts.by_type, facts.by_project, facts.by_value, facts.by_impact):
        minutes.update(m for _, m in items)
    # Sums the report's readers would make: high + medium value, product + company impact.
    value = dict(facts.by_value)
    impact = dict(facts.by_impact)
    minutes.add(value.get("HIGH", 0) + value.get("MEDIUM", 0))
    minutes.add(impact.get("PRODUCT", 0) + impact.get("COMPANY", 0))
    if complete:
        minutes.update(e.minutes for e in job.entries)
        per_day: Counter[str] = Counter()
        for entry in job.entries:
            per_day[entry.date] += entry.minutes
        minutes.update(per_day.values())
    return {m for m in minutes if m > 0}


def _metric_percents(metrics: Mapping[str, object]) -> Iterable[float]:
    for key in ("high_value_percent", "product_company_impact_percent"):
        value = metrics.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            yield float(value)
    for key in ("by_type", "by_project", "by_value", "by_impact"):
        items = metrics.get(key)
        if isinstance(items, list):
            for item in items:
                if isinstance(item, Mapping) and isinstance(item.get("percent"), int | float):
                    yield float(item["percent"])


def _quoted(job: InsightJob) -> set[str]:
    texts = [*job.focus_areas]
    for entry in job.entries:
        texts += [entry.title, entry.project or "", *entry.tags]
    return {number.text for text in texts for number in numbers_in(text)}


def _near(value: Decimal, decimals: int, candidates: Iterable[Decimal]) -> bool:
    """Whether some candidate, rounded half up to the precision `value` was written with,
    is `value` (7.5 h may be "8 hours", never "7 hours")."""
    step = Decimal(1).scaleb(-decimals)
    return any(
        candidate.quantize(step, rounding=ROUND_HALF_UP) == value for candidate in candidates
    )


def _date(text: str) -> date | None:
    try:
        year, month, day = (int(part) for part in text.split("-"))
        return date(year, month, day)
    except (ValueError, InvalidOperation):
        return None


def _short(sentence: str) -> str:
    text = " ".join(sentence.split())
    return text if len(text) <= MAX_REMOVED_CHARS else text[: MAX_REMOVED_CHARS - 1] + "…"
