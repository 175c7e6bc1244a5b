"""Private iCalendar feeds of the users' entries: one a user, only its secret's hash kept.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'calendar_feed',
        sa.Column('user_id', postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id'),
    )
    op.create_index('uq_calendar_feed_secret_hash', 'calendar_feed', ['secret_hash'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_calendar_feed_secret_hash', table_name='calendar_feed')
    op.drop_table('calendar_feed')
