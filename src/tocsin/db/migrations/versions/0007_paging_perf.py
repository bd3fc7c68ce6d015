"""paging throughput

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 21:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "round_robin_turns",
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"],
                                name=op.f("fk_round_robin_turns_team_id_teams"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("policy_id", "level", "team_id",
                                name=op.f("pk_round_robin_turns")),
    )


def downgrade() -> None:
    op.drop_table("round_robin_turns")
