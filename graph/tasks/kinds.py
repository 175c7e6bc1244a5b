"""What a task kind is to the API: its name, its retry policy, the job a worker gets, and
the hooks its domain runs at each step of a task's life.

The servicer, the hand-back and the sweeper call these hooks and nothing else of a domain:
a kind lives in its domain (graph/insights/task.py, graph/entries/task.py,
graph/notifications/task.py) and is listed once, in graph/tasks/registry.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from db import queue
from graph.context import AppState
from graph.tasks.results import CheckedSuccess

Payload = dict[str, Any]


class Outcome(StrEnum):
    """What a committed transaction did to a task, for its kind's `after_commit`."""

    LEASED = "leased"  # a worker holds it now (on_leased ran)
    SUCCEEDED = "succeeded"  # its result is stored (on_success ran)
    RESTARTED = "restarted"  # handed back: it runs again from the start
    ENDED = "ended"  # handed back for good, or what it was for had ended already


@dataclass(frozen=True)
class RetryPolicy:
    """The back-off of a retryable failure, (base, cap) seconds (db/queue.py `fail`)."""

    base_delay: float = queue.DEFAULT_BASE_DELAY
    max_delay: float = queue.DEFAULT_MAX_DELAY


class TaskKind(Protocol):
    """A kind of task. Subclass it: the hooks default to doing nothing, and `name` and
    `job_message` must be given. The session hooks run inside the transaction that changes
    the task; what must wait for the commit (announcements to live watchers) goes in
    `after_commit`, which the caller runs once that transaction has committed."""

    @property
    def name(self) -> str: ...

    @property
    def retry(self) -> RetryPolicy:
        return RetryPolicy()

    def job_message(self, payload: Payload) -> dict[str, Any]:
        """The Task's oneof `job` (its field name → the message) from the task's payload:
        field by field, so whatever else the payload holds stays on this side."""
        ...

    async def on_leased(self, session: AsyncSession, *, payload: Payload) -> None:
        """A worker took the task (the lease's transaction)."""
        return

    async def on_progress(
        self, state: AppState, *, payload: Payload, delta: str, percent: int
    ) -> None:
        """The worker that holds the lease reported progress (checked, not stored)."""
        return

    async def on_success(
        self, session: AsyncSession, *, payload: Payload, result: CheckedSuccess
    ) -> None:
        """The worker's result, accepted once (the completion's transaction)."""
        return

    async def on_failure(
        self, session: AsyncSession, *, payload: Payload, requeued: bool, error: str | None
    ) -> Outcome:
        """A lease given up without a result, whatever the path (graph/tasks/hand_back.py):
        the task is `requeued` to run again, or dead. `error` is why (None: nobody's fault,
        a shutdown). What this did, for `after_commit`."""
        return Outcome.RESTARTED if requeued else Outcome.ENDED

    async def after_commit(self, state: AppState, *, payload: Payload, outcome: Outcome) -> None:
        """The transaction that did `outcome` has committed."""
        return
