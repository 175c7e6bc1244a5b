from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlmodel import Field, SQLModel

from db.models.base import timestamp, uuid_fk, uuid_pk
from db.models.enums import ActivityType, ImpactLevel, ValueRating, check_in


def _nullable_check_in(column: str, enum: type[ActivityType | ValueRating | ImpactLevel]) -> str:
    return f"{column} IS NULL OR {check_in(column, enum)}"


class RunningTimer(SQLModel, table=True):
    """A timer the server keeps while it runs; stopping it writes a log entry and deletes it.

    At most one a user (the unique user_id): of two concurrent starts one inserts, the other
    fails on the constraint and is answered CONFLICT. type, value and impact stay null until
    set, so the entry made at the stop gets createLogEntry's defaults for them.
    """

    __tablename__ = "running_timer"
    __table_args__ = (
        sa.UniqueConstraint("user_id", name="uq_running_timer_user"),
        sa.CheckConstraint(
            "char_length(title) BETWEEN 1 AND 200", name="ck_running_timer_title_length"
        ),
        sa.CheckConstraint(
            "description IS NULL OR char_length(description) <= 2000",
            name="ck_running_timer_description_length",
        ),
        sa.CheckConstraint(_nullable_check_in("type", ActivityType), name="ck_running_timer_type"),
        sa.CheckConstraint(
            _nullable_check_in("value_rating", ValueRating), name="ck_running_timer_value_rating"
        ),
        sa.CheckConstraint(
            _nullable_check_in("impact_level", ImpactLevel), name="ck_running_timer_impact_level"
        ),
    )

    id: uuid.UUID = Field(sa_column=uuid_pk())
    user_id: uuid.UUID = Field(sa_column=uuid_fk("user.id"))
    project_id: uuid.UUID | None = Field(
        default=None, sa_column=uuid_fk("project.id", nullable=True, ondelete="SET NULL")
    )
    title: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    description: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    type: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    value_rating: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    impact_level: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    started_at: datetime = Field(sa_column=timestamp(default_now=False))
    created_at: datetime = Field(sa_column=timestamp())
    updated_at: datetime = Field(sa_column=timestamp())


class RunningTimerTag(SQLModel, table=True):
    __tablename__ = "running_timer_tag"
    __table_args__ = (sa.Index("ix_running_timer_tag_tag_id", "tag_id"),)

    timer_id: uuid.UUID = Field(
        sa_column=sa.Column(
            UUID(as_uuid=True),
            sa.ForeignKey("running_timer.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    tag_id: uuid.UUID = Field(
        sa_column=sa.Column(
            UUID(as_uuid=True), sa.ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True
        )
    )
