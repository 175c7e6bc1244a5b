"""Insights a manager can trust: what was checked of the text, the user's own edits kept
apart from the model's, and deleted insights kept as tombstones for the live feeds.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('insight', sa.Column('checks', postgresql.JSONB(), nullable=True))
    op.add_column('insight', sa.Column('edited_content', sa.Text(), nullable=True))
    op.add_column('insight', sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('insight', sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))
    op.create_check_constraint(
        'ck_insight_edited_content_length', 'insight', 'char_length(edited_content) <= 100000'
    )


def downgrade() -> None:
    op.drop_constraint('ck_insight_edited_content_length', 'insight', type_='check')
    op.drop_column('insight', 'deleted_at')
    op.drop_column('insight', 'edited_at')
    op.drop_column('insight', 'edited_content')
    op.drop_column('insight', 'checks')
