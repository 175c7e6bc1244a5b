"""timeAllocation and productivityMetrics: the metrics of an instant range, in camelCase."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import Account, Api
from tests.graph.insights.dataset import TIMEZONE, WINDOW_FROM, WINDOW_TO
from tests.graph.insights.support import Seeded, seed, sign_up_in

SHARE = "{ key minutes percent }"
ALLOCATION = f"""
query Allocation($from: DateTime!, $to: DateTime!) {{
  timeAllocation(from: $from, to: $to) {{
    from to totalMinutes byType {SHARE} byProject {SHARE} byValue {SHARE} byImpact {SHARE}
  }}
}}
"""
PRODUCTIVITY = """
query Productivity($from: DateTime!, $to: DateTime!) {
  productivityMetrics(from: $from, to: $to) {
    from to totalMinutes totalEntries averageDailyHours daysWithEntries peakHour
    highValuePercent productCompanyImpactPercent valueImpactScore
  }
}
"""
OFFSET_HINT = "must include a UTC offset (ISO-8601, e.g. 2026-01-05T09:00:00+01:00)"


async def allocation(api: Api, account: Account, start: str, end: str) -> dict[str, Any]:
    data = await api.data(ALLOCATION, {"from": start, "to": end}, account.access_token)
    result: dict[str, Any] = data["timeAllocation"]
    return result


async def productivity(api: Api, account: Account, start: str, end: str) -> dict[str, Any]:
    data = await api.data(PRODUCTIVITY, {"from": start, "to": end}, account.access_token)
    result: dict[str, Any] = data["productivityMetrics"]
    return result


async def test_time_allocation_gives_minutes_by_type_project_value_and_impact(
    api: Api, account: Account, seeded: Seeded
) -> None:
    assert await allocation(api, account, WINDOW_FROM, WINDOW_TO) == {
        "from": "2026-07-06T00:00:00-04:00",
        "to": "2026-07-08T00:00:00-04:00",
        "totalMinutes": 300,
        "byType": [
            {"key": "CODE", "minutes": 180, "percent": 60.0},
            {"key": "REVIEW", "minutes": 90, "percent": 30.0},
            {"key": "MEETING", "minutes": 30, "percent": 10.0},
        ],
        "byProject": [
            {"key": "Apollo", "minutes": 180, "percent": 60.0},
            {"key": "Gemini", "minutes": 90, "percent": 30.0},
            {"key": "No project", "minutes": 30, "percent": 10.0},
        ],
        "byValue": [
            {"key": "HIGH", "minutes": 180, "percent": 60.0},
            {"key": "MEDIUM", "minutes": 90, "percent": 30.0},
            {"key": "LOW", "minutes": 30, "percent": 10.0},
        ],
        "byImpact": [
            {"key": "COMPANY", "minutes": 120, "percent": 40.0},
            {"key": "PERSONAL", "minutes": 90, "percent": 30.0},
            {"key": "TEAM", "minutes": 90, "percent": 30.0},
        ],
    }


async def test_productivity_metrics_of_the_period(
    api: Api, account: Account, seeded: Seeded
) -> None:
    assert await productivity(api, account, WINDOW_FROM, WINDOW_TO) == {
        "from": "2026-07-06T00:00:00-04:00",
        "to": "2026-07-08T00:00:00-04:00",
        "totalMinutes": 300,
        "totalEntries": 4,
        "averageDailyHours": 2.5,
        "daysWithEntries": 2,
        "peakHour": 9,
        "highValuePercent": 60.0,
        "productCompanyImpactPercent": 40.0,
        "valueImpactScore": 52.7,
    }


async def test_the_range_is_instants_in_any_offset_with_local_days_and_hours(
    api: Api, account: Account, seeded: Seeded
) -> None:
    # The period written in UTC and ending a minute early: Late review (02:45Z) still counts.
    metrics = await productivity(api, account, "2026-07-06T04:00:00Z", "2026-07-08T03:59:00Z")
    assert (metrics["totalMinutes"], metrics["totalEntries"], metrics["peakHour"]) == (300, 4, 9)
    # Only the 7th (local): Standup, Payment API and Late review.
    seventh = await productivity(
        api, account, "2026-07-07T00:00:00-04:00", "2026-07-08T00:00:00-04:00"
    )
    assert {
        key: seventh[key]
        for key in ("totalMinutes", "totalEntries", "daysWithEntries", "averageDailyHours")
    } == {"totalMinutes": 240, "totalEntries": 3, "daysWithEntries": 1, "averageDailyHours": 4.0}
    # From is inclusive, to exclusive: "After" starts exactly at 00:00 on the 8th.
    after = await productivity(
        api, account, "2026-07-08T00:00:00-04:00", "2026-07-08T00:01:00-04:00"
    )
    assert (after["totalEntries"], after["totalMinutes"], after["peakHour"]) == (1, 45, 0)


async def test_metrics_of_an_empty_range_are_zero(api: Api, account: Account) -> None:
    assert await productivity(api, account, WINDOW_FROM, WINDOW_TO) == {
        "from": "2026-07-06T00:00:00-04:00",
        "to": "2026-07-08T00:00:00-04:00",
        "totalMinutes": 0,
        "totalEntries": 0,
        "averageDailyHours": 0.0,
        "daysWithEntries": 0,
        "peakHour": None,
        "highValuePercent": 0.0,
        "productCompanyImpactPercent": 0.0,
        "valueImpactScore": 0.0,
    }
    empty = await allocation(api, account, WINDOW_FROM, WINDOW_TO)
    assert [empty[key] for key in ("totalMinutes", "byType", "byProject", "byValue")] == [
        0,
        [],
        [],
        [],
    ]


async def test_metrics_never_count_another_users_entries(api: Api, seeded: Seeded) -> None:
    other = await sign_up_in(api, TIMEZONE)
    metrics = await productivity(api, other, WINDOW_FROM, WINDOW_TO)
    assert (metrics["totalMinutes"], metrics["totalEntries"]) == (0, 0)
    await seed(api, other)
    metrics = await productivity(api, other, WINDOW_FROM, WINDOW_TO)
    assert (metrics["totalMinutes"], metrics["totalEntries"]) == (300, 4)


async def test_a_range_of_exactly_366_days_is_accepted(api: Api, account: Account) -> None:
    metrics = await productivity(api, account, "2028-01-01T00:00:00Z", "2029-01-01T00:00:00Z")
    assert metrics["totalMinutes"] == 0


INVALID_RANGES: list[tuple[str, str, str, dict[str, str]]] = [
    ("naive from", "2026-07-06T00:00:00", WINDOW_TO, {"from": OFFSET_HINT}),
    ("naive to", WINDOW_FROM, "2026-07-08T00:00:00", {"to": OFFSET_HINT}),
    (
        "both naive",
        "2026-07-06T00:00:00",
        "2026-07-08T00:00:00",
        {"from": OFFSET_HINT, "to": OFFSET_HINT},
    ),
    ("to equal to from", WINDOW_FROM, "2026-07-06T04:00:00Z", {"to": "must be after from"}),
    ("to before from", WINDOW_TO, WINDOW_FROM, {"to": "must be after from"}),
    (
        "366 days and a second",
        "2028-01-01T00:00:00Z",
        "2029-01-01T00:00:01Z",
        {"to": "must be at most 366 days after from"},
    ),
]


@pytest.mark.parametrize("document", [ALLOCATION, PRODUCTIVITY], ids=["time", "productivity"])
@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [pytest.param(start, end, expected, id=name) for name, start, end, expected in INVALID_RANGES],
)
async def test_metrics_reject_an_invalid_range(
    api: Api, account: Account, document: str, start: str, end: str, expected: dict[str, str]
) -> None:
    error = await api.error(document, {"from": start, "to": end}, account.access_token)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "fields": expected}
