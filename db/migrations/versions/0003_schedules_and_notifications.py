"""Schedules and notifications: the scheduler's idempotency record, reminders, their events.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 09:29:14.445318
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('notification',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('LOGGING_REMINDER')", name='ck_notification_kind'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_notification_user_id_created_at', 'notification', ['user_id', 'created_at'], unique=False)
    op.create_table('schedule_run',
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('job', sa.Text(), nullable=False),
    sa.Column('period', sa.Date(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ran_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.CheckConstraint("job IN ('WEEKLY_REPORT', 'DAILY_SUMMARY', 'LOGGING_REMINDER')", name='ck_schedule_run_job'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'job', 'period')
    )
    op.create_index('ix_schedule_run_ran_at', 'schedule_run', ['ran_at'], unique=False)
    op.drop_constraint('ck_event_topic', 'event', type_='check')
    op.create_check_constraint(
        'ck_event_topic', 'event', "topic IN ('insight', 'log_entry', 'notification')"
    )


def downgrade() -> None:
    op.execute("DELETE FROM event WHERE topic = 'notification'")
    op.drop_constraint('ck_event_topic', 'event', type_='check')
    op.create_check_constraint('ck_event_topic', 'event', "topic IN ('insight', 'log_entry')")
    op.drop_index('ix_schedule_run_ran_at', table_name='schedule_run')
    op.drop_table('schedule_run')
    op.drop_index('ix_notification_user_id_created_at', table_name='notification')
    op.drop_table('notification')
