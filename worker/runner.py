"""From a Task message to the task code that runs it, and back to a Success.

The wire messages become the plain dataclasses of worker/jobs.py here, so task code never
sees protobuf.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from protos.generated.englog.worker import v1 as pb
from worker.jobs import EmailJob, EnrichEntryJob, EntryLine, InsightJob, TaskFailed
from worker.llm import OllamaLLM
from worker.mail import Mailer
from worker.tasks.enrich_entry import run_enrich_entry
from worker.tasks.insight import run_insight
from worker.tasks.send_email import run_send_email

# (job, progress) -> the Success message; raising TaskFailed reports a failure.
Runner = Callable[[pb.Task, Callable[[str, int], Awaitable[None]]], Awaitable[pb.Success]]


def insight_job(message: pb.InsightJob) -> InsightJob:
    return InsightJob(
        insight_id=message.insight_id,
        kind=message.kind,
        period_start=message.period_start,
        period_end=message.period_end,
        timezone=message.timezone,
        metrics=json.loads(message.metrics_json or "{}"),
        entries=tuple(
            EntryLine(
                date=line.date,
                title=line.title,
                type=line.type,
                minutes=line.minutes,
                value_rating=line.value_rating,
                impact_level=line.impact_level,
                project=line.project,
                tags=tuple(line.tags),
            )
            for line in message.entries
        ),
        focus_areas=tuple(message.focus_areas),
        user_first_name=message.user_first_name,
    )


def enrich_job(message: pb.EnrichEntryJob) -> EnrichEntryJob:
    return EnrichEntryJob(
        entry_id=message.entry_id,
        title=message.title,
        type=message.type,
        description=message.description,
        existing_tags=tuple(message.existing_tags),
    )


def email_job(message: pb.EmailJob) -> EmailJob:
    return EmailJob(
        to=message.to, subject=message.subject, text=message.text_body, html=message.html_body
    )


def build_runner(llm: OllamaLLM | None, *, mailer: Mailer | None = None) -> Runner:
    """Runs a task's job with this LLM (None: the built-in fallbacks) and this mailer (None:
    no e-mail) into a Success."""

    async def run(task: pb.Task, progress: Callable[[str, int], Awaitable[None]]) -> pb.Success:
        if task.insight is not None:
            generation = await run_insight(insight_job(task.insight), llm=llm, progress=progress)
            return pb.Success(
                content=generation.content, model=generation.model, stats=dict(generation.stats)
            )
        if task.enrich_entry is not None:
            suggestion = await run_enrich_entry(enrich_job(task.enrich_entry), llm=llm)
            return pb.Success(
                model=suggestion.model,
                suggested_tags=list(suggestion.tags),
                suggested_skills=list(suggestion.skills),
            )
        if task.email is not None and mailer is not None:
            await run_send_email(email_job(task.email), mailer=mailer, key=task.task_id)
            return pb.Success(model="")  # no model wrote it; the API needs nothing back
        raise TaskFailed(f"this worker cannot run {task.kind!r}", retryable=False)

    return run
