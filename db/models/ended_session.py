from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlmodel import Field, SQLModel

from db.models.base import timestamp


class EndedSession(SQLModel, table=True):
    """A session (refresh-token family) of a deleted account.

    Deleting an account cascades its refresh-token rows away, and with them the record that
    its sessions were revoked; this row outlives the account (no foreign key) so that the
    denylist, rebuilt from PostgreSQL after Redis lost its keys, still refuses the deleted
    account's access tokens. It goes with the hourly clean-up once `expires_at` (the last
    expiry of the family's refresh tokens, after which no token of it is accepted) passes.
    """

    __tablename__ = "ended_session"
    __table_args__ = (sa.Index("ix_ended_session_ended_at", "ended_at"),)

    family_id: uuid.UUID = Field(sa_column=sa.Column(UUID(as_uuid=True), primary_key=True))
    ended_at: datetime = Field(sa_column=timestamp())
    expires_at: datetime = Field(sa_column=timestamp(default_now=False))
