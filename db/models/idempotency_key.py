from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from db.models.base import timestamp, uuid_fk


class IdempotencyKey(SQLModel, table=True):
    """A client's idempotency key for a mutation that creates things, and what it created.

    Written in the transaction that creates the objects, so a retry (even a concurrent one,
    which waits on the primary key) either finds the first's committed result or, when the
    first rolled back, becomes the first. Kept 24 hours (the scheduler's hourly clean-up).
    """

    __tablename__ = "idempotency_key"
    __table_args__ = (
        sa.PrimaryKeyConstraint("user_id", "key"),
        sa.Index("ix_idempotency_key_created_at", "created_at"),
    )

    user_id: uuid.UUID = Field(sa_column=uuid_fk("user.id"))
    key: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    # The mutation (createLogEntries, …) and a SHA-256 of it and its arguments: the same key
    # with another request is a client's bug, answered CONFLICT.
    operation: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    request_hash: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    # The ids of what the request created, in the order it answered them.
    result: list[Any] | None = Field(default=None, sa_column=sa.Column(JSONB, nullable=True))
    created_at: datetime = Field(sa_column=timestamp())
