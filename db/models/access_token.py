from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from db.models.base import timestamp, uuid_fk, uuid_pk

MAX_TOKEN_NAME = 100


class AccessToken(SQLModel, table=True):
    """A personal access token, for scripts: named, scoped, optionally expiring. Only the
    SHA-256 of its secret is kept (the secret is shown once, when it is created); revoking
    deletes the row, and deleting the account cascades its tokens away."""

    __tablename__ = "access_token"
    __table_args__ = (
        sa.Index("ix_access_token_user_id", "user_id"),
        sa.Index("uq_access_token_secret_hash", "secret_hash", unique=True),
        sa.CheckConstraint(
            f"char_length(name) <= {MAX_TOKEN_NAME}", name="ck_access_token_name_length"
        ),
        sa.CheckConstraint("cardinality(scopes) > 0", name="ck_access_token_scopes"),
    )

    id: uuid.UUID = Field(sa_column=uuid_pk())
    user_id: uuid.UUID = Field(sa_column=uuid_fk("user.id"))
    name: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    # Lower-case hex of sha256(token): the token is 256 random bits, so a fast hash is as
    # hard to reverse as a slow one and costs a request nothing.
    secret_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    # "read" and/or "write" (write implies read).
    scopes: list[str] = Field(sa_column=sa.Column(ARRAY(sa.Text), nullable=False))
    created_at: datetime = Field(sa_column=timestamp())
    expires_at: datetime | None = Field(
        default=None, sa_column=timestamp(nullable=True, default_now=False)
    )
    # Updated at most once a minute per token (db/queries/access_token.py).
    last_used_at: datetime | None = Field(
        default=None, sa_column=timestamp(nullable=True, default_now=False)
    )
