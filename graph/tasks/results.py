"""What a worker sends (ReportResult, ReportProgress), checked before any of it is stored or
published.

A worker is trusted to run tasks, not to write whatever it likes into users' rows: every
field is bounded here, and text PostgreSQL cannot hold (U+0000) or no reader has a use for
(other control characters) is refused, so a bad result is answered INVALID_ARGUMENT naming
the field instead of failing deep in the database with its SQL in the details.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from graph import validation as check
from graph.errors import FieldErrors
from protos.generated.englog.worker import v1 as pb

# Several times the longest report a local model writes in one answer (a performance review
# draft is ~20,000 characters); the progress text of an attempt is bounded by its deltas.
MAX_CONTENT_CHARS = 100_000
MAX_MODEL_CHARS = 200
# A failure's reason as the task's last_error and the insight's error alike.
MAX_REASON_CHARS = 2_000
# One ReportProgress carries what the model wrote in ~100 ms (worker/client.py), a few
# hundred characters; this leaves room for a slow link's batching.
MAX_DELTA_CHARS = 16_384
MAX_PERCENT = 100
# A suggestion becomes a tag: the limits of a tag name and of an entry's tags.
MAX_SUGGESTIONS = check.MAX_TAGS_PER_ENTRY
MAX_SUGGESTION_CHARS = check.MAX_TAG_NAME
MAX_STATS = 32
# An insight's checks: far more numbers than a report holds; the sentences taken out as the
# worker cuts them (worker/insights/numbers.py, 300 characters).
MAX_CHECKED_NUMBERS = 100_000
MAX_REMOVED = 200
MAX_REMOVED_CHARS = 500
_STAT_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
# What `check.text` refuses in multi-line text; tabs and line breaks are text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CUT = "…"


class InvalidResult(ValueError):
    """A worker's message that cannot be taken; its text names the field (no internals)."""


@dataclass(frozen=True)
class CheckedSuccess:
    content: str
    model: str
    stats: dict[str, int]
    suggested_tags: list[str]
    suggested_skills: list[str]
    # An insight's checks as stored (insight.checks), and why its model text was refused.
    insight_checks: dict[str, object] | None = None
    insight_failure: str | None = None


def check_success(success: pb.Success) -> CheckedSuccess:
    """The Success with every field within its bounds; InvalidResult listing what is not."""
    errors = FieldErrors("success.")
    # Kept as written, never stripped: it is the model's text, its line breaks and all.
    if len(success.content) > MAX_CONTENT_CHARS:
        errors.add("content", f"must be at most {MAX_CONTENT_CHARS} characters")
    elif _CONTROL.search(success.content):
        errors.add("content", "must not contain control characters")
    model = check.text(errors, "model", success.model, max_len=MAX_MODEL_CHARS, required=False)
    stats = dict(success.stats)
    if len(stats) > MAX_STATS:
        errors.add("stats", f"must have at most {MAX_STATS} entries")
    elif not all(_STAT_KEY.match(key) for key in stats):
        errors.add("stats", "keys must be 1-64 letters, digits or _.:-")
    tags = _names(errors, "suggested_tags", success.suggested_tags)
    skills = _names(errors, "suggested_skills", success.suggested_skills)
    checks = _insight_checks(errors, success.insight_checks)
    _raise(errors)
    failure = success.insight_checks.failure if success.insight_checks is not None else ""
    return CheckedSuccess(
        content=success.content,
        model=model or "",
        stats={key: int(value) for key, value in stats.items()},
        suggested_tags=tags,
        suggested_skills=skills,
        insight_checks=checks,
        insight_failure=clean_reason(failure) if failure.strip() else None,
    )


def _insight_checks(
    errors: FieldErrors, checks: pb.InsightChecks | None
) -> dict[str, object] | None:
    if checks is None:
        return None
    for field in ("supported_numbers", "unsupported_numbers"):
        if getattr(checks, field) > MAX_CHECKED_NUMBERS:
            errors.add(f"insight_checks.{field}", f"must be at most {MAX_CHECKED_NUMBERS}")
    removed = []
    if len(checks.removed) > MAX_REMOVED:
        errors.add("insight_checks.removed", f"must have at most {MAX_REMOVED} items")
    else:
        for index, text in enumerate(checks.removed):
            if len(text) > MAX_REMOVED_CHARS or _CONTROL.search(text):
                errors.add(
                    f"insight_checks.removed.{index}",
                    f"must be at most {MAX_REMOVED_CHARS} characters, without control characters",
                )
            else:
                removed.append(text)
    return {
        "supported_numbers": checks.supported_numbers,
        "unsupported_numbers": checks.unsupported_numbers,
        "retried": checks.retried,
        "fallback": checks.fallback,
        "removed": removed,
    }


def check_progress(request: pb.ReportProgressRequest) -> None:
    """InvalidResult when a progress report's delta or percent is out of bounds. The delta is
    kept as it is (its spaces are the text's), never stripped."""
    errors = FieldErrors()
    if len(request.delta) > MAX_DELTA_CHARS:
        errors.add("delta", f"must be at most {MAX_DELTA_CHARS} characters")
    elif _CONTROL.search(request.delta):
        errors.add("delta", "must not contain control characters")
    if request.percent > MAX_PERCENT:
        errors.add("percent", f"must be at most {MAX_PERCENT}")
    _raise(errors)


def clean_reason(reason: str) -> str:
    """A failure's reason fit to store and show: at most MAX_REASON_CHARS, control characters
    replaced. Never refused: a failure is how a lease is given up, and refusing it would
    leave the task held until its lease expired."""
    text = reason.strip()
    if len(text) > MAX_REASON_CHARS:
        text = text[: MAX_REASON_CHARS - len(_CUT)] + _CUT
    return _CONTROL.sub("\ufffd", text) or "the worker gave no reason"


def _names(errors: FieldErrors, field: str, names: Sequence[str]) -> list[str]:
    if len(names) > MAX_SUGGESTIONS:
        errors.add(field, f"must have at most {MAX_SUGGESTIONS} names")
        return []
    cleaned = [
        check.text(errors, f"{field}.{index}", name, max_len=MAX_SUGGESTION_CHARS)
        for index, name in enumerate(names)
    ]
    return [name for name in cleaned if name is not None]


def _raise(errors: FieldErrors) -> None:
    if errors:
        raise InvalidResult("; ".join(f"{field}: {text}" for field, text in errors.fields.items()))
