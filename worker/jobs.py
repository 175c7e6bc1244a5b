"""What a worker is asked to do and what it answers, as plain dataclasses.

The gRPC client converts the wire messages (protos/) into these, so task code never sees
protobuf, and tests call task code directly. The worker holds no database credentials:
everything a task needs arrives in it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class EntryLine:
    """One entry of the period, as much of it as a prompt needs."""

    date: str  # YYYY-MM-DD in the user's time zone
    title: str
    type: str  # ActivityType value, e.g. "CODE"
    minutes: int
    value_rating: str  # LOW | MEDIUM | HIGH
    impact_level: str  # PERSONAL | TEAM | PRODUCT | COMPANY
    project: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class InsightJob:
    insight_id: str
    kind: str  # InsightKind value, e.g. "WEEKLY_REPORT"
    period_start: str  # YYYY-MM-DD
    period_end: str  # YYYY-MM-DD
    timezone: str
    # The metrics the API computed in SQL; keys as in db/queries/productivity.py (Metrics.to_dict).
    metrics: dict[str, Any]
    entries: tuple[EntryLine, ...] = ()
    focus_areas: tuple[str, ...] = ()
    user_first_name: str = ""


@dataclass(frozen=True)
class EnrichEntryJob:
    entry_id: str
    title: str
    type: str
    description: str | None = None
    existing_tags: tuple[str, ...] = ()  # the user's tag names, so suggestions reuse them


@dataclass(frozen=True)
class EmailJob:
    """An e-mail to send: the message alone (the API keeps who asked for it, and why)."""

    to: str  # one address, bare or "Name <address>"
    subject: str
    text: str
    html: str = ""  # empty: a text-only message


@dataclass(frozen=True)
class Generation:
    """A finished model answer with what the model reported about it."""

    content: str
    model: str  # the Ollama model name, or "builtin" for the built-in summariser
    stats: dict[str, int] = field(
        default_factory=dict
    )  # prompt_eval_count, eval_count, *_duration (ns)


@dataclass(frozen=True)
class Suggestion:
    tags: tuple[str, ...]
    skills: tuple[str, ...]
    model: str


class TaskFailed(Exception):
    """A task that cannot succeed now; `retryable` says whether trying again may help."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


# Called with each text delta and the estimated percent done (0-100).
Progress = Callable[[str, int], Awaitable[None]]
