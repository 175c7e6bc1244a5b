"""`englog dev --demo`: a demo account with a week of plausible entries, created once."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

from db.engine import create_engine, create_session_factory
from db.queries import log_entry as entries
from db.queries import project as projects
from db.queries import user as users
from graph.auth.passwords import Passwords

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
            return True
    finally:
        await engine.dispose()


def seed_demo(database_url: str) -> None:
    created = asyncio.run(_seed(database_url))
    state = "created" if created else "already there"
    print(f"Demo account {state}: {DEMO_EMAIL} / {DEMO_PASSWORD}", flush=True)
