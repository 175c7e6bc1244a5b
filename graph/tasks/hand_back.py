"""Leases given up without a result, the one way they are, whatever the path: an expired
lease (the sweeper; also how a worker that disconnected loses its leases), a shutdown's
hand-back, a failure or an invalid result reported by the worker."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from db.models.enums import TaskStatus
from graph.context import AppState
from graph.tasks.kinds import Outcome, Payload, TaskKind
from graph.tasks.registry import task_kind
from graph.transaction import transaction


@dataclass
class HandBack:
    """The leases given up in one transaction (`handing_back`)."""

    session: AsyncSession
    _given_up: list[tuple[TaskKind, Payload, Outcome]] = field(default_factory=list)

    async def given_up(
        self, *, kind: str, payload: Payload, status: str, error: str | None
    ) -> None:
        """A lease of this task was given up, the task now `status` (`queued` to run again,
        else ended); `error` is why (None: nobody's fault). Its kind's `on_failure` runs in
        this transaction, its `after_commit` once it commits."""
        hooks = task_kind(kind)
        outcome = await hooks.on_failure(
            self.session, payload=payload, requeued=status == TaskStatus.QUEUED, error=error
        )
        self._given_up.append((hooks, payload, outcome))

    async def announce(self, state: AppState) -> None:
        for hooks, payload, outcome in self._given_up:
            await hooks.after_commit(state, payload=payload, outcome=outcome)


@contextlib.asynccontextmanager
async def handing_back(state: AppState) -> AsyncIterator[HandBack]:
    """A transaction (graph/transaction.py) in which leases may be given up
    (`HandBack.given_up`); once it commits, each kind announces what it did (an insight's
    progress watchers start over, or see the stream end)."""
    async with transaction(state.db, state.hub) as session:
        hand_back = HandBack(session)
        yield hand_back
    await hand_back.announce(state)
