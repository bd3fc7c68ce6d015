"""intake inbox (accepted events awaiting triage)

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-25 21:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tocsin.db.base

revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intake_inbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("received_at", tocsin.db.base.UTCDateTime(), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("meta", tocsin.db.base.JSONType(), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("processed_at", tocsin.db.base.UTCDateTime(), nullable=True),
        sa.Column("outcome", tocsin.db.base.JSONType(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_inbox")),
    )
    op.create_index("ix_intake_inbox_status_id", "intake_inbox", ["status", "id"])
    op.create_index("ix_intake_inbox_request_id", "intake_inbox", ["request_id"])


def downgrade() -> None:
    op.drop_index("ix_intake_inbox_request_id", table_name="intake_inbox")
    op.drop_index("ix_intake_inbox_status_id", table_name="intake_inbox")
    op.drop_table("intake_inbox")
