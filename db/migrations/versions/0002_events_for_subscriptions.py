"""Events for subscriptions: the durable, per-user ordered log that replays resume from.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 21:05:57.607219
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('event',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('topic', sa.Text(), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('object_id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("topic IN ('insight', 'log_entry')", name='ck_event_topic'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_event_created_at', 'event', ['created_at'], unique=False)
    op.create_index('ix_event_user_topic_id', 'event', ['user_id', 'topic', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_event_user_topic_id', table_name='event')
    op.drop_index('ix_event_created_at', table_name='event')
    op.drop_table('event')
