from __future__ import annotations

from datetime import datetime

import strawberry

from db.queries.productivity import Metrics, Share


@strawberry.type(description="Minutes of one key and their share of the range's total.")
class TimeShare:
    key: str = strawberry.field(
        description="The activity type, project name (`No project` for none), value rating "
        "or impact level."
    )
    minutes: int = strawberry.field(description="Minutes of the entries with this key.")
    percent: float = strawberry.field(
        description="Share of the total minutes, in percent, to one decimal."
    )

    @classmethod
    def from_share(cls, share: Share) -> TimeShare:
        return cls(key=share.key, minutes=share.minutes, percent=share.percent)


@strawberry.type(
    description="Where the time of the entries starting in a range went; each list is sorted "
    "by minutes, most first (then by key)."
)
class TimeAllocation:
    from_: datetime = strawberry.field(
        name="from", description="Start of the range: entries starting at or after it."
    )
    to: datetime = strawberry.field(description="End of the range: entries starting before it.")
    total_minutes: int = strawberry.field(description="Minutes of all the range's entries.")
    by_type: list[TimeShare] = strawberry.field(description="Minutes by activity type.")
    by_project: list[TimeShare] = strawberry.field(description="Minutes by project name.")
    by_value: list[TimeShare] = strawberry.field(description="Minutes by value rating.")
    by_impact: list[TimeShare] = strawberry.field(description="Minutes by impact level.")

    @classmethod
    def from_metrics(cls, metrics: Metrics, *, start: datetime, end: datetime) -> TimeAllocation:
        return cls(
            from_=start,
            to=end,
            total_minutes=metrics.total_minutes,
            by_type=[TimeShare.from_share(share) for share in metrics.by_type],
            by_project=[TimeShare.from_share(share) for share in metrics.by_project],
            by_value=[TimeShare.from_share(share) for share in metrics.by_value],
            by_impact=[TimeShare.from_share(share) for share in metrics.by_impact],
        )


@strawberry.type(
    description="How much, how often and how valuable the work of a range was; days and "
    "hours are the user's own (their time zone)."
)
class ProductivityMetrics:
    from_: datetime = strawberry.field(
        name="from", description="Start of the range: entries starting at or after it."
    )
    to: datetime = strawberry.field(description="End of the range: entries starting before it.")
    total_minutes: int = strawberry.field(description="Minutes of all the range's entries.")
    total_entries: int = strawberry.field(description="How many entries start in the range.")
    average_daily_hours: float = strawberry.field(
        description="Hours a day with entries (total hours / daysWithEntries), two decimals."
    )
    days_with_entries: int = strawberry.field(
        description="Distinct local days on which an entry starts."
    )
    peak_hour: int | None = strawberry.field(
        description="Local hour (0–23) in which the most minutes start; null without entries."
    )
    high_value_percent: float = strawberry.field(
        description="Share of minutes rated HIGH, in percent, one decimal."
    )
    product_company_impact_percent: float = strawberry.field(
        description="Share of minutes with PRODUCT or COMPANY impact, in percent, one decimal."
    )
    value_impact_score: float = strawberry.field(
        description="0–100: the minute-weighted mean of value (LOW 1 … HIGH 3) × impact "
        "(PERSONAL 1 … COMPANY 4), scaled from 1..12 to 0..100, one decimal."
    )

    @classmethod
    def from_metrics(
        cls, metrics: Metrics, *, start: datetime, end: datetime
    ) -> ProductivityMetrics:
        return cls(
            from_=start,
            to=end,
            total_minutes=metrics.total_minutes,
            total_entries=metrics.total_entries,
            average_daily_hours=metrics.average_daily_hours,
            days_with_entries=metrics.days_with_entries,
            peak_hour=metrics.peak_hour,
            high_value_percent=metrics.high_value_percent,
            product_company_impact_percent=metrics.product_company_impact_percent,
            value_impact_score=metrics.value_impact_score,
        )
