"""messages: the attempt committed to send at the final dot, and delivery unconfirmed

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('committed_attempt', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('delivery_unconfirmed', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('delivery_unconfirmed')
        batch_op.drop_column('committed_attempt')
