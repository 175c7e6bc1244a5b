from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.models.base import timestamp, uuid_fk, uuid_pk
from db.models.project import COLOR_PATTERN


class Tag(SQLModel, table=True):
    """A user's tag. usage_count is kept by a trigger on log_entry_tag, in the same transaction."""

    __tablename__ = "tag"
    __table_args__ = (
        sa.Index("uq_tag_user_name", "user_id", sa.text("lower(name)"), unique=True),
        sa.Index("ix_tag_user_usage", "user_id", sa.text("usage_count DESC")),
        sa.CheckConstraint("char_length(name) BETWEEN 1 AND 50", name="ck_tag_name_length"),
        sa.CheckConstraint(
            "category IS NULL OR char_length(category) <= 50", name="ck_tag_category_length"
        ),
        sa.CheckConstraint(f"color IS NULL OR color ~ '{COLOR_PATTERN}'", name="ck_tag_color"),
        sa.CheckConstraint("usage_count >= 0", name="ck_tag_usage_count"),
    )

    id: uuid.UUID = Field(sa_column=uuid_pk())
    user_id: uuid.UUID = Field(sa_column=uuid_fk("user.id"))
    name: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    category: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    color: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    usage_count: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0")
    )
    created_at: datetime = Field(sa_column=timestamp())
    updated_at: datetime = Field(sa_column=timestamp())
