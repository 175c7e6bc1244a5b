from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlmodel import Field, SQLModel

from db.models.base import timestamp, uuid_fk


class RefreshToken(SQLModel, table=True):
    """One issued refresh token. Rotation links it to its successor; a family shares a login."""

    __tablename__ = "refresh_token"
    __table_args__ = (
        sa.Index("ix_refresh_token_family_id", "family_id"),
        sa.Index("ix_refresh_token_user_id", "user_id"),
        sa.Index("ix_refresh_token_expires_at", "expires_at"),
        sa.Index("ix_refresh_token_revoked_at", "revoked_at"),
    )

    jti: uuid.UUID = Field(sa_column=sa.Column(UUID(as_uuid=True), primary_key=True))
    family_id: uuid.UUID = Field(sa_column=sa.Column(UUID(as_uuid=True), nullable=False))
    user_id: uuid.UUID = Field(sa_column=uuid_fk("user.id"))
    expires_at: datetime = Field(sa_column=timestamp(default_now=False))
    created_at: datetime = Field(sa_column=timestamp())
    revoked_at: datetime | None = Field(
        default=None, sa_column=timestamp(nullable=True, default_now=False)
    )
    replaced_by: uuid.UUID | None = Field(
        default=None, sa_column=sa.Column(UUID(as_uuid=True), nullable=True)
    )
