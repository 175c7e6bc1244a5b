"""The running timer: at most one a user (unique user_id), its tags; its event topic.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('running_timer',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('project_id', sa.UUID(), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('type', sa.Text(), nullable=True),
    sa.Column('value_rating', sa.Text(), nullable=True),
    sa.Column('impact_level', sa.Text(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("impact_level IS NULL OR impact_level IN ('PERSONAL', 'TEAM', 'PRODUCT', 'COMPANY')", name='ck_running_timer_impact_level'),
    sa.CheckConstraint("type IS NULL OR type IN ('MEETING', 'CODE', 'DEBUG', 'DOCS', 'MENTORING', 'REVIEW', 'PLANNING', 'LEARNING', 'OPS', 'ADMIN')", name='ck_running_timer_type'),
    sa.CheckConstraint("value_rating IS NULL OR value_rating IN ('LOW', 'MEDIUM', 'HIGH')", name='ck_running_timer_value_rating'),
    sa.CheckConstraint('char_length(title) BETWEEN 1 AND 200', name='ck_running_timer_title_length'),
    sa.CheckConstraint('description IS NULL OR char_length(description) <= 2000', name='ck_running_timer_description_length'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    # At most one running timer a user: a second concurrent start fails here (CONFLICT).
    sa.UniqueConstraint('user_id', name='uq_running_timer_user')
    )
    op.create_table('running_timer_tag',
    sa.Column('timer_id', sa.UUID(), nullable=False),
    sa.Column('tag_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['tag_id'], ['tag.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['timer_id'], ['running_timer.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('timer_id', 'tag_id')
    )
    op.create_index('ix_running_timer_tag_tag_id', 'running_timer_tag', ['tag_id'], unique=False)
    # timerEvents: the timer's changes go through the event log like the other streams.
    op.drop_constraint('ck_event_topic', 'event', type_='check')
    op.create_check_constraint(
        'ck_event_topic', 'event', "topic IN ('insight', 'log_entry', 'notification', 'running_timer')"
    )


def downgrade() -> None:
    op.execute("DELETE FROM event WHERE topic = 'running_timer'")
    op.drop_constraint('ck_event_topic', 'event', type_='check')
    op.create_check_constraint(
        'ck_event_topic', 'event', "topic IN ('insight', 'log_entry', 'notification')"
    )
    op.drop_index('ix_running_timer_tag_tag_id', table_name='running_timer_tag')
    op.drop_table('running_timer_tag')
    op.drop_table('running_timer')
