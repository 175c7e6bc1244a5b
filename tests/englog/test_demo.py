"""`englog dev --demo`'s seed: the demo login, its week of entries, and its weekly report and
daily summary, COMPLETED by the built-in summariser with the figures of those entries; made
once however often it runs."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import asyncpg
import pytest

from englog.demo import DEMO_EMAIL, DEMO_PASSWORD, seed_demo
from tests.factories import Api

LOG_IN = """
mutation($email: String!, $password: String!) {
  logIn(email: $email, password: $password) { accessToken }
}
"""
INSIGHTS = """
{ insights { edges { node {
  kind status model content metrics periodStart periodEnd attempts error completedAt
} } } }
"""
ENTRIES = """
query($from: DateTime!, $to: DateTime!) {
  logEntries(filter: {from: $from, to: $to}, first: 100) {
    totalCount edges { node { type durationMinutes } }
  }
}
"""
NOTICE = "not by a language model"


def hours(minutes: int) -> str:
    # Rounded half up, as PostgreSQL rounds (the reports' figures equal SQL's).
    return f"{(Decimal(minutes) / 60).quantize(Decimal('0.1'), ROUND_HALF_UP):,} h"


async def seeded(capsys: pytest.CaptureFixture[str], database_url: str) -> str:
    await asyncio.to_thread(seed_demo, database_url)
    return capsys.readouterr().out


async def entries_between(api: Api, token: str, first: date, last: date) -> list[dict[str, Any]]:
    start = datetime.combine(first, time(), tzinfo=UTC)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=UTC)
    data = await api.data(ENTRIES, {"from": start.isoformat(), "to": end.isoformat()}, token)
    nodes = [edge["node"] for edge in data["logEntries"]["edges"]]
    assert data["logEntries"]["totalCount"] == len(nodes)
    return nodes


async def test_the_demo_account_has_a_completed_builtin_weekly_report_and_daily_summary(
    api: Api, capsys: pytest.CaptureFixture[str], database_url: str, pg: asyncpg.Connection
) -> None:
    assert await seeded(capsys, database_url) == (
        f"Demo account created: {DEMO_EMAIL} / {DEMO_PASSWORD}\n"
    )
    login = await api.data(LOG_IN, {"email": DEMO_EMAIL, "password": DEMO_PASSWORD})
    token = login["logIn"]["accessToken"]
    nodes = [edge["node"] for edge in (await api.data(INSIGHTS, token=token))["insights"]["edges"]]
    by_kind = {node["kind"]: node for node in nodes}
    assert sorted(by_kind) == ["DAILY_SUMMARY", "WEEKLY_REPORT"]
    assert len(nodes) == 2

    # The seeded week ends on the seed's day (read back: a run across midnight moves it).
    today = date.fromisoformat(by_kind["WEEKLY_REPORT"]["periodEnd"])
    assert datetime.now(UTC).date() - today in (timedelta(0), timedelta(days=1))
    periods = {
        "WEEKLY_REPORT": (today - timedelta(days=6), today),
        "DAILY_SUMMARY": (today - timedelta(days=1), today - timedelta(days=1)),
    }
    for kind, (first, last) in periods.items():
        insight = by_kind[kind]
        assert (insight["periodStart"], insight["periodEnd"]) == (str(first), str(last))
        assert (insight["status"], insight["model"], insight["error"]) == (
            "COMPLETED",
            "builtin",
            None,
        )
        assert insight["attempts"] == 1
        assert insight["completedAt"] is not None
        # The figures are the period's entries', in the metrics and in the text alike.
        entries = await entries_between(api, token, first, last)
        assert entries, kind
        total = sum(entry["durationMinutes"] for entry in entries)
        metrics = insight["metrics"]
        assert (metrics["total_minutes"], metrics["total_entries"]) == (total, len(entries))
        by_type = Counter[str]()
        for entry in entries:
            by_type[entry["type"]] += entry["durationMinutes"]
        assert {share["key"]: share["minutes"] for share in metrics["by_type"]} == by_type
        content = insight["content"]
        assert NOTICE in content
        assert f"You logged **{hours(total)}** in **{len(entries)} entries**" in content

    # Their tasks are done: no worker will write them again.
    statuses = await pg.fetch(
        "SELECT status FROM task WHERE kind = 'generate_insight' AND user_id = "
        '(SELECT id FROM "user" WHERE email = $1)',
        DEMO_EMAIL,
    )
    assert [row["status"] for row in statuses] == ["succeeded", "succeeded"]


async def test_seeding_the_demo_again_creates_nothing_more(
    api: Api, capsys: pytest.CaptureFixture[str], database_url: str, pg: asyncpg.Connection
) -> None:
    await seeded(capsys, database_url)
    counts = "SELECT (SELECT count(*) FROM insight), (SELECT count(*) FROM log_entry)"
    before = await pg.fetchrow(counts)
    assert await seeded(capsys, database_url) == (
        f"Demo account already there: {DEMO_EMAIL} / {DEMO_PASSWORD}\n"
    )
    assert await pg.fetchrow(counts) == before
    assert tuple(before) == (2, 21)
