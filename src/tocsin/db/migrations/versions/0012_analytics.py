"""analytics: editable response targets per severity

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tocsin.db.base import UTCDateTime

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "response_targets",
        sa.Column("severity", sa.String(length=4), nullable=False),
        sa.Column("ack_minutes", sa.Integer(), nullable=True),
        sa.Column("update_minutes", sa.Integer(), nullable=True),
        sa.Column("resolve_minutes", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_response_targets_updated_by_id_users")),
        sa.PrimaryKeyConstraint("severity", name=op.f("pk_response_targets")),
    )


def downgrade() -> None:
    op.drop_table("response_targets")
