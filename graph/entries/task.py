"""The enrich_entry task: a new entry's title and description go to a worker, which suggests
tags and skills; the suggestions are stored on the entry (its ENRICHED event)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import LogEntry
from db.queries import log_entry
from db.queue import enqueue_many
from graph.tasks.kinds import Payload, TaskKind
from graph.tasks.results import CheckedSuccess
from protos.generated.englog.worker import v1 as pb
from protos.vocabulary import ENRICH_ENTRY

MAX_EXISTING_TAGS = 100


async def enqueue_enrichment(
    session: AsyncSession, *, user_id: uuid.UUID, entries: Sequence[LogEntry]
) -> None:
    """One enrich_entry task an entry (EnrichEntryJob's fields, worker/jobs.py), in the
    caller's transaction: the tasks exist exactly when the entries do."""
    if not entries:
        return
    # The user's most used tags, the new ones included, so suggestions reuse their names.
    existing_tags = await log_entry.list_most_used_tag_names(
        session, user_id=user_id, limit=MAX_EXISTING_TAGS
    )
    jobs = [
        (
            {
                "entry_id": str(entry.id),
                "title": entry.title,
                "type": entry.type,
                "description": entry.description,
                "existing_tags": existing_tags,
            },
            f"{ENRICH_ENTRY}:{entry.id}",
        )
        for entry in entries
    ]
    await enqueue_many(session, kind=ENRICH_ENTRY, jobs=jobs, user_id=user_id)


class EnrichEntryTask(TaskKind):
    name = ENRICH_ENTRY

    def job_message(self, payload: Payload) -> dict[str, Any]:
        job = pb.EnrichEntryJob(
            entry_id=str(payload["entry_id"]),
            title=str(payload["title"]),
            type=str(payload["type"]),
            description=payload.get("description"),
            existing_tags=list(payload.get("existing_tags", [])),
        )
        return {"enrich_entry": job}  # Task.job's field, not the kind's name

    async def on_success(
        self, session: AsyncSession, *, payload: Payload, result: CheckedSuccess
    ) -> None:
        await log_entry.store_suggestions(
            session,
            entry_id=uuid.UUID(str(payload["entry_id"])),
            tags=list(result.suggested_tags),
            skills=list(result.suggested_skills),
            model=result.model,
        )


ENRICH_ENTRY_TASK = EnrichEntryTask()
