"""post-mortem comments: replies and resolution; event webhooks skip drills unless asked

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tocsin.db.base import UTCDateTime

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('postmortem_comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('resolved_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('resolved_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_postmortem_comments_parent_id_postmortem_comments'),
            'postmortem_comments', ['parent_id'], ['id'], ondelete='CASCADE')
        batch_op.create_foreign_key(
            batch_op.f('fk_postmortem_comments_resolved_by_id_users'),
            'users', ['resolved_by_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('include_drills', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.drop_column('include_drills')
    with op.batch_alter_table('postmortem_comments', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_postmortem_comments_resolved_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(
            batch_op.f('fk_postmortem_comments_parent_id_postmortem_comments'),
            type_='foreignkey')
        batch_op.drop_column('resolved_by_id')
        batch_op.drop_column('resolved_at')
        batch_op.drop_column('parent_id')
