"""db/queries/productivity.py on its own: the figures of a hand-made period, worked out by hand."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import create_engine, create_session_factory
from db.queries import log_entry as entries
from db.queries import project as projects
from db.queries import user as users
from db.queries.insight import period_bounds
from db.queries.productivity import Metrics, Share, compute_metrics, list_period_entries
from tests.graph.insights.dataset import (
    EMPTY_METRICS,
    ENTRIES,
    EXPECTED_APOLLO_METRICS,
    EXPECTED_LINES,
    EXPECTED_METRICS,
    PROJECTS,
    TIMEZONE,
)

START, END = (
    datetime.fromisoformat("2026-07-06T04:00:00+00:00"),
    datetime.fromisoformat("2026-07-08T04:00:00+00:00"),
)


@dataclass
class World:
    sessions: async_sessionmaker[AsyncSession]
    user_id: uuid.UUID
    projects: dict[str, uuid.UUID]


async def add_user(session: AsyncSession, timezone: str = TIMEZONE) -> uuid.UUID:
    user = await users.create_user(
        session,
        email=f"{uuid.uuid4().hex}@example.com",
        password_hash="not-a-real-hash",
        first_name="Grace",
        last_name="Hopper",
        timezone=timezone,
    )
    return user.id


async def add_dataset(session: AsyncSession, user_id: uuid.UUID) -> dict[str, uuid.UUID]:
    project_ids = {
        name: (await projects.create_project(session, user_id=user_id, values={"name": name})).id
        for name in PROJECTS
    }
    items = []
    for title, kind, project, value, impact, start, minutes, tags in ENTRIES:
        begin = datetime.fromisoformat(start)
        items.append(
            entries.EntryData(
                title=title,
                type=kind,
                start_time=begin,
                end_time=begin + timedelta(minutes=minutes),
                project_id=project_ids[project] if project else None,
                value_rating=value,
                impact_level=impact,
                tags=tags,
            )
        )
    await entries.create_entries(session, user_id=user_id, items=items)
    return project_ids


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url, pool_size=2)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def world(sessions: async_sessionmaker[AsyncSession]) -> World:
    async with sessions() as session, session.begin():
        user_id = await add_user(session)
        project_ids = await add_dataset(session, user_id)
        # Someone else's identical entries, in the same period, count for nobody else.
        await add_dataset(session, await add_user(session))
    return World(sessions, user_id, project_ids)


async def test_the_period_bounds_are_the_users_local_midnights() -> None:
    start, end = period_bounds(date(2026, 7, 6), date(2026, 7, 7), TIMEZONE)
    assert (start.isoformat(), end.isoformat()) == (
        "2026-07-06T04:00:00+00:00",
        "2026-07-08T04:00:00+00:00",
    )
    assert (start, end) == (START, END)
    # Across a DST change the day lengths follow the zone: 23 hours on 8 March 2026 in New York.
    start, end = period_bounds(date(2026, 3, 8), date(2026, 3, 8), TIMEZONE)
    assert end - start == timedelta(hours=23)


async def test_compute_metrics_of_the_hand_made_period(world: World) -> None:
    async with world.sessions() as session:
        metrics = await compute_metrics(
            session, user_id=world.user_id, start=START, end=END, timezone=TIMEZONE
        )
    assert metrics.to_dict() == EXPECTED_METRICS
    assert metrics.by_project[2] == Share("No project", 30, 10.0)
    assert list(metrics.to_dict()) == [
        "total_minutes",
        "total_entries",
        "by_type",
        "by_project",
        "by_value",
        "by_impact",
        "average_daily_hours",
        "days_with_entries",
        "peak_hour",
        "high_value_percent",
        "product_company_impact_percent",
        "value_impact_score",
    ]


async def test_compute_metrics_of_some_projects(world: World) -> None:
    async with world.sessions() as session:
        metrics = await compute_metrics(
            session,
            user_id=world.user_id,
            start=START,
            end=END,
            timezone=TIMEZONE,
            project_ids=[world.projects["Apollo"]],
        )
    assert metrics.to_dict() == EXPECTED_APOLLO_METRICS


async def test_compute_metrics_reads_days_and_hours_in_the_given_zone(world: World) -> None:
    # The same instants seen from UTC: Night deploy (03:30Z) and Standup/Payment (13:00Z and
    # 13:30Z) fall on the 7th, Late review (02:45Z) on the 8th.
    async with world.sessions() as session:
        metrics = await compute_metrics(
            session, user_id=world.user_id, start=START, end=END, timezone="UTC"
        )
    assert (metrics.days_with_entries, metrics.peak_hour, metrics.average_daily_hours) == (
        2,
        13,
        2.5,
    )


async def test_compute_metrics_of_an_empty_period_is_zero(world: World) -> None:
    async with world.sessions() as session:
        metrics = await compute_metrics(
            session,
            user_id=world.user_id,
            start=START - timedelta(days=30),
            end=START - timedelta(days=29),
            timezone=TIMEZONE,
        )
    assert metrics == Metrics(0, 0, [], [], [], [], 0.0, 0, None, 0.0, 0.0, 0.0)
    assert metrics.to_dict() == EMPTY_METRICS


async def test_compute_metrics_rounds_half_up(sessions: async_sessionmaker[AsyncSession]) -> None:
    # 1 of 16 minutes is 6.25 %, 15 of 16 is 93.75 %; 16 minutes a day is 0.2667 hours.
    # Score: (12·1 + 1·15) / 16 = 1.6875 → 0.6875 / 11 = 6.25 %.
    begin = datetime.fromisoformat("2026-07-07T10:00:00-04:00")
    async with sessions() as session, session.begin():
        user_id = await add_user(session)
        await entries.create_entries(
            session,
            user_id=user_id,
            items=[
                entries.EntryData(
                    title="Quick fix",
                    type="DEBUG",
                    start_time=begin,
                    end_time=begin + timedelta(minutes=1),
                    value_rating="HIGH",
                    impact_level="COMPANY",
                ),
                entries.EntryData(
                    title="Reading",
                    type="LEARNING",
                    start_time=begin + timedelta(hours=1),
                    end_time=begin + timedelta(hours=1, minutes=15),
                    value_rating="LOW",
                    impact_level="PERSONAL",
                ),
            ],
        )
    async with sessions() as session:
        metrics = await compute_metrics(
            session, user_id=user_id, start=START, end=END, timezone=TIMEZONE
        )
    assert metrics.by_type == [Share("LEARNING", 15, 93.8), Share("DEBUG", 1, 6.3)]
    assert (
        metrics.average_daily_hours,
        metrics.high_value_percent,
        metrics.product_company_impact_percent,
        metrics.value_impact_score,
        metrics.peak_hour,
    ) == (0.27, 6.3, 6.3, 6.3, 11)


async def test_compute_metrics_is_one_statement(world: World) -> None:
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    async with world.sessions() as session:
        event.listen(Engine, "before_cursor_execute", record)
        try:
            await compute_metrics(
                session, user_id=world.user_id, start=START, end=END, timezone=TIMEZONE
            )
            await list_period_entries(
                session, user_id=world.user_id, start=START, end=END, timezone=TIMEZONE
            )
        finally:
            event.remove(Engine, "before_cursor_execute", record)
    assert len(statements) == 2, statements


async def test_list_period_entries_gives_local_dates_oldest_first(world: World) -> None:
    async with world.sessions() as session:
        lines = await list_period_entries(
            session, user_id=world.user_id, start=START, end=END, timezone=TIMEZONE
        )
    assert lines == EXPECTED_LINES


async def test_list_period_entries_keeps_the_newest_when_capped(world: World) -> None:
    async with world.sessions() as session:
        lines = await list_period_entries(
            session, user_id=world.user_id, start=START, end=END, timezone=TIMEZONE, limit=2
        )
        apollo = await list_period_entries(
            session,
            user_id=world.user_id,
            start=START,
            end=END,
            timezone=TIMEZONE,
            project_ids=[world.projects["Apollo"]],
        )
    assert lines == EXPECTED_LINES[2:]
    assert [line["title"] for line in apollo] == ["Night deploy", "Payment API"]
