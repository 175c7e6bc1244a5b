"""Initial schema: users, refresh tokens, projects, tags, log entries, insights, tasks.

Revision ID: 0001
Revises:
Create Date: 2026-11-29 20:03:32.768824
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


USAGE_COUNT_FUNCTIONS = (
    """
CREATE FUNCTION tag_usage_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tag SET usage_count = tag.usage_count + n.count
    FROM (SELECT tag_id, count(*) AS count FROM new_rows GROUP BY tag_id) AS n
    WHERE tag.id = n.tag_id;
    RETURN NULL;
END $$
""",
    """
CREATE FUNCTION tag_usage_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tag SET usage_count = greatest(tag.usage_count - o.count, 0)
    FROM (SELECT tag_id, count(*) AS count FROM old_rows GROUP BY tag_id) AS o
    WHERE tag.id = o.tag_id;
    RETURN NULL;
END $$
""",
)


def upgrade() -> None:
    op.create_table('user',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('email', sa.Text(), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('first_name', sa.Text(), nullable=False),
    sa.Column('last_name', sa.Text(), nullable=False),
    sa.Column('timezone', sa.Text(), server_default='UTC', nullable=False),
    sa.Column('preferences', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('char_length(email) BETWEEN 3 AND 254', name='ck_user_email_length'),
    sa.CheckConstraint('char_length(first_name) BETWEEN 1 AND 100', name='ck_user_first_name_length'),
    sa.CheckConstraint('char_length(last_name) BETWEEN 1 AND 100', name='ck_user_last_name_length'),
    sa.CheckConstraint('char_length(timezone) BETWEEN 1 AND 64', name='ck_user_timezone'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('uq_user_email_lower', 'user', [sa.literal_column('lower(email)')], unique=True)
    op.create_table('insight',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), server_default='PENDING', nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('project_ids', postgresql.ARRAY(sa.UUID()), server_default='{}', nullable=False),
    sa.Column('focus_areas', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('content', sa.Text(), nullable=True),
    sa.Column('metrics', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('model', sa.Text(), nullable=True),
    sa.Column('generation', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('task_id', sa.UUID(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('DAILY_SUMMARY', 'WEEKLY_REPORT', 'SPRINT_ANALYSIS', 'MONTHLY_INSIGHTS', 'QUARTERLY_REVIEW', 'ANNUAL_ASSESSMENT', 'PERFORMANCE_REVIEW')", name='ck_insight_kind'),
    sa.CheckConstraint("status IN ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED')", name='ck_insight_status'),
    sa.CheckConstraint('attempts >= 0', name='ck_insight_attempts'),
    sa.CheckConstraint('period_end >= period_start', name='ck_insight_period'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_insight_user_created', 'insight', ['user_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_insight_user_updated', 'insight', ['user_id', 'updated_at', 'id'], unique=False)
    op.create_table('project',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), server_default='ACTIVE', nullable=False),
    sa.Column('color', sa.Text(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("color IS NULL OR color ~ '^#[0-9A-Fa-f]{6}$'", name='ck_project_color'),
    sa.CheckConstraint("status IN ('ACTIVE', 'COMPLETED', 'ON_HOLD', 'CANCELLED')", name='ck_project_status'),
    sa.CheckConstraint('char_length(name) BETWEEN 1 AND 200', name='ck_project_name_length'),
    sa.CheckConstraint('description IS NULL OR char_length(description) <= 2000', name='ck_project_description_length'),
    sa.CheckConstraint('start_date IS NULL OR end_date IS NULL OR end_date >= start_date', name='ck_project_dates'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('uq_project_user_name', 'project', ['user_id', sa.literal_column('lower(name)')], unique=True)
    op.create_table('refresh_token',
    sa.Column('jti', sa.UUID(), nullable=False),
    sa.Column('family_id', sa.UUID(), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('replaced_by', sa.UUID(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('jti')
    )
    op.create_index('ix_refresh_token_expires_at', 'refresh_token', ['expires_at'], unique=False)
    op.create_index('ix_refresh_token_family_id', 'refresh_token', ['family_id'], unique=False)
    op.create_index('ix_refresh_token_user_id', 'refresh_token', ['user_id'], unique=False)
    op.create_table('tag',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('category', sa.Text(), nullable=True),
    sa.Column('color', sa.Text(), nullable=True),
    sa.Column('usage_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("color IS NULL OR color ~ '^#[0-9A-Fa-f]{6}$'", name='ck_tag_color'),
    sa.CheckConstraint('category IS NULL OR char_length(category) <= 50', name='ck_tag_category_length'),
    sa.CheckConstraint('char_length(name) BETWEEN 1 AND 50', name='ck_tag_name_length'),
    sa.CheckConstraint('usage_count >= 0', name='ck_tag_usage_count'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_tag_user_usage', 'tag', ['user_id', sa.literal_column('usage_count DESC')], unique=False)
    op.create_index('uq_tag_user_name', 'tag', ['user_id', sa.literal_column('lower(name)')], unique=True)
    op.create_table('task',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=True),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('status', sa.Text(), server_default='queued', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('max_attempts', sa.Integer(), server_default='5', nullable=False),
    sa.Column('run_after', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('lease_token', sa.UUID(), nullable=True),
    sa.Column('lease_owner', sa.Text(), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('idempotency_key', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('queued', 'leased', 'succeeded', 'failed', 'dead')", name='ck_task_status'),
    sa.CheckConstraint('attempts >= 0 AND max_attempts >= 1', name='ck_task_attempts'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_task_lease_expiry', 'task', ['lease_expires_at'], unique=False, postgresql_where=sa.text("status = 'leased'"))
    op.create_index('ix_task_runnable', 'task', ['run_after', 'created_at'], unique=False, postgresql_where=sa.text("status = 'queued'"))
    op.create_index('ix_task_status_kind', 'task', ['status', 'kind'], unique=False)
    op.create_index('uq_task_idempotency_key', 'task', ['idempotency_key'], unique=True)
    op.create_table('log_entry',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('project_id', sa.UUID(), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('type', sa.Text(), nullable=False),
    sa.Column('start_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), sa.Computed('floor(EXTRACT(EPOCH FROM (end_time - start_time)) / 60)::integer', persisted=True), nullable=False),
    sa.Column('value_rating', sa.Text(), server_default='MEDIUM', nullable=False),
    sa.Column('impact_level', sa.Text(), server_default='TEAM', nullable=False),
    sa.Column('suggestions', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('search_vector', postgresql.TSVECTOR(), sa.Computed("to_tsvector('english'::regconfig, title || ' ' || coalesce(description, ''))", persisted=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("impact_level IN ('PERSONAL', 'TEAM', 'PRODUCT', 'COMPANY')", name='ck_log_entry_impact_level'),
    sa.CheckConstraint("type IN ('MEETING', 'CODE', 'DEBUG', 'DOCS', 'MENTORING', 'REVIEW', 'PLANNING', 'LEARNING', 'OPS', 'ADMIN')", name='ck_log_entry_type'),
    sa.CheckConstraint("value_rating IN ('LOW', 'MEDIUM', 'HIGH')", name='ck_log_entry_value_rating'),
    sa.CheckConstraint('char_length(title) BETWEEN 1 AND 200', name='ck_log_entry_title_length'),
    sa.CheckConstraint('description IS NULL OR char_length(description) <= 2000', name='ck_log_entry_description_length'),
    sa.CheckConstraint('end_time > start_time', name='ck_log_entry_end_after_start'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_log_entry_search', 'log_entry', ['search_vector'], unique=False, postgresql_using='gin')
    op.create_index('ix_log_entry_user_project', 'log_entry', ['user_id', 'project_id', sa.literal_column('start_time DESC')], unique=False)
    op.create_index('ix_log_entry_user_start', 'log_entry', ['user_id', sa.literal_column('start_time DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_log_entry_user_type', 'log_entry', ['user_id', 'type', sa.literal_column('start_time DESC')], unique=False)
    op.create_table('log_entry_tag',
    sa.Column('entry_id', sa.UUID(), nullable=False),
    sa.Column('tag_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['log_entry.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tag.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id', 'tag_id')
    )
    op.create_index('ix_log_entry_tag_tag_id', 'log_entry_tag', ['tag_id'], unique=False)
    # tag.usage_count follows log_entry_tag inside the writing transaction, whatever writes it
    # (entry create/update/delete, cascades). Statement-level with transition tables: a bulk
    # create of 500 entries updates each tag once.
    for function in USAGE_COUNT_FUNCTIONS:
        op.execute(function)
    op.execute(
        "CREATE TRIGGER log_entry_tag_count_insert AFTER INSERT ON log_entry_tag "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION tag_usage_count_insert()"
    )
    op.execute(
        "CREATE TRIGGER log_entry_tag_count_delete AFTER DELETE ON log_entry_tag "
        "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION tag_usage_count_delete()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS log_entry_tag_count_insert ON log_entry_tag")
    op.execute("DROP TRIGGER IF EXISTS log_entry_tag_count_delete ON log_entry_tag")
    op.execute("DROP FUNCTION IF EXISTS tag_usage_count_insert()")
    op.execute("DROP FUNCTION IF EXISTS tag_usage_count_delete()")
    op.drop_index('ix_log_entry_tag_tag_id', table_name='log_entry_tag')
    op.drop_table('log_entry_tag')
    op.drop_index('ix_log_entry_user_type', table_name='log_entry')
    op.drop_index('ix_log_entry_user_start', table_name='log_entry')
    op.drop_index('ix_log_entry_user_project', table_name='log_entry')
    op.drop_index('ix_log_entry_search', table_name='log_entry', postgresql_using='gin')
    op.drop_table('log_entry')
    op.drop_index('uq_task_idempotency_key', table_name='task')
    op.drop_index('ix_task_status_kind', table_name='task')
    op.drop_index('ix_task_runnable', table_name='task', postgresql_where=sa.text("status = 'queued'"))
    op.drop_index('ix_task_lease_expiry', table_name='task', postgresql_where=sa.text("status = 'leased'"))
    op.drop_table('task')
    op.drop_index('uq_tag_user_name', table_name='tag')
    op.drop_index('ix_tag_user_usage', table_name='tag')
    op.drop_table('tag')
    op.drop_index('ix_refresh_token_user_id', table_name='refresh_token')
    op.drop_index('ix_refresh_token_family_id', table_name='refresh_token')
    op.drop_index('ix_refresh_token_expires_at', table_name='refresh_token')
    op.drop_table('refresh_token')
    op.drop_index('uq_project_user_name', table_name='project')
    op.drop_table('project')
    op.drop_index('ix_insight_user_updated', table_name='insight')
    op.drop_index('ix_insight_user_created', table_name='insight')
    op.drop_table('insight')
    op.drop_index('uq_user_email_lower', table_name='user')
    op.drop_table('user')
