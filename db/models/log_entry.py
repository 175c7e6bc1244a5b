from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR, UUID
from sqlmodel import Field, SQLModel

from db.models.base import timestamp, uuid_fk, uuid_pk
from db.models.enums import ActivityType, ImpactLevel, ValueRating, check_in

SEARCH_CONFIG = "english"


class LogEntry(SQLModel, table=True):
    __tablename__ = "log_entry"
    __table_args__ = (
        # Every listing is "this user's entries, newest first": the page query walks this index.
        sa.Index(
            "ix_log_entry_user_start", "user_id", sa.text("start_time DESC"), sa.text("id DESC")
        ),
        sa.Index("ix_log_entry_user_project", "user_id", "project_id", sa.text("start_time DESC")),
        sa.Index("ix_log_entry_user_type", "user_id", "type", sa.text("start_time DESC")),
        sa.Index("ix_log_entry_search", "search_vector", postgresql_using="gin"),
        sa.CheckConstraint(
            "char_length(title) BETWEEN 1 AND 200", name="ck_log_entry_title_length"
        ),
        sa.CheckConstraint(
            "description IS NULL OR char_length(description) <= 2000",
            name="ck_log_entry_description_length",
        ),
        sa.CheckConstraint("end_time > start_time", name="ck_log_entry_end_after_start"),
        sa.CheckConstraint(check_in("type", ActivityType), name="ck_log_entry_type"),
        sa.CheckConstraint(check_in("value_rating", ValueRating), name="ck_log_entry_value_rating"),
        sa.CheckConstraint(check_in("impact_level", ImpactLevel), name="ck_log_entry_impact_level"),
    )

    id: uuid.UUID = Field(sa_column=uuid_pk())
    user_id: uuid.UUID = Field(sa_column=uuid_fk("user.id"))
    project_id: uuid.UUID | None = Field(
        default=None, sa_column=uuid_fk("project.id", nullable=True, ondelete="SET NULL")
    )
    title: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    description: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    type: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    start_time: datetime = Field(sa_column=timestamp(default_now=False))
    end_time: datetime = Field(sa_column=timestamp(default_now=False))
    duration_minutes: int = Field(
        sa_column=sa.Column(
            sa.Integer,
            sa.Computed(
                "floor(EXTRACT(EPOCH FROM (end_time - start_time)) / 60)::integer", persisted=True
            ),
            nullable=False,
        )
    )
    value_rating: str = Field(sa_column=sa.Column(sa.Text, nullable=False, server_default="MEDIUM"))
    impact_level: str = Field(sa_column=sa.Column(sa.Text, nullable=False, server_default="TEAM"))
    # The worker's enrichment: {"tags": [...], "skills": [...], "model": "..."}; null until then.
    suggestions: dict[str, Any] | None = Field(
        default=None, sa_column=sa.Column(JSONB, nullable=True)
    )
    search_vector: str | None = Field(
        default=None,
        sa_column=sa.Column(
            TSVECTOR,
            sa.Computed(
                f"to_tsvector('{SEARCH_CONFIG}'::regconfig, "
                "title || ' ' || coalesce(description, ''))",
                persisted=True,
            ),
            nullable=True,
        ),
    )
    created_at: datetime = Field(sa_column=timestamp())
    updated_at: datetime = Field(sa_column=timestamp())


class LogEntryTag(SQLModel, table=True):
    __tablename__ = "log_entry_tag"
    __table_args__ = (sa.Index("ix_log_entry_tag_tag_id", "tag_id"),)

    entry_id: uuid.UUID = Field(
        sa_column=sa.Column(
            UUID(as_uuid=True), sa.ForeignKey("log_entry.id", ondelete="CASCADE"), primary_key=True
        )
    )
    tag_id: uuid.UUID = Field(
        sa_column=sa.Column(
            UUID(as_uuid=True), sa.ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True
        )
    )
