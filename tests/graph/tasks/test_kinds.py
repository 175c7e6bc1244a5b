"""The task kinds the API serves (graph/tasks/registry.py): each builds its own field of the
Task's job, the names are the ones the worker asks for, and a task of a kind no domain serves
goes through the same hand-back as any other, touching nothing else."""

from __future__ import annotations

import uuid
from typing import Any

import betterproto2

from db import queue
from graph.context import AppState
from graph.tasks.registry import KINDS, NAMES, UNNAMED_KINDS, task_kind
from graph.tasks.sweeper import requeue_expired_leases
from protos.generated.englog.worker import v1 as pb
from protos.vocabulary import ENRICH_ENTRY, GENERATE_INSIGHT, SEND_EMAIL
from tests.graph.tasks.support import fetchrow
from worker.tasks import registry as worker_registry

PAYLOADS: dict[str, dict[str, Any]] = {
    GENERATE_INSIGHT: {
        "insight_id": str(uuid.UUID(int=1)),
        "kind": "WEEKLY_REPORT",
        "period_start": "2026-11-02",
        "period_end": "2026-11-08",
        "timezone": "Europe/Rome",
        "metrics": {"totalMinutes": 90},
        "entries": [
            {
                "date": "2026-11-03",
                "title": "Standup",
                "type": "MEETING",
                "minutes": 15,
                "value_rating": "LOW",
                "impact_level": "TEAM",
                "project": None,
                "tags": ["sync"],
            }
        ],
        "focus_areas": ["delivery"],
        "user_first_name": "Grace",
        queue.TRACE_CONTEXT: {"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"},
    },
    ENRICH_ENTRY: {
        "entry_id": str(uuid.UUID(int=2)),
        "title": "Payment API",
        "type": "CODE",
        "description": None,
        "existing_tags": ["go"],
    },
    SEND_EMAIL: {"to": "grace@example.com", "subject": "Hi", "text": "Hello", "html": ""},
}


def test_the_kinds_are_the_three_the_worker_runs_once_each() -> None:
    assert NAMES == (GENERATE_INSIGHT, ENRICH_ENTRY, SEND_EMAIL)
    assert set(UNNAMED_KINDS) == {GENERATE_INSIGHT, ENRICH_ENTRY}
    assert [task_kind(name) for name in NAMES] == list(KINDS)


def test_each_kind_builds_its_own_field_of_the_task_job() -> None:
    fields = {}
    for kind in KINDS:
        job = kind.job_message(PAYLOADS[kind.name])
        task = pb.Task(task_id="t", kind=kind.name, **job)
        field, message = betterproto2.which_one_of(task, "job")
        assert list(job) == [field]
        fields[kind.name] = (field, type(message))
    assert fields == {
        GENERATE_INSIGHT: ("insight", pb.InsightJob),
        ENRICH_ENTRY: ("enrich_entry", pb.EnrichEntryJob),
        SEND_EMAIL: ("email", pb.EmailJob),
    }


def test_the_job_carries_the_payload_field_by_field_and_nothing_else() -> None:
    [job] = task_kind(GENERATE_INSIGHT).job_message(PAYLOADS[GENERATE_INSIGHT]).values()
    assert isinstance(job, pb.InsightJob)
    assert (job.timezone, job.metrics_json, job.user_first_name) == (
        "Europe/Rome",
        '{"totalMinutes": 90}',
        "Grace",
    )
    assert [(line.title, list(line.tags)) for line in job.entries] == [("Standup", ["sync"])]
    # The trace context stays on this side: the worker gets it as the delivery's own span.
    assert "traceparent" not in bytes(job).decode(errors="replace")


def test_only_the_e_mail_retries_slowly() -> None:
    delays = {kind.name: (kind.retry.base_delay, kind.retry.max_delay) for kind in KINDS}
    assert delays == {
        GENERATE_INSIGHT: (queue.DEFAULT_BASE_DELAY, queue.DEFAULT_MAX_DELAY),
        ENRICH_ENTRY: (queue.DEFAULT_BASE_DELAY, queue.DEFAULT_MAX_DELAY),
        SEND_EMAIL: (30.0, 1800.0),
    }


async def test_an_expired_lease_of_a_kind_no_domain_serves_goes_back_to_the_queue(
    app_state: AppState, database_url: str
) -> None:
    async with app_state.db() as session, session.begin():
        task_id = await queue.enqueue(session, kind="retired_kind", payload={"n": 1})
        [leased] = await queue.lease(
            session, owner="gone", limit=1, lease_seconds=60, kinds=("retired_kind",)
        )
    assert leased.id == task_id
    await fetchrow(
        database_url,
        "UPDATE task SET lease_expires_at = now() - interval '1 second' WHERE id = $1 RETURNING id",
        task_id,
    )
    await requeue_expired_leases(app_state)
    row = await fetchrow(
        database_url, "SELECT status, attempts, last_error FROM task WHERE id = $1", task_id
    )
    assert dict(row) == {"status": "queued", "attempts": 1, "last_error": queue.LEASE_EXPIRED}


def test_the_worker_runs_the_same_kinds_reading_the_field_each_fills() -> None:
    # Tests import both sides (worker/tasks/registry.py); the two processes never do.
    assert worker_registry.NAMES == NAMES
    assert {kind.name: kind.job_field for kind in worker_registry.KINDS} == {
        kind.name: next(iter(kind.job_message(PAYLOADS[kind.name]))) for kind in KINDS
    }
