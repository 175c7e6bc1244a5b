"""Value sets stored as text with CHECK constraints (easier to extend than PostgreSQL enums)."""

from __future__ import annotations

from enum import Enum, StrEnum


class ActivityType(StrEnum):
    MEETING = "MEETING"
    CODE = "CODE"
    DEBUG = "DEBUG"
    DOCS = "DOCS"
    MENTORING = "MENTORING"
    REVIEW = "REVIEW"
    PLANNING = "PLANNING"
    LEARNING = "LEARNING"
    OPS = "OPS"
    ADMIN = "ADMIN"


class ValueRating(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


class ImpactLevel(StrEnum):
    PERSONAL = "PERSONAL"
    TEAM = "TEAM"
    PRODUCT = "PRODUCT"
    COMPANY = "COMPANY"


class ProjectStatus(StrEnum):
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    ON_HOLD = "ON_HOLD"
    CANCELLED = "CANCELLED"


class InsightKind(StrEnum):
    DAILY_SUMMARY = "DAILY_SUMMARY"
    WEEKLY_REPORT = "WEEKLY_REPORT"
    SPRINT_ANALYSIS = "SPRINT_ANALYSIS"
    MONTHLY_INSIGHTS = "MONTHLY_INSIGHTS"
    QUARTERLY_REVIEW = "QUARTERLY_REVIEW"
    ANNUAL_ASSESSMENT = "ANNUAL_ASSESSMENT"
    PERFORMANCE_REVIEW = "PERFORMANCE_REVIEW"


class InsightStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class TaskStatus(StrEnum):
    QUEUED = "queued"
    LEASED = "leased"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DEAD = "dead"


def check_in(column: str, enum: type[Enum]) -> str:
    """SQL for a CHECK that keeps a text column inside an enum's values."""
    values = ", ".join(f"'{member.value}'" for member in enum)
    return f"{column} IN ({values})"
