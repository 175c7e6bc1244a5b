"""The Markdown downloads: entries as a brag document (ISO week, then project, with their
durations), and the text helpers the insight's Markdown and PDF share."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from db.queries.entry_export import ExportedEntry

if TYPE_CHECKING:
    from graph.exports.params import EntrySelection

_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")
_SPACES = re.compile(r"\s+")
NO_PROJECT = "No project"


def inline(text: str) -> str:
    """User text as one line of Markdown that renders as written (no markup, no HTML)."""
    return _INLINE_SPECIAL.sub(r"\\\1", _SPACES.sub(" ", text).strip())


def duration(minutes: int) -> str:
    """Minutes as people say them: "45 min", "2 h", "1 h 30 min"."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def _label(text: str) -> str:
    return text.replace("_", " ").capitalize()


class BragDocument:
    """Entries, ordered by week then project (export_query `by_week_in`), as Markdown."""

    def __init__(self, zone: ZoneInfo, selection: EntrySelection) -> None:
        self.zone = zone
        self.selection = selection
        self._week: datetime | None = None
        self._project: tuple[object, ...] | None = None
        self._any = False

    def start(self) -> bytes:
        period = []
        if self.selection.start is not None:
            period.append(f"from {self.selection.start.value.isoformat()}")
        if self.selection.end is not None:
            period.append(f"to {self.selection.end.value.isoformat()}")
        lines = [
            "# Work log" + (f" ({' '.join(period)})" if period else ""),
            "",
            f"Exported from EngLog on {datetime.now(UTC):%Y-%m-%d}; times in {self.zone.key}.",
        ]
        return ("\n".join(lines) + "\n").encode()

    def batch(self, entries: list[ExportedEntry]) -> bytes:
        lines: list[str] = []
        for entry in entries:
            self._any = True
            if entry.week != self._week:
                self._week, self._project = entry.week, None
                lines += ["", self._week_heading(entry.week, entry.week_minutes or 0)]
            if (entry.project_id,) != self._project:
                self._project = (entry.project_id,)
                name = inline(entry.project) if entry.project else NO_PROJECT
                lines += ["", f"### {name} · {duration(entry.project_minutes or 0)}", ""]
            lines.append(self._item(entry))
        return ("\n".join(lines) + "\n").encode() if lines else b""

    @staticmethod
    def _week_heading(monday: datetime | None, minutes: int) -> str:
        if monday is None:  # not in the by-week order
            return "## Entries"
        iso = monday.isocalendar()
        sunday = monday + timedelta(days=6)
        return (
            f"## Week {iso.year}-W{iso.week:02d} ({monday:%d %b} – {sunday:%d %b %Y})"
            f" · {duration(minutes)}"
        )

    def _item(self, entry: ExportedEntry) -> str:
        start = entry.start_time.astimezone(self.zone)
        facts = [
            f"{start:%a %d %b %H:%M}",
            duration(entry.duration_minutes),
            _label(entry.type),
            f"{_label(entry.value_rating).lower()} value",
            f"{_label(entry.impact_level).lower()} impact",
        ]
        if entry.tags:
            facts.append("tags: " + ", ".join(inline(tag) for tag in entry.tags))
        line = f"- **{inline(entry.title)}** — {' · '.join(facts)}"
        if entry.description:
            line += f"\n  {inline(entry.description)}"
        return line

    def end(self) -> bytes:
        return b"" if self._any else b"\nNo entries in this period.\n"
