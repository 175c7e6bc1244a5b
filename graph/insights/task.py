"""The generate_insight task: what it carries to a worker (the period's metrics and entries),
how it is queued with its insight, and what each step of it does to the insight and to the
insightProgress watchers.

An insight is RUNNING while a worker holds its task, COMPLETED with the worker's text (and
its e-mail queued, if the user wants one), back to PENDING when a lease is given up and the
task runs again, FAILED when it will not. Its progress text is emptied whenever an attempt
starts, so whoever reads it reads one attempt's text from offset 0.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Insight
from db.models.enums import InsightStatus
from db.queries import insight as insights
from db.queries.productivity import compute_metrics, list_period_entries
from db.queue import enqueue
from graph.context import AppState
from graph.live.hub import progress_channel
from graph.notifications import email
from graph.tasks.kinds import Outcome, Payload, TaskKind
from graph.tasks.results import CheckedSuccess
from protos.generated.englog.worker import v1 as pb
from protos.vocabulary import GENERATE_INSIGHT


@dataclass(frozen=True)
class Requester:
    """What a task needs to know about the user it is for."""

    user_id: uuid.UUID
    timezone: str
    first_name: str


def task_key(insight_id: uuid.UUID, attempts: int) -> str:
    """The idempotency key of the task for this insight at this attempt count."""
    return f"insight:{insight_id}:{attempts}"


def insight_id_of(payload: Payload) -> uuid.UUID:
    """The insight a generate_insight task's payload is about."""
    return uuid.UUID(str(payload["insight_id"]))


async def _job(
    session: AsyncSession,
    *,
    insight_id: uuid.UUID,
    request: insights.InsightRequest,
    user: Requester,
) -> tuple[dict[str, Any], Payload]:
    """The metrics and the task payload (InsightJob's fields, worker/jobs.py) of an insight."""
    start, end = insights.period_bounds(request.period_start, request.period_end, user.timezone)
    scope: dict[str, Any] = {
        "user_id": user.user_id,
        "start": start,
        "end": end,
        "timezone": user.timezone,
        "project_ids": list(request.project_ids) or None,
    }
    metrics = (await compute_metrics(session, **scope)).to_dict()
    entries = await list_period_entries(session, **scope)
    payload = {
        "insight_id": str(insight_id),
        "kind": request.kind,
        "period_start": request.period_start.isoformat(),
        "period_end": request.period_end.isoformat(),
        "timezone": user.timezone,
        "metrics": metrics,
        "entries": entries,
        "focus_areas": list(request.focus_areas),
        "user_first_name": user.first_name,
    }
    return metrics, payload


async def create_insight(
    session: AsyncSession, *, user: Requester, request: insights.InsightRequest
) -> Insight:
    """The PENDING insight with its metrics, and its task; the caller's transaction holds both."""
    insight_id = uuid.uuid4()
    metrics, payload = await _job(session, insight_id=insight_id, request=request, user=user)
    task_id = await enqueue(
        session,
        kind=GENERATE_INSIGHT,
        payload=payload,
        user_id=user.user_id,
        idempotency_key=task_key(insight_id, 0),
    )
    return await insights.insert_insight(
        session,
        insight_id=insight_id,
        user_id=user.user_id,
        request=request,
        metrics=metrics,
        task_id=task_id,
    )


async def retry_insight(session: AsyncSession, *, insight: Insight, user: Requester) -> Insight:
    """Back to PENDING with a new task, metrics and entries read afresh; error cleared.

    The caller checks that the insight is FAILED (and holds its row lock).
    """
    request = insights.InsightRequest(
        kind=insight.kind,
        period_start=insight.period_start,
        period_end=insight.period_end,
        project_ids=insight.project_ids,
        focus_areas=insight.focus_areas,
    )
    metrics, payload = await _job(session, insight_id=insight.id, request=request, user=user)
    arguments: dict[str, Any] = {
        "kind": GENERATE_INSIGHT,
        "payload": payload,
        "user_id": user.user_id,
    }
    task_id = await enqueue(
        session, **arguments, idempotency_key=task_key(insight.id, insight.attempts)
    )
    if task_id == insight.task_id:
        # This attempt count already had a task (it failed before any worker started it):
        # that key is spent, so this retry gets a key of its own.
        task_id = await enqueue(
            session,
            **arguments,
            idempotency_key=f"{task_key(insight.id, insight.attempts)}:{uuid.uuid4().hex}",
        )
    return await insights.reopen_insight(
        session, insight_id=insight.id, user_id=user.user_id, metrics=metrics, task_id=task_id
    )


