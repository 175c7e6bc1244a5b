"""`englog dev --demo`: a demo account with a week of plausible entries, its weekly report and
the last day's summary (by the built-in summariser), created once."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db import queue
from db.engine import create_engine, create_session_factory
from db.models import Task
from db.models.enums import InsightKind, TaskStatus
from db.queries import log_entry as entries
from db.queries import project as projects
from db.queries import user as users
from db.queries.insight import InsightRequest
from graph.auth.passwords import Passwords
from graph.insights.task import InsightTask, Requester, create_insight
from graph.tasks.results import check_success
from worker.jobs import InsightJob, Result
from worker.runner import from_message, success_of
from worker.tasks.insight import run_insight

DEMO_EMAIL = "demo@englog.dev"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - a published demo login, development only

_WORK = [
    ("Sprint planning", "PLANNING", "MEDIUM", "TEAM", ["planning"]),
    ("Reviewed the payments refactor", "REVIEW", "HIGH", "PRODUCT", ["review", "payments"]),
    ("Debugged the flaky deploy pipeline", "DEBUG", "HIGH", "TEAM", ["ci", "infra"]),
    ("Implemented cursor pagination", "CODE", "HIGH", "PRODUCT", ["graphql", "api"]),
    ("Wrote the on-call runbook", "DOCS", "MEDIUM", "TEAM", ["docs", "ops"]),
    ("Mentored a new hire on the codebase", "MENTORING", "HIGH", "TEAM", ["mentoring"]),
    ("Read up on PostgreSQL SKIP LOCKED", "LEARNING", "MEDIUM", "PERSONAL", ["postgres"]),
    ("Rotated TLS certificates", "OPS", "MEDIUM", "COMPANY", ["ops", "security"]),
    ("Expense reports", "ADMIN", "LOW", "PERSONAL", []),
]


async def _ignore_progress(delta: str, percent: int) -> None:
    return None


async def _builtin_insight(
    session: AsyncSession, *, user: Requester, request: InsightRequest
) -> None:
    """A COMPLETED insight written by the built-in summariser, along the path a requested one
    takes: create_insight computes its figures and queues its task; the task's job crosses
    the wire conversion into the worker's insight task, with no model; its result meets the
    checks and the hooks a worker's report meets. Then its task is done (no worker runs it)."""
    insight = await create_insight(session, user=user, request=request)
    assert insight.task_id is not None
    task = await queue.get_task(session, task_id=insight.task_id)
    assert task is not None
    kind = InsightTask()
    job = from_message(kind.job_message(task.payload)["insight"], InsightJob)
    generation = await run_insight(job, llm=None, progress=_ignore_progress)
    result = Result(
        content=generation.content,
        model=generation.model,
        stats=generation.stats,
        insight_checks=generation.checks,
    )
    await kind.on_leased(session, payload=task.payload)
    await kind.on_success(session, payload=task.payload, result=check_success(success_of(result)))
    # Done here, in the seed's transaction: no worker is to write it again (queue.complete
    # needs a worker's lease, which this task never had).
    await session.execute(
        sa.update(Task)
        .where(col(Task.id) == task.id)
        .values(status=TaskStatus.SUCCEEDED, updated_at=sa.func.now())
    )


async def _seed_insights(session: AsyncSession, *, user: Requester, last_day: date) -> None:
    """The seeded week's report, and the summary of its last full day (yesterday: today's
    entries may still be ahead)."""
    week = InsightRequest(
        kind=InsightKind.WEEKLY_REPORT.value,
        period_start=last_day - timedelta(days=6),
        period_end=last_day,
    )
    yesterday = last_day - timedelta(days=1)
    day = InsightRequest(
        kind=InsightKind.DAILY_SUMMARY.value, period_start=yesterday, period_end=yesterday
    )
    for request in (week, day):
        await _builtin_insight(session, user=user, request=request)


async def _seed(database_url: str) -> bool:
    engine = create_engine(database_url, pool_size=1)
    db = create_session_factory(engine)
    try:
        async with db() as session, session.begin():
            if await users.get_user_by_email(session, email=DEMO_EMAIL):
                return False
            passwords = Passwords(time_cost=3, memory_cost_kib=65536)
            user = await users.create_user(
                session,
                email=DEMO_EMAIL,
                password_hash=await passwords.hash(DEMO_PASSWORD),
                first_name="Demo",
                last_name="Engineer",
                timezone="UTC",
            )
            project_ids = [
                (await projects.create_project(session, user_id=user.id, values=values)).id
                for values in (
                    {"name": "Payments", "color": "#2E86AB"},
                    {"name": "Platform", "color": "#A23B72"},
                )
            ]
            rng = random.Random(7)  # noqa: S311 - demo data, not security
            today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
            items = []
            for day in range(7):
                start = today - timedelta(days=day)
                for _ in range(3):
                    title, kind, value, impact, tags = rng.choice(_WORK)
                    minutes = rng.choice([30, 45, 60, 90, 120])
                    items.append(
                        entries.EntryData(
                            title=title,
                            type=kind,
                            start_time=start,
                            end_time=start + timedelta(minutes=minutes),
                            project_id=rng.choice([*project_ids, None]),
                            value_rating=value,
                            impact_level=impact,
                            tags=tags,
                        )
                    )
                    start += timedelta(minutes=minutes + 15)
            await entries.create_entries(session, user_id=user.id, items=items)
            requester = Requester(
                user_id=user.id, timezone=user.timezone, first_name=user.first_name
            )
            await _seed_insights(session, user=requester, last_day=today.date())
            return True
    finally:
        await engine.dispose()


def seed_demo(database_url: str) -> None:
    created = asyncio.run(_seed(database_url))
    state = "created" if created else "already there"
    print(f"Demo account {state}: {DEMO_EMAIL} / {DEMO_PASSWORD}", flush=True)
