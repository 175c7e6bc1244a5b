"""Time and productivity metrics of a period, aggregated in PostgreSQL.

An entry belongs to a period when its start_time falls in [start, end); days and hours are
the user's local ones (`start_time AT TIME ZONE` the user's zone). One aggregate statement
(GROUPING SETS) gives every figure; the entries for a prompt are a second one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession

NO_PROJECT = "No project"
MAX_PERIOD_ENTRIES = 500
VALUE_WEIGHTS = {"LOW": 1, "MEDIUM": 2, "HIGH": 3}
IMPACT_WEIGHTS = {"PERSONAL": 1, "TEAM": 2, "PRODUCT": 3, "COMPANY": 4}
_MIN_WEIGHT = min(VALUE_WEIGHTS.values()) * min(IMPACT_WEIGHTS.values())
_MAX_WEIGHT = max(VALUE_WEIGHTS.values()) * max(IMPACT_WEIGHTS.values())


@dataclass(frozen=True)
class Share:
    """Minutes of one key (a type, project, value or impact) and its share of the total."""

    key: str
    minutes: int
    percent: float

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "minutes": self.minutes, "percent": self.percent}


@dataclass(frozen=True)
class Metrics:
    total_minutes: int
    total_entries: int
    by_type: list[Share]
    by_project: list[Share]
    by_value: list[Share]
    by_impact: list[Share]
    average_daily_hours: float
    days_with_entries: int
    peak_hour: int | None
    high_value_percent: float
    product_company_impact_percent: float
    value_impact_score: float

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored in insight.metrics and sent to the worker."""
        return {
            "total_minutes": self.total_minutes,
            "total_entries": self.total_entries,
            "by_type": [share.to_dict() for share in self.by_type],
            "by_project": [share.to_dict() for share in self.by_project],
            "by_value": [share.to_dict() for share in self.by_value],
            "by_impact": [share.to_dict() for share in self.by_impact],
            "average_daily_hours": self.average_daily_hours,
            "days_with_entries": self.days_with_entries,
            "peak_hour": self.peak_hour,
            "high_value_percent": self.high_value_percent,
            "product_company_impact_percent": self.product_company_impact_percent,
            "value_impact_score": self.value_impact_score,
        }


def _weight_case(column: str, weights: dict[str, int]) -> str:
    whens = " ".join(f"WHEN '{key}' THEN {weight}" for key, weight in weights.items())
    return f"CASE {column} {whens} ELSE 0 END"


def _period_filter(project_ids: Sequence[uuid.UUID] | None) -> str:
    where = "e.user_id = :user_id AND e.start_time >= :start AND e.start_time < :end"
    if project_ids:
        where += " AND e.project_id = ANY(:project_ids)"
    return where


def _params(statement: sa.TextClause, project_ids: Sequence[uuid.UUID] | None) -> sa.TextClause:
    binds: list[sa.BindParameter[Any]] = [
        sa.bindparam("start", type_=sa.DateTime(timezone=True)),
        sa.bindparam("end", type_=sa.DateTime(timezone=True)),
        sa.bindparam("user_id", type_=UUID(as_uuid=True)),
        sa.bindparam("tz", type_=sa.Text()),
    ]
    if project_ids:
        binds.append(sa.bindparam("project_ids", type_=ARRAY(UUID(as_uuid=True))))
    return statement.bindparams(*binds)


# Bits of GROUPING(type, project_id, value_rating, impact_level, day, hour): 1 = aggregated over.
_GROUPS = {
    0b011111: "type",
    0b101111: "project",
    0b110111: "value",
    0b111011: "impact",
    0b111101: "day",
    0b111110: "hour",
    0b111111: "total",
}


def _metrics_sql(project_ids: Sequence[uuid.UUID] | None) -> sa.TextClause:
    weight = (
        f"{_weight_case('e.value_rating', VALUE_WEIGHTS)} "
        f"* {_weight_case('e.impact_level', IMPACT_WEIGHTS)}"
    )
    statement = sa.text(
        f"""
        WITH period AS (
            SELECT e.type, e.project_id, p.name AS project_name, e.value_rating,
                   e.impact_level, e.duration_minutes AS minutes,
                   ({weight}) * e.duration_minutes AS weighted,
                   (e.start_time AT TIME ZONE :tz)::date AS day,
                   extract(hour FROM e.start_time AT TIME ZONE :tz)::int AS hour
            FROM log_entry AS e LEFT JOIN project AS p ON p.id = e.project_id
            WHERE {_period_filter(project_ids)}
        )
        SELECT GROUPING(type, project_id, value_rating, impact_level, day, hour) AS grouping,
               type, min(project_name) AS project_name, value_rating, impact_level, hour,
               sum(minutes)::bigint AS minutes, count(*) AS entries,
               sum(weighted)::bigint AS weighted
        FROM period
        GROUP BY GROUPING SETS (
            (type), (project_id), (value_rating), (impact_level), (day), (hour), ()
        )
        """  # noqa: S608 - the interpolated parts are constants of this module
    )
    return _params(statement, project_ids)


