"""Every task kind the worker runs, each from its module; the one list to extend (the API's
is graph/tasks/registry.py, and both name the same kinds)."""

from __future__ import annotations

from worker.tasks import enrich_entry, insight, send_email
from worker.tasks.kinds import AnyKind, Tools

KINDS: tuple[AnyKind, ...] = (insight.KIND, enrich_entry.KIND, send_email.KIND)
NAMES = tuple(kind.name for kind in KINDS)

_BY_NAME = {kind.name: kind for kind in KINDS}


def kind_named(name: str) -> AnyKind | None:
    """The kind of this name; None when this worker's code has none (another version's)."""
    return _BY_NAME.get(name)


def capabilities(tools: Tools) -> tuple[str, ...]:
    """The kinds a worker with these tools asks for, in the list's order."""
    return tuple(kind.name for kind in KINDS if kind.runs_with(tools))
