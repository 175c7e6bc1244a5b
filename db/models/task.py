from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlmodel import Field, SQLModel

from db.models.base import timestamp, uuid_fk, uuid_pk
from db.models.enums import TaskStatus, check_in


class Task(SQLModel, table=True):
    """A unit of work for a worker: the durable queue of DESIGN.md section 2."""

    __tablename__ = "task"
    __table_args__ = (
        # The lease query: the oldest runnable queued task.
        sa.Index(
            "ix_task_runnable",
            "run_after",
            "created_at",
            postgresql_where=sa.text("status = 'queued'"),
        ),
        sa.Index(
            "ix_task_lease_expiry",
            "lease_expires_at",
            postgresql_where=sa.text("status = 'leased'"),
        ),
        sa.Index("ix_task_status_kind", "status", "kind"),
        sa.Index("uq_task_idempotency_key", "idempotency_key", unique=True),
        sa.CheckConstraint(check_in("status", TaskStatus), name="ck_task_status"),
        sa.CheckConstraint("attempts >= 0 AND max_attempts >= 1", name="ck_task_attempts"),
    )

    id: uuid.UUID = Field(sa_column=uuid_pk())
    user_id: uuid.UUID | None = Field(default=None, sa_column=uuid_fk("user.id", nullable=True))
    kind: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    payload: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=sa.Column(JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    )
    status: str = Field(sa_column=sa.Column(sa.Text, nullable=False, server_default="queued"))
    attempts: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0")
    )
    max_attempts: int = Field(
        default=5, sa_column=sa.Column(sa.Integer, nullable=False, server_default="5")
    )
    run_after: datetime = Field(sa_column=timestamp())
    # A fresh token per lease: a result is accepted only with the token of the current lease.
    lease_token: uuid.UUID | None = Field(
        default=None, sa_column=sa.Column(UUID(as_uuid=True), nullable=True)
    )
    lease_owner: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    lease_expires_at: datetime | None = Field(
        default=None, sa_column=timestamp(nullable=True, default_now=False)
    )
    last_error: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    idempotency_key: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    created_at: datetime = Field(sa_column=timestamp())
    updated_at: datetime = Field(sa_column=timestamp())
