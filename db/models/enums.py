"""Value sets stored as text with CHECK constraints (easier to extend than PostgreSQL enums)."""

from __future__ import annotations

from enum import Enum


class ActivityType(str, Enum):
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


class ValueRating(str, Enum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


class ImpactLevel(str, Enum):
    PERSONAL = "PERSONAL"
    TEAM = "TEAM"
    PRODUCT = "PRODUCT"
    COMPANY = "COMPANY"


class ProjectStatus(str, Enum):
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    ON_HOLD = "ON_HOLD"
    CANCELLED = "CANCELLED"


class InsightKind(str, Enum):
    DAILY_SUMMARY = "DAILY_SUMMARY"
    WEEKLY_REPORT = "WEEKLY_REPORT"
    SPRINT_ANALYSIS = "SPRINT_ANALYSIS"
    MONTHLY_INSIGHTS = "MONTHLY_INSIGHTS"
    QUARTERLY_REVIEW = "QUARTERLY_REVIEW"
    ANNUAL_ASSESSMENT = "ANNUAL_ASSESSMENT"
    PERFORMANCE_REVIEW = "PERFORMANCE_REVIEW"


class InsightStatus(str, Enum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class TaskStatus(str, Enum):
    QUEUED = "queued"
    LEASED = "leased"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DEAD = "dead"


def check_in(column: str, enum: type[Enum]) -> str:
    """SQL for a CHECK that keeps a text column inside an enum's values."""
    values = ", ".join(f"'{member.value}'" for member in enum)
    return f"{column} IN ({values})"
