from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlmodel import Field, SQLModel

from db.models.base import timestamp


class CalendarFeed(SQLModel, table=True):
    """A user's private iCalendar feed (GET /calendar/{secret}.ics): one a user. Only the
    SHA-256 of its secret is kept; regenerating replaces it (the old URL dies), disabling
    deletes the row, and deleting the account cascades it away."""

    __tablename__ = "calendar_feed"
    __table_args__ = (sa.Index("uq_calendar_feed_secret_hash", "secret_hash", unique=True),)

    user_id: uuid.UUID = Field(
        sa_column=sa.Column(
            UUID(as_uuid=True), sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
        )
    )
    # Lower-case hex of sha256(secret): the secret is 256 random bits, so a fast hash is as
    # hard to reverse as a slow one.
    secret_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    created_at: datetime = Field(sa_column=timestamp())
