from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from db.models.base import timestamp, uuid_pk


class User(SQLModel, table=True):
    __tablename__ = "user"
    __table_args__ = (
        # Case-insensitive uniqueness: "Ada@x.io" and "ada@x.io" are one account.
        sa.Index("uq_user_email_lower", sa.text("lower(email)"), unique=True),
        sa.CheckConstraint("char_length(email) BETWEEN 3 AND 254", name="ck_user_email_length"),
        sa.CheckConstraint(
            "char_length(first_name) BETWEEN 1 AND 100", name="ck_user_first_name_length"
        ),
        sa.CheckConstraint(
            "char_length(last_name) BETWEEN 1 AND 100", name="ck_user_last_name_length"
        ),
        sa.CheckConstraint("char_length(timezone) BETWEEN 1 AND 64", name="ck_user_timezone"),
    )

    id: uuid.UUID = Field(sa_column=uuid_pk())
    email: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    password_hash: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    first_name: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    last_name: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    timezone: str = Field(sa_column=sa.Column(sa.Text, nullable=False, server_default="UTC"))
    preferences: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=sa.Column(JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    )
    last_login_at: datetime | None = Field(
        default=None, sa_column=timestamp(nullable=True, default_now=False)
    )
    created_at: datetime = Field(sa_column=timestamp())
    updated_at: datetime = Field(sa_column=timestamp())
