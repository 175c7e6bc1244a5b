"""Personal access tokens for scripts: named, scoped, optionally expiring; only a hash kept.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'access_token',
        sa.Column('id', postgresql.UUID(as_uuid=True), server_default=sa.text('gen_random_uuid()'), nullable=False),
        sa.Column('user_id', postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('scopes', postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint('char_length(name) <= 100', name='ck_access_token_name_length'),
        sa.CheckConstraint('cardinality(scopes) > 0', name='ck_access_token_scopes'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_access_token_user_id', 'access_token', ['user_id'])
    op.create_index('uq_access_token_secret_hash', 'access_token', ['secret_hash'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_access_token_secret_hash', table_name='access_token')
    op.drop_index('ix_access_token_user_id', table_name='access_token')
    op.drop_table('access_token')
