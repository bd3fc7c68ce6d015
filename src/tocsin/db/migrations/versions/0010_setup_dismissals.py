"""setup checklist dismissals, per user

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tocsin.db.base import UTCDateTime

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "setup_dismissals",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("dismissed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_setup_dismissals_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_setup_dismissals")),
    )


def downgrade() -> None:
    op.drop_table("setup_dismissals")
