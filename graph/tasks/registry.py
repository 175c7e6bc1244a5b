"""Every task kind the API serves, each from its domain; the one list to extend."""

from __future__ import annotations

from typing import Any

from graph.entries.task import ENRICH_ENTRY_TASK
from graph.insights.task import INSIGHT_TASK
from graph.notifications.task import SEND_EMAIL_TASK
from graph.tasks.kinds import Payload, TaskKind
from protos.vocabulary import ENRICH_ENTRY, GENERATE_INSIGHT

KINDS: tuple[TaskKind, ...] = (INSIGHT_TASK, ENRICH_ENTRY_TASK, SEND_EMAIL_TASK)
NAMES = tuple(kind.name for kind in KINDS)
# What a stream that names no kinds gets: what every worker ran before streams named kinds.
# Not e-mail: a worker that does not say it can send mail would fail the e-mail for good.
UNNAMED_KINDS = (GENERATE_INSIGHT, ENRICH_ENTRY)

_BY_NAME = {kind.name: kind for kind in KINDS}


class _Unknown(TaskKind):
    """A kind no domain serves (a task row of another version): no stream leases it, and
    giving up a lease of it touches nothing else; the queue's default back-off."""

    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def job_message(self, payload: Payload) -> dict[str, Any]:
        raise ValueError(f"unknown task kind {self.name!r}")


def task_kind(name: str) -> TaskKind:
    """The kind of this name; one with no hooks when no domain serves it."""
    return _BY_NAME.get(name) or _Unknown(name)
