"""Sessions a user can list and end: each refresh token's device, sign-in and last use.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('refresh_token', sa.Column('device', sa.Text(), nullable=True))
    op.add_column('refresh_token', sa.Column('signed_in_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('refresh_token', sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True))
    op.create_check_constraint(
        'ck_refresh_token_device_length', 'refresh_token', 'char_length(device) <= 100'
    )


def downgrade() -> None:
    op.drop_constraint('ck_refresh_token_device_length', 'refresh_token', type_='check')
    op.drop_column('refresh_token', 'last_used_at')
    op.drop_column('refresh_token', 'signed_in_at')
    op.drop_column('refresh_token', 'device')
