from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlmodel import Field, SQLModel

from db.models.base import timestamp, uuid_fk, uuid_pk
from db.models.enums import InsightKind, InsightStatus, check_in


class Insight(SQLModel, table=True):
    __tablename__ = "insight"
    __table_args__ = (
        sa.Index(
            "ix_insight_user_created", "user_id", sa.text("created_at DESC"), sa.text("id DESC")
        ),
        sa.Index("ix_insight_user_updated", "user_id", "updated_at", "id"),
        sa.CheckConstraint(check_in("kind", InsightKind), name="ck_insight_kind"),
        sa.CheckConstraint(check_in("status", InsightStatus), name="ck_insight_status"),
        sa.CheckConstraint("period_end >= period_start", name="ck_insight_period"),
        sa.CheckConstraint("attempts >= 0", name="ck_insight_attempts"),
        sa.CheckConstraint(
            "char_length(edited_content) <= 100000", name="ck_insight_edited_content_length"
        ),
    )

    id: uuid.UUID = Field(sa_column=uuid_pk())
    user_id: uuid.UUID = Field(sa_column=uuid_fk("user.id"))
    kind: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    status: str = Field(sa_column=sa.Column(sa.Text, nullable=False, server_default="PENDING"))
    period_start: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    period_end: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    project_ids: list[uuid.UUID] = Field(
        default_factory=list,
        sa_column=sa.Column(ARRAY(UUID(as_uuid=True)), nullable=False, server_default="{}"),
    )
    focus_areas: list[str] = Field(
        default_factory=list,
        sa_column=sa.Column(ARRAY(sa.Text), nullable=False, server_default="{}"),
    )
    content: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    metrics: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(JSONB, nullable=True))
    model: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    # What the model reported: prompt/output token counts and durations (ns), as Ollama names them.
    generation: dict[str, Any] | None = Field(
        default=None, sa_column=sa.Column(JSONB, nullable=True)
    )
    task_id: uuid.UUID | None = Field(
        default=None, sa_column=sa.Column(UUID(as_uuid=True), nullable=True)
    )
    error: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    attempts: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0")
    )
    created_at: datetime = Field(sa_column=timestamp())
    updated_at: datetime = Field(sa_column=timestamp())
    completed_at: datetime | None = Field(
        default=None, sa_column=timestamp(nullable=True, default_now=False)
    )
    # What the worker checked of the text (graph/insights/task.py `checks_json`); null for
    # an insight not COMPLETED, or completed before the checks existed.
    checks: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(JSONB, nullable=True))
    # The user's own version of the text; `content` stays the one the worker wrote.
    edited_content: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    edited_at: datetime | None = Field(
        default=None, sa_column=timestamp(nullable=True, default_now=False)
    )
    # Deleted by its user: a tombstone (text and figures emptied) that every query skips, kept
    # so the live feeds can deliver the deletion like any other change.
    deleted_at: datetime | None = Field(
        default=None, sa_column=timestamp(nullable=True, default_now=False)
    )
