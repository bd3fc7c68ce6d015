"""metrics: one stored summary row per incident (incident_facts); alerts keep their last three
resolution times (the noise report's flapping)

The incident_facts table starts empty; the first metrics read fills it from the incidents' logs
(analytics.summary.ensure_built), and `tocsin db rebuild-metrics` refills it on demand.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 17:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tocsin.db.base import UTCDateTime

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident_facts",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("severity", sa.String(length=4), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("service_ids", sa.String(length=2000), nullable=False),
        sa.Column("impact_started_at", UTCDateTime(), nullable=True),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
        sa.Column("first_update_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("reopened", sa.Integer(), nullable=False),
        sa.Column("recurred", sa.Boolean(), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"],
                                name=op.f("fk_incident_facts_incident_id_incidents"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_incident_facts")),
    )
    op.create_index("ix_incident_facts_counted_created", "incident_facts",
                    ["counted", "created_at", "revision"], unique=False)
    with op.batch_alter_table("alerts") as batch:
        for n in (1, 2, 3):
            batch.add_column(sa.Column(f"resolve_{n}_at", UTCDateTime(), nullable=True))
    # From the alert log: the n-th latest entry that resolved the alert (ids are in time order).
    for n in (1, 2, 3):
        op.execute(sa.text(
            f"UPDATE alerts SET resolve_{n}_at = (SELECT e.at FROM alert_events e "
            "WHERE e.alert_id = alerts.id AND e.action = 'resolve' AND e.outcome = 'resolved' "
            f"ORDER BY e.id DESC LIMIT 1 OFFSET {n - 1}) WHERE alerts.resolve_count >= {n}"))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        for n in (3, 2, 1):
            batch.drop_column(f"resolve_{n}_at")
    op.drop_index("ix_incident_facts_counted_created", table_name="incident_facts")
    op.drop_table("incident_facts")
