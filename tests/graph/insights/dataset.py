"""A small hand-made period whose metrics are worked out by hand below.

The user lives in America/New_York (UTC−4 in July). The period is Monday 6 and Tuesday 7 July
2026, local: the instants [2026-07-06T04:00Z, 2026-07-08T04:00Z).
"""

from __future__ import annotations

from typing import Any

TIMEZONE = "America/New_York"
PERIOD_START = "2026-07-06"
PERIOD_END = "2026-07-07"
WINDOW_FROM = "2026-07-06T00:00:00-04:00"
WINDOW_TO = "2026-07-08T00:00:00-04:00"
PROJECTS = ("Apollo", "Gemini")

# (title, type, project, value, impact, start, minutes, tags)
ENTRIES: list[tuple[str, str, str | None, str, str, str, int, list[str]]] = [
    # 23:30 on the 6th locally, already the 7th in UTC: it belongs to the 6th.
    (
        "Night deploy",
        "CODE",
        "Apollo",
        "HIGH",
        "TEAM",
        "2026-07-06T23:30:00-04:00",
        60,
        ["python", "deploy"],
    ),
    ("Standup", "MEETING", None, "LOW", "TEAM", "2026-07-07T09:00:00-04:00", 30, []),
    (
        "Payment API",
        "CODE",
        "Apollo",
        "HIGH",
        "COMPANY",
        "2026-07-07T09:30:00-04:00",
        120,
        ["Python"],
    ),
    ("Late review", "REVIEW", "Gemini", "MEDIUM", "PERSONAL", "2026-07-07T22:45:00-04:00", 90, []),
    # One minute before the period, and the first instant after it: both outside.
    ("Before", "CODE", None, "HIGH", "COMPANY", "2026-07-05T23:59:00-04:00", 45, []),
    ("After", "CODE", None, "HIGH", "COMPANY", "2026-07-08T00:00:00-04:00", 45, []),
]

# Night deploy 60 + Standup 30 + Payment API 120 + Late review 90 = 300 minutes.
# Score: (3·2·60 + 1·2·30 + 3·4·120 + 2·1·90) / 300 = 2040 / 300 = 6.8 → (6.8 − 1) / 11 = 52.7 %.
EXPECTED_METRICS: dict[str, Any] = {
    "total_minutes": 300,
    "total_entries": 4,
    "by_type": [
        {"key": "CODE", "minutes": 180, "percent": 60.0},
        {"key": "REVIEW", "minutes": 90, "percent": 30.0},
        {"key": "MEETING", "minutes": 30, "percent": 10.0},
    ],
    "by_project": [
        {"key": "Apollo", "minutes": 180, "percent": 60.0},
        {"key": "Gemini", "minutes": 90, "percent": 30.0},
        {"key": "No project", "minutes": 30, "percent": 10.0},
    ],
    "by_value": [
        {"key": "HIGH", "minutes": 180, "percent": 60.0},
        {"key": "MEDIUM", "minutes": 90, "percent": 30.0},
        {"key": "LOW", "minutes": 30, "percent": 10.0},
    ],
    # PERSONAL and TEAM tie at 90: by key.
    "by_impact": [
        {"key": "COMPANY", "minutes": 120, "percent": 40.0},
        {"key": "PERSONAL", "minutes": 90, "percent": 30.0},
        {"key": "TEAM", "minutes": 90, "percent": 30.0},
    ],
    # 5 hours over two local days (the 6th: Night deploy; the 7th: the other three).
    "average_daily_hours": 2.5,
    "days_with_entries": 2,
    # 09:00 and 09:30 start 150 minutes; 23:30 starts 60 and 22:45 starts 90.
    "peak_hour": 9,
    "high_value_percent": 60.0,
    "product_company_impact_percent": 40.0,
    "value_impact_score": 52.7,
}

# Apollo only: Night deploy and Payment API, 180 minutes.
# Score: (6·60 + 12·120) / 180 = 10 → 9 / 11 = 81.8 %.
EXPECTED_APOLLO_METRICS: dict[str, Any] = {
    "total_minutes": 180,
    "total_entries": 2,
    "by_type": [{"key": "CODE", "minutes": 180, "percent": 100.0}],
    "by_project": [{"key": "Apollo", "minutes": 180, "percent": 100.0}],
    "by_value": [{"key": "HIGH", "minutes": 180, "percent": 100.0}],
    "by_impact": [
        {"key": "COMPANY", "minutes": 120, "percent": 66.7},
        {"key": "TEAM", "minutes": 60, "percent": 33.3},
    ],
    "average_daily_hours": 1.5,
    "days_with_entries": 2,
    "peak_hour": 9,
    "high_value_percent": 100.0,
    "product_company_impact_percent": 66.7,
    "value_impact_score": 81.8,
}

EMPTY_METRICS: dict[str, Any] = {
    "total_minutes": 0,
    "total_entries": 0,
    "by_type": [],
    "by_project": [],
    "by_value": [],
    "by_impact": [],
    "average_daily_hours": 0.0,
    "days_with_entries": 0,
    "peak_hour": None,
    "high_value_percent": 0.0,
    "product_company_impact_percent": 0.0,
    "value_impact_score": 0.0,
}

# The payload's entries: local dates, oldest first, tags by name (case-insensitively).
EXPECTED_LINES: list[dict[str, Any]] = [
    {
        "date": "2026-07-06",
        "title": "Night deploy",
        "type": "CODE",
        "minutes": 60,
        "value_rating": "HIGH",
        "impact_level": "TEAM",
        "project": "Apollo",
        "tags": ["deploy", "python"],
    },
    {
        "date": "2026-07-07",
        "title": "Standup",
        "type": "MEETING",
        "minutes": 30,
        "value_rating": "LOW",
        "impact_level": "TEAM",
        "project": None,
        "tags": [],
    },
    {
        "date": "2026-07-07",
        "title": "Payment API",
        "type": "CODE",
        "minutes": 120,
        "value_rating": "HIGH",
        "impact_level": "COMPANY",
        "project": "Apollo",
        # The tag "python" was created by Night deploy: later spellings reuse it.
        "tags": ["python"],
    },
    {
        "date": "2026-07-07",
        "title": "Late review",
        "type": "REVIEW",
        "minutes": 90,
        "value_rating": "MEDIUM",
        "impact_level": "PERSONAL",
        "project": "Gemini",
        "tags": [],
    },
]
