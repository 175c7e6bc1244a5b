from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.models.base import timestamp, uuid_fk, uuid_pk
from db.models.enums import ProjectStatus, check_in

COLOR_PATTERN = "^#[0-9A-Fa-f]{6}$"


class Project(SQLModel, table=True):
    __tablename__ = "project"
    __table_args__ = (
        sa.Index("uq_project_user_name", "user_id", sa.text("lower(name)"), unique=True),
        sa.CheckConstraint("char_length(name) BETWEEN 1 AND 200", name="ck_project_name_length"),
        sa.CheckConstraint(
            "description IS NULL OR char_length(description) <= 2000",
            name="ck_project_description_length",
        ),
        sa.CheckConstraint(check_in("status", ProjectStatus), name="ck_project_status"),
        sa.CheckConstraint(f"color IS NULL OR color ~ '{COLOR_PATTERN}'", name="ck_project_color"),
        sa.CheckConstraint(
            "start_date IS NULL OR end_date IS NULL OR end_date >= start_date",
            name="ck_project_dates",
        ),
    )

    id: uuid.UUID = Field(sa_column=uuid_pk())
    user_id: uuid.UUID = Field(sa_column=uuid_fk("user.id"))
    name: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    description: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    status: str = Field(sa_column=sa.Column(sa.Text, nullable=False, server_default="ACTIVE"))
    color: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    start_date: date | None = Field(default=None, sa_column=sa.Column(sa.Date, nullable=True))
    end_date: date | None = Field(default=None, sa_column=sa.Column(sa.Date, nullable=True))
    created_at: datetime = Field(sa_column=timestamp())
    updated_at: datetime = Field(sa_column=timestamp())
