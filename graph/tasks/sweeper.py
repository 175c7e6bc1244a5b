"""Expired leases back to the queue: a worker that stopped answering (or disconnected) loses
its tasks, which run again elsewhere, or end when they have no attempt left."""

from __future__ import annotations

from db import queue
from db.models.enums import TaskStatus
from graph.context import AppState
from graph.tasks.hand_back import handing_back

# The error of a task (and of the insight it writes) whose worker stopped answering: while it
# waits for the next attempt, and once it has none left.
LEASE_EXPIRED_RETRYING = "the worker stopped answering (lease expired); trying again"
LEASE_EXPIRED_FOR_GOOD = "the worker stopped answering (lease expired) too many times"


async def requeue_expired_leases(state: AppState) -> None:
    """Hands expired leases back, through the same hand-back as every other path: their
    insights start over, or fail when their task died with them."""
    async with handing_back(state) as hand_back:
        for task in await queue.take_back_expired(hand_back.session):
            requeued = task.status == TaskStatus.QUEUED
            await hand_back.given_up(
                kind=task.kind,
                payload=task.payload,
                status=task.status,
                error=LEASE_EXPIRED_RETRYING if requeued else LEASE_EXPIRED_FOR_GOOD,
            )
