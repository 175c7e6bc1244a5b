"""requestInsight: answers PENDING at once, and writes the insight and its task in one go."""

from __future__ import annotations

import uuid
from dataclasses import fields
from typing import Any

import pytest

from tests.factories import Account, Api
from tests.graph.insights.dataset import (
    EMPTY_METRICS,
    EXPECTED_APOLLO_METRICS,
    EXPECTED_LINES,
    EXPECTED_METRICS,
    TIMEZONE,
    WINDOW_FROM,
    WINDOW_TO,
)
from tests.graph.insights.support import (
    GET,
    REQUEST,
    RETRY,
    Database,
    Seeded,
    request_input,
    request_insight,
    seed,
    sign_up_in,
)
from worker.jobs import EntryLine, InsightJob

MISSING = "00000000-0000-4000-8000-000000000000"


async def test_request_insight_returns_pending_with_the_periods_metrics_and_writes_its_task(
    api: Api, account: Account, db: Database, seeded: Seeded
) -> None:
    tasks_before = await db.task_count()
    insight = await request_insight(api, account, focusAreas=["  delivery ", "mentoring"])
    [row] = await db.insights(account)
    assert insight == {
        "id": str(row["id"]),
        "kind": "WEEKLY_REPORT",
        "status": "PENDING",
        "periodStart": "2026-07-06",
        "periodEnd": "2026-07-07",
        "projectIds": [],
        "focusAreas": ["delivery", "mentoring"],
        "content": None,
        "metrics": EXPECTED_METRICS,
        "model": None,
        "error": None,
        "attempts": 0,
        "createdAt": row["created_at"].isoformat(),
        "updatedAt": row["created_at"].isoformat(),
        "completedAt": None,
    }
    [task] = await db.tasks(account, "generate_insight")
    assert await db.task_count() == tasks_before + 1
    assert row["task_id"] == task["id"]
    assert (row["status"], row["metrics"], row["project_ids"], row["focus_areas"]) == (
        "PENDING",
        EXPECTED_METRICS,
        [],
        ["delivery", "mentoring"],
    )
    assert {key: task[key] for key in ("kind", "status", "attempts", "user_id")} == {
        "kind": "generate_insight",
        "status": "queued",
        "attempts": 0,
        "user_id": uuid.UUID(account.user_id),
    }
    assert task["idempotency_key"] == f"insight:{row['id']}:0"
    assert task["payload"] == {
        "insight_id": str(row["id"]),
        "kind": "WEEKLY_REPORT",
        "period_start": "2026-07-06",
        "period_end": "2026-07-07",
        "timezone": TIMEZONE,
        "metrics": EXPECTED_METRICS,
        "entries": EXPECTED_LINES,
        "focus_areas": ["delivery", "mentoring"],
        "user_first_name": "Grace",
    }


async def test_the_task_payload_converts_to_the_workers_job(
    api: Api, account: Account, db: Database, seeded: Seeded
) -> None:
    await request_insight(api, account)
    [task] = await db.tasks(account, "generate_insight")
    payload = task["payload"]
    assert set(payload) == {field.name for field in fields(InsightJob)}
    job = InsightJob(**payload)
    assert (job.insight_id, job.kind, job.user_first_name) == (
        payload["insight_id"],
        "WEEKLY_REPORT",
        "Grace",
    )
    lines = [EntryLine(**line) for line in payload["entries"]]
    assert [line.title for line in lines] == [
        "Night deploy",
        "Standup",
        "Payment API",
        "Late review",
    ]
    assert all(
        set(line) == {field.name for field in fields(EntryLine)} for line in payload["entries"]
    )


async def test_request_insight_limited_to_projects_counts_only_their_entries(
    api: Api, account: Account, db: Database, seeded: Seeded
) -> None:
    apollo = seeded.projects["Apollo"]
    insight = await request_insight(api, account, projectIds=[apollo, apollo])
    assert (insight["projectIds"], insight["metrics"]) == ([apollo], EXPECTED_APOLLO_METRICS)
    [task] = await db.tasks(account, "generate_insight")
    assert [line["title"] for line in task["payload"]["entries"]] == [
        "Night deploy",
        "Payment API",
    ]
    [row] = await db.insights(account)
    assert row["project_ids"] == [uuid.UUID(apollo)]