class InsightTask(TaskKind):
    name = GENERATE_INSIGHT

    def job_message(self, payload: Payload) -> dict[str, Any]:
        entries = [
            pb.EntryLine(**{**line, "tags": list(line.get("tags", []))})
            for line in payload.get("entries", [])
        ]
        job = pb.InsightJob(
            insight_id=str(payload["insight_id"]),
            kind=str(payload["kind"]),
            period_start=str(payload["period_start"]),
            period_end=str(payload["period_end"]),
            timezone=str(payload.get("timezone", "UTC")),
            metrics_json=json.dumps(payload.get("metrics", {})),
            entries=entries,
            focus_areas=list(payload.get("focus_areas", [])),
            user_first_name=str(payload.get("user_first_name", "")),
        )
        return {"insight": job}

    async def on_leased(self, session: AsyncSession, *, payload: Payload) -> None:
        await insights.mark_insight_running(session, insight_id=insight_id_of(payload))

    async def on_progress(
        self, state: AppState, *, payload: Payload, delta: str, percent: int
    ) -> None:
        if delta:
            await state.hub.append_progress(insight_id_of(payload), delta, percent)

    async def on_success(
        self, session: AsyncSession, *, payload: Payload, result: CheckedSuccess
    ) -> None:
        insight_id = insight_id_of(payload)
        completed = await insights.complete_insight(
            session,
            insight_id=insight_id,
            content=result.content,
            model=result.model,
            generation=result.stats,
            checks=result.insight_checks,
            # The built-in report stood in for the model's refused text: why stays visible.
            error=result.insight_failure,
        )
        if completed:  # its e-mail, if the user wants one, in the same transaction
            insight = await insights.load_insight(session, insight_id=insight_id)
            assert insight is not None
            await email.queue_insight_email(session, insight=insight)

    async def on_failure(
        self, session: AsyncSession, *, payload: Payload, requeued: bool, error: str | None
    ) -> Outcome:
        """PENDING again when the task is requeued (with `error`; None keeps the insight's),
        else FAILED with `error`."""
        insight_id = insight_id_of(payload)
        if requeued:
            restarts = await insights.requeue_insight(session, insight_id=insight_id, error=error)
            return Outcome.RESTARTED if restarts else Outcome.ENDED
        await insights.fail_insight(
            session, insight_id=insight_id, error=error or "the task ended unfinished"
        )
        return Outcome.ENDED

    async def after_commit(self, state: AppState, *, payload: Payload, outcome: Outcome) -> None:
        insight_id = insight_id_of(payload)
        if outcome is Outcome.LEASED:
            # Before the worker hears of the lease: this attempt's text starts from nothing.
            await state.hub.reset_progress(insight_id)
        elif outcome is Outcome.SUCCEEDED:
            await state.hub.end_progress(insight_id, InsightStatus.COMPLETED.value)
        elif outcome is Outcome.RESTARTED:
            # Emptied first: whoever reads the text so far after the restart reads the next
            # attempt's, from offset 0, and so do the watchers told to start over.
            await state.hub.reset_progress(insight_id)
            await state.hub.publish(progress_channel(insight_id), {"type": "restart"})
        else:
            # FAILED, or it had ended already: watchers read the final status and stop.
            await state.hub.end_progress(insight_id, InsightStatus.FAILED.value)


INSIGHT_TASK = InsightTask()
