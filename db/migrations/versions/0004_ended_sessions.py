"""Ended sessions of deleted accounts (for the denylist's rebuild), revoked_at indexed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ended_session',
    sa.Column('family_id', sa.UUID(), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('family_id')
    )
    op.create_index('ix_ended_session_ended_at', 'ended_session', ['ended_at'], unique=False)
    # The denylist's rebuild and its periodic re-sync ask for sessions revoked recently.
    op.create_index('ix_refresh_token_revoked_at', 'refresh_token', ['revoked_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_refresh_token_revoked_at', table_name='refresh_token')
    op.drop_index('ix_ended_session_ended_at', table_name='ended_session')
    op.drop_table('ended_session')
