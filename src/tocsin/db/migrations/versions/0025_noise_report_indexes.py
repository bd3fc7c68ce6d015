"""alert noise: the period's alerts per integration in integration order, and the incidents
never acknowledged (a partial index)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 23:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

UNACKNOWLEDGED = "acknowledged_at IS NULL"


def upgrade() -> None:
    op.create_index("ix_alerts_noise_by_integration", "alerts",
                    ["integration_id", "last_seen_at", "incident_id", "acknowledged",
                     "resolve_3_at"], unique=False)
    op.create_index("ix_incidents_unacknowledged", "incidents", ["id"], unique=False,
                    sqlite_where=sa.text(UNACKNOWLEDGED),
                    postgresql_where=sa.text(UNACKNOWLEDGED))


def downgrade() -> None:
    op.drop_index("ix_incidents_unacknowledged", table_name="incidents")
    op.drop_index("ix_alerts_noise_by_integration", table_name="alerts")