async def test_request_insight_for_a_period_without_entries_has_empty_metrics(
    api: Api, account: Account, db: Database, seeded: Seeded
) -> None:
    insight = await request_insight(
        api, account, kind="DAILY_SUMMARY", periodStart="2026-01-01", periodEnd="2026-01-01"
    )
    assert (insight["kind"], insight["status"], insight["metrics"]) == (
        "DAILY_SUMMARY",
        "PENDING",
        EMPTY_METRICS,
    )
    [task] = await db.tasks(account, "generate_insight")
    assert task["payload"]["entries"] == []


async def test_request_insight_does_not_count_another_users_entries(
    api: Api, account: Account, seeded: Seeded
) -> None:
    other = await sign_up_in(api, TIMEZONE)
    await seed(api, other)
    insight = await request_insight(api, account)
    assert insight["metrics"] == EXPECTED_METRICS


async def test_the_period_follows_the_users_time_zone(
    api: Api, account: Account, seeded: Seeded
) -> None:
    # The same instants, for a user in UTC: the 6th holds only "Before" (03:59Z), and the 7th
    # gains Night deploy (03:30Z) but loses Late review (02:45Z on the 8th).
    utc = await sign_up_in(api, "UTC")
    await seed(api, utc)
    insight = await request_insight(api, utc, periodStart="2026-07-06", periodEnd="2026-07-06")
    assert (insight["metrics"]["total_entries"], insight["metrics"]["total_minutes"]) == (1, 45)
    insight = await request_insight(api, utc, periodStart="2026-07-07", periodEnd="2026-07-07")
    metrics = insight["metrics"]
    assert (metrics["total_entries"], metrics["total_minutes"], metrics["peak_hour"]) == (
        3,
        210,
        13,
    )


async def test_a_period_of_366_days_is_accepted(api: Api, account: Account) -> None:
    insight = await request_insight(
        api, account, kind="ANNUAL_ASSESSMENT", periodStart="2028-01-01", periodEnd="2028-12-31"
    )
    assert (insight["periodStart"], insight["periodEnd"]) == ("2028-01-01", "2028-12-31")


INVALID: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    (
        "end before start",
        {"periodStart": "2026-07-07", "periodEnd": "2026-07-06"},
        {"periodEnd": "must not be before periodStart"},
    ),
    (
        "367 days",
        {"periodStart": "2026-01-01", "periodEnd": "2027-01-02"},
        {"periodEnd": "the period must be at most 366 days long"},
    ),
    (
        "eleven focus areas",
        {"focusAreas": [f"area {i}" for i in range(11)]},
        {"focusAreas": "at most 10 items"},
    ),
    (
        "a focus area of 101 characters",
        {"focusAreas": ["fine", "f" * 101]},
        {"focusAreas.1": "must be at most 100 characters"},
    ),
    ("an empty focus area", {"focusAreas": ["  "]}, {"focusAreas.0": "must not be empty"}),
    (
        "a control character in a focus area",
        {"focusAreas": ["a\x00b"]},
        {"focusAreas.0": "must not contain control characters"},
    ),
    ("a malformed project id", {"projectIds": ["nope"]}, {"projectIds.0": "must be an ID"}),
    (
        "101 project ids",
        {"projectIds": [MISSING] * 101},
        {"projectIds": "at most 100 items"},
    ),
    (
        "several problems at once",
        {
            "periodStart": "2026-07-07",
            "periodEnd": "2026-07-06",
            "focusAreas": [""],
            "projectIds": ["x"],
        },
        {
            "periodEnd": "must not be before periodStart",
            "projectIds.0": "must be an ID",
            "focusAreas.0": "must not be empty",
        },
    ),
]


@pytest.mark.parametrize(
    ("values", "expected"),
    [pytest.param(values, expected, id=name) for name, values, expected in INVALID],
)
async def test_request_insight_rejects_invalid_input_and_writes_nothing(
    api: Api,
    account: Account,
    db: Database,
    values: dict[str, Any],
    expected: dict[str, str],
) -> None:
    error = await api.error(REQUEST, {"input": request_input(**values)}, account.access_token)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "fields": expected}
    assert error["path"] == ["requestInsight"]
    assert (await db.insight_count(), await db.task_count()) == (0, 0)


