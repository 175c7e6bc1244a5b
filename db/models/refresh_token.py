from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlmodel import Field, SQLModel

from db.models.base import timestamp, uuid_fk

MAX_DEVICE = 100


class RefreshToken(SQLModel, table=True):
    """One issued refresh token. Rotation links it to its successor; a family shares a login
    (a session): its live token carries the session's device, sign-in and last use."""

    __tablename__ = "refresh_token"
    __table_args__ = (
        sa.Index("ix_refresh_token_family_id", "family_id"),
        sa.Index("ix_refresh_token_user_id", "user_id"),
        sa.Index("ix_refresh_token_expires_at", "expires_at"),
        sa.Index("ix_refresh_token_revoked_at", "revoked_at"),
        sa.CheckConstraint(
            f"char_length(device) <= {MAX_DEVICE}", name="ck_refresh_token_device_length"
        ),
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
    # What signed in ("Firefox on Linux", from its User-Agent at logIn/signUp); copied to
    # every rotation of the family. NULL: no User-Agent (or a row older than 0007).
    device: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    # When the family signed in, copied through its rotations: its first rows are deleted
    # once expired, so min(created_at) would drift for a session refreshed for months.
    signed_in_at: datetime | None = Field(
        default=None, sa_column=timestamp(nullable=True, default_now=False)
    )
    # When the family was last refreshed (set on each rotation); NULL: not since sign-in.
    last_used_at: datetime | None = Field(
        default=None, sa_column=timestamp(nullable=True, default_now=False)
    )
