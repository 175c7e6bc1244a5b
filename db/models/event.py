from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.models.base import timestamp, uuid_fk


class Event(SQLModel, table=True):
    """A change a user's subscribers must see, written in the transaction that made it.

    The id is the subscription cursor. Event writers take a per-user advisory lock first
    (db/queries/event.py), so a user's events commit in id order: replaying `id > cursor`
    never skips an event that commits later with a smaller id.
    """

    __tablename__ = "event"
    __table_args__ = (
        sa.Index("ix_event_user_topic_id", "user_id", "topic", "id"),
        sa.Index("ix_event_created_at", "created_at"),
        sa.CheckConstraint(
            "topic IN ('insight', 'log_entry', 'notification', 'running_timer')",
            name="ck_event_topic",
        ),
    )

    id: int = Field(sa_column=sa.Column(sa.BigInteger, sa.Identity(always=True), primary_key=True))
    user_id: uuid.UUID = Field(sa_column=uuid_fk("user.id"))
    topic: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    action: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    object_id: uuid.UUID = Field(sa_column=sa.Column(sa.UUID(as_uuid=True), nullable=False))
    created_at: datetime = Field(sa_column=timestamp())
