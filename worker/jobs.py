"""What the worker's tasks share, as plain dataclasses: the jobs its prompts and built-in
report read, the lines of a period, a model's answer, what a task reports back, and how a
task fails.

worker/runner.py turns the wire messages (protos/) into these and back, so task code never
sees protobuf, and tests call task code directly. A job that only its own task reads lives
in that task's module (worker/tasks/). The worker holds no database credentials:
everything a task needs arrives in it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# The key of a job field's metadata that worker/runner.py reads (see `wire`).
WIRE = "englog.wire"
# A Generation's done_reason when the worker stopped reading a stream that repeated itself.
LOOP_CUT = "loop"


@dataclass(frozen=True)
class Wire:
    """Where a job field comes from in its message: the message field's name, and how its
    value becomes the field's (None: as it is, repeated fields as tuples)."""

    name: str
    decode: Callable[[Any], Any] | None = None


def wire(name: str, *, decode: Callable[[Any], Any] | None = None) -> Mapping[str, Wire]:
    """The metadata of a job field whose message field has another name or form:
    `field(metadata=wire("text_body"))`. A field without it reads the message field of its
    own name."""
    return {WIRE: Wire(name, decode)}


def json_object(text: str) -> dict[str, Any]:
    """A JSON object sent as text; the empty text (an unset field) is the empty object."""
    decoded: dict[str, Any] = json.loads(text or "{}")
    return decoded


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


# The insight's and the enrichment's jobs live here, not in their task modules: the prompts
# (worker/prompt.py) and the built-in report (worker/builtin.py) read them, and the tasks
# import those.
@dataclass(frozen=True)
class InsightJob:
    insight_id: str
    kind: str  # InsightKind value, e.g. "WEEKLY_REPORT"
    period_start: str  # YYYY-MM-DD
    period_end: str  # YYYY-MM-DD
    timezone: str
    # The metrics the API computed in SQL; keys as in db/queries/productivity.py (Metrics.to_dict).
    metrics: dict[str, Any] = field(metadata=wire("metrics_json", decode=json_object))
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
class Generation:
    """A finished model answer with what the model reported about it."""

    content: str
    model: str  # the Ollama model name, or "builtin" for the built-in summariser
    stats: dict[str, int] = field(
        default_factory=dict
    )  # prompt_eval_count, eval_count, *_duration (ns)
    # Why the answer ended: Ollama's "stop" or "length" (the num_predict cap), or "loop"
    # when the worker stopped reading a stream that repeated itself.
    done_reason: str = "stop"


@dataclass(frozen=True)
class InsightChecks:
    """What was checked of an insight's text before it was reported (the Success's checks)."""

    supported_numbers: int = 0  # numbers of the model's narrative found in the metrics
    unsupported_numbers: int = 0  # numbers it wrote that are not: their sentences removed
    retried: bool = False  # the first answer was refused and the model asked again
    fallback: bool = False  # both were refused: the built-in report stands in
    removed: tuple[str, ...] = ()  # the sentences taken out
    failure: str = ""  # why the model's answers were refused (the insight's error)


@dataclass(frozen=True)
class Result:
    """What a task that succeeded reports: the Success message's fields, each kind filling
    those it has (an e-mail: none but the empty model)."""

    model: str  # the model that wrote it, "builtin", or "" when no model did
    content: str = ""  # the insight text
    stats: dict[str, int] = field(default_factory=dict)  # as in Generation.stats
    suggested_tags: tuple[str, ...] = ()
    suggested_skills: tuple[str, ...] = ()
    insight_checks: InsightChecks | None = None  # an insight's


class TaskFailed(Exception):
    """A task that cannot succeed now; `retryable` says whether trying again may help."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


# Called with each text delta and the estimated percent done (0-100).
Progress = Callable[[str, int], Awaitable[None]]
