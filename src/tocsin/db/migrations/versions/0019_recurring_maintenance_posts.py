"""status pages: recurring maintenance windows announced, one post per occurrence

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 17:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tocsin.db.base import JSONType, UTCDateTime

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "status_maintenance_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("window_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("component_ids", JSONType(), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("announced_through", UTCDateTime(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"],
            name=op.f("fk_status_maintenance_series_author_id_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["page_id"], ["status_pages.id"],
            name=op.f("fk_status_maintenance_series_page_id_status_pages"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["window_id"], ["maintenance_windows.id"],
            name=op.f("fk_status_maintenance_series_window_id_maintenance_windows"),
            ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_maintenance_series")),
        sa.UniqueConstraint("page_id", "window_id",
                            name=op.f("uq_status_maintenance_series_page_id")),
    )
    with op.batch_alter_table("status_maintenance_series", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_status_maintenance_series_window_id"),
                              ["window_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("status_maintenance_series", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_maintenance_series_window_id"))
    op.drop_table("status_maintenance_series")
