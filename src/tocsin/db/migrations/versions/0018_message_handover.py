"""messages: the attempt whose handover to the receiver began, and sends possibly duplicated

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('handover_attempt', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('possibly_duplicated', sa.Integer(), server_default='0',
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('possibly_duplicated')
        batch_op.drop_column('handover_attempt')
