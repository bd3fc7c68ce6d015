"""chat-ops storms: incidents' arrivals in chat, storm messages and their incidents

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 17:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tocsin.db.base import UTCDateTime

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_arrivals",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("grouped", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"],
                                name=op.f("fk_chat_arrivals_incident_id_incidents"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_chat_arrivals")),
    )
    with op.batch_alter_table("chat_arrivals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_arrivals_at"), ["at"], unique=False)
    op.create_table(
        "chat_storm_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=12), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("last_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_storm_messages")),
    )
    with op.batch_alter_table("chat_storm_messages", schema=None) as batch_op:
        batch_op.create_index("ix_chat_storm_messages_channel",
                              ["platform", "channel_id", "last_at"], unique=False)
    op.create_table(
        "chat_storm_members",
        sa.Column("storm_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"],
                                name=op.f("fk_chat_storm_members_incident_id_incidents"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["storm_id"], ["chat_storm_messages.id"],
                                name=op.f("fk_chat_storm_members_storm_id_chat_storm_messages"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("storm_id", "incident_id", name=op.f("pk_chat_storm_members")),
    )
    with op.batch_alter_table("chat_storm_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_storm_members_incident_id"),
                              ["incident_id"], unique=False)


def downgrade() -> None:
    op.drop_table("chat_storm_members")
    op.drop_table("chat_storm_messages")
    op.drop_table("chat_arrivals")