async def test_request_insight_rejects_an_unknown_kind(api: Api, account: Account) -> None:
    error = await api.error(REQUEST, {"input": request_input(kind="HAIKU")}, account.access_token)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert list(error["extensions"]["fields"]) == ["kind"]


async def test_request_insight_with_an_unknown_project_is_not_found(
    api: Api, account: Account, db: Database, seeded: Seeded
) -> None:
    tasks = await db.task_count()
    values = request_input(projectIds=[seeded.projects["Apollo"], MISSING])
    error = await api.error(REQUEST, {"input": values}, account.access_token)
    assert (error["message"], error["extensions"]) == (
        "Project not found",
        {"code": "NOT_FOUND", "fields": {"projectIds": "no such project"}},
    )
    assert (await db.insight_count(), await db.task_count()) == (0, tasks)


async def test_request_insight_with_another_users_project_is_not_found(
    api: Api, account: Account, db: Database
) -> None:
    other = await sign_up_in(api, TIMEZONE)
    theirs = await api.create_project(other, "Theirs")
    values = request_input(projectIds=[theirs["id"]])
    error = await api.error(REQUEST, {"input": values}, account.access_token)
    assert error["extensions"] == {"code": "NOT_FOUND", "fields": {"projectIds": "no such project"}}
    assert (await db.insight_count(), await db.task_count()) == (0, 0)


UNAUTHENTICATED: list[tuple[str, dict[str, Any]]] = [
    (REQUEST, {"input": request_input()}),
    (RETRY, {"id": MISSING}),
    (GET, {"id": MISSING}),
    ("{ insights { totalCount } }", {}),
    (
        "query($f: DateTime!, $t: DateTime!) { timeAllocation(from: $f, to: $t) { totalMinutes } }",
        {"f": WINDOW_FROM, "t": WINDOW_TO},
    ),
    (
        "query($f: DateTime!, $t: DateTime!) "
        "{ productivityMetrics(from: $f, to: $t) { totalMinutes } }",
        {"f": WINDOW_FROM, "t": WINDOW_TO},
    ),
]


@pytest.mark.parametrize(
    ("document", "variables"),
    UNAUTHENTICATED,
    ids=[
        "requestInsight",
        "retryInsight",
        "insight",
        "insights",
        "timeAllocation",
        "productivityMetrics",
    ],
)
async def test_insight_operations_without_a_token_are_unauthenticated(
    api: Api, db: Database, document: str, variables: dict[str, Any]
) -> None:
    error = await api.error(document, variables)
    assert (error["message"], error["extensions"]) == (
        "Authentication required",
        {"code": "UNAUTHENTICATED"},
    )
    assert (await db.insight_count(), await db.task_count()) == (0, 0)


@pytest.mark.parametrize(
    ("period_start", "period_end", "fields"),
    [
        ("9999-12-25", "9999-12-31", ["periodStart", "periodEnd"]),
        ("0001-01-01", "0001-01-05", ["periodStart", "periodEnd"]),
        ("1899-12-31", "1900-01-06", ["periodStart"]),
    ],
)
async def test_request_insight_refuses_periods_outside_the_supported_years(
    api: Api, db: Database, period_start: str, period_end: str, fields: list[str]
) -> None:
    """Found by the property tests; a user at +14:00 puts the period's UTC bounds furthest
    from its dates."""
    account = await api.sign_up("kiritimati@example.com")
    await db.connection.execute(
        "UPDATE \"user\" SET timezone = 'Pacific/Kiritimati' WHERE email = $1", account.email
    )
    request = {"kind": "WEEKLY_REPORT", "periodStart": period_start, "periodEnd": period_end}
    error = await api.error(REQUEST, {"input": request}, account.access_token)
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": dict.fromkeys(fields, "must be between 1900-01-01 and 2999-12-31"),
    }
    assert await db.insight_count() == 0
