"""contact-method verification codes expire; failed attempts are recorded and limited

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 08:35:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tocsin.db.base

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('contact_methods', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verify_code_expires_at', tocsin.db.base.UTCDateTime(),
                                      nullable=True))
    op.create_table(
        'verification_failures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('contact_method_id', sa.Integer(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('actor_user_id', sa.Integer(), nullable=True),
        sa.Column('api_key_id', sa.Integer(), nullable=True),
        sa.Column('reason', sa.String(length=16), nullable=False),
        sa.Column('client_address', sa.String(length=64), nullable=True),
        sa.Column('attempted_at', tocsin.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['contact_method_id'], ['contact_methods.id'],
                                name=op.f('fk_verification_failures_contact_method_id_contact_methods'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_verification_failures_user_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'],
                                name=op.f('fk_verification_failures_actor_user_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'],
                                name=op.f('fk_verification_failures_api_key_id_api_keys'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_verification_failures')),
    )
    with op.batch_alter_table('verification_failures', schema=None) as batch_op:
        batch_op.create_index('ix_verification_failures_method_at',
                              ['contact_method_id', 'attempted_at'], unique=False)
        batch_op.create_index('ix_verification_failures_user_at', ['user_id', 'attempted_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_verification_failures_attempted_at'),
                              ['attempted_at'], unique=False)


def downgrade() -> None:
    op.drop_table('verification_failures')
    with op.batch_alter_table('contact_methods', schema=None) as batch_op:
        batch_op.drop_column('verify_code_expires_at')