def _round(value: Decimal, places: str) -> float:
    return float(value.quantize(Decimal(places), rounding=ROUND_HALF_UP))


def _percent(part: int, whole: int) -> float:
    if whole <= 0:
        return 0.0
    return _round(Decimal(part) * 100 / Decimal(whole), "0.1")


def _shares(rows: list[tuple[str, int]], total: int) -> list[Share]:
    ordered = sorted(rows, key=lambda item: (-item[1], item[0]))
    return [Share(key, minutes, _percent(minutes, total)) for key, minutes in ordered]


async def compute_metrics(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    start: datetime,
    end: datetime,
    timezone: str,
    project_ids: Sequence[uuid.UUID] | None = None,
) -> Metrics:
    """Metrics of the user's entries starting in [start, end), days and hours in `timezone`.

    `project_ids` (when not empty) keeps only the entries of those projects.
    """
    params: dict[str, Any] = {"user_id": user_id, "start": start, "end": end, "tz": timezone}
    if project_ids:
        params["project_ids"] = list(project_ids)
    rows = (await session.execute(_metrics_sql(project_ids), params)).all()
    groups: dict[str, list[Any]] = {name: [] for name in _GROUPS.values()}
    for row in rows:
        groups[_GROUPS[row.grouping]].append(row)
    total_row = groups["total"][0] if groups["total"] else None
    # With no rows at all, the () grouping set still yields one row (count 0, sums null).
    total = int(total_row.minutes or 0) if total_row is not None else 0
    entries = int(total_row.entries) if total_row is not None else 0
    weighted = int(total_row.weighted or 0) if total_row is not None else 0
    by_value = {row.value_rating: int(row.minutes) for row in groups["value"]}
    by_impact = {row.impact_level: int(row.minutes) for row in groups["impact"]}
    days = len(groups["day"])
    hours = sorted(((int(row.minutes), row.hour) for row in groups["hour"]), key=_peak_order)
    score = 0.0
    if total > 0:
        mean = Decimal(weighted) / Decimal(total)
        score = _round((mean - _MIN_WEIGHT) / (_MAX_WEIGHT - _MIN_WEIGHT) * 100, "0.1")
    return Metrics(
        total_minutes=total,
        total_entries=entries,
        by_type=_shares([(row.type, int(row.minutes)) for row in groups["type"]], total),
        by_project=_shares(
            [(row.project_name or NO_PROJECT, int(row.minutes)) for row in groups["project"]],
            total,
        ),
        by_value=_shares(list(by_value.items()), total),
        by_impact=_shares(list(by_impact.items()), total),
        average_daily_hours=_round(Decimal(total) / 60 / days, "0.01") if days else 0.0,
        days_with_entries=days,
        peak_hour=hours[0][1] if hours else None,
        high_value_percent=_percent(by_value.get("HIGH", 0), total),
        product_company_impact_percent=_percent(
            by_impact.get("PRODUCT", 0) + by_impact.get("COMPANY", 0), total
        ),
        value_impact_score=score,
    )


def _peak_order(item: tuple[int, int]) -> tuple[int, int]:
    # Most minutes first; of equal hours, the earliest.
    minutes, hour = item
    return (-minutes, hour)


async def list_period_entries(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    start: datetime,
    end: datetime,
    timezone: str,
    project_ids: Sequence[uuid.UUID] | None = None,
    limit: int = MAX_PERIOD_ENTRIES,
) -> list[dict[str, Any]]:
    """The period's entries as EntryLine dicts (worker/jobs.py), oldest first.

    At most `limit`: when there are more, the newest are kept.
    """
    statement = sa.text(
        f"""
        SELECT (e.start_time AT TIME ZONE :tz)::date AS day, e.title, e.type,
               e.duration_minutes AS minutes, e.value_rating, e.impact_level,
               p.name AS project,
               ARRAY(
                   SELECT t.name FROM log_entry_tag AS lt JOIN tag AS t ON t.id = lt.tag_id
                   WHERE lt.entry_id = e.id ORDER BY lower(t.name)
               ) AS tags
        FROM log_entry AS e LEFT JOIN project AS p ON p.id = e.project_id
        WHERE {_period_filter(project_ids)}
        ORDER BY e.start_time DESC, e.id DESC
        LIMIT :limit
        """  # noqa: S608 - the interpolated parts are constants of this module
    )
    params: dict[str, Any] = {
        "user_id": user_id,
        "start": start,
        "end": end,
        "tz": timezone,
        "limit": limit,
    }
    if project_ids:
        params["project_ids"] = list(project_ids)
    rows = (await session.execute(_params(statement, project_ids), params)).all()
    return [
        {
            "date": row.day.isoformat(),
            "title": row.title,
            "type": row.type,
            "minutes": row.minutes,
            "value_rating": row.value_rating,
            "impact_level": row.impact_level,
            "project": row.project,
            "tags": list(row.tags),
        }
        for row in reversed(rows)
    ]
