"""Column factories shared by the table models (a Column can belong to one table only)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID


def uuid_pk() -> Any:
    return sa.Column(
        UUID(as_uuid=True), primary_key=True, server_default=sa.text("gen_random_uuid()")
    )


def uuid_fk(target: str, *, nullable: bool = False, ondelete: str = "CASCADE") -> Any:
    return sa.Column(
        UUID(as_uuid=True), sa.ForeignKey(target, ondelete=ondelete), nullable=nullable
    )


def timestamp(*, nullable: bool = False, default_now: bool = True) -> Any:
    return sa.Column(
        sa.DateTime(timezone=True),
        nullable=nullable,
        server_default=sa.func.now() if default_now else None,
    )
