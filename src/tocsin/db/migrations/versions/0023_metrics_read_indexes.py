"""metrics: indexes the metrics read alone — the alert-noise report's alerts by last seen,
and sent pages by time (a partial index: only page messages)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 19:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

PAGE_ONLY = "kind = 'page'"


def upgrade() -> None:
    op.create_index("ix_alerts_noise", "alerts",
                    ["last_seen_at", "integration_id", "routing_rule_id", "incident_id",
                     "acknowledged", "resolve_3_at"], unique=False)
    op.create_index("ix_messages_pages_sent", "messages",
                    ["status", "sent_at", "user_id", "incident_id", "contact_method_id", "kind"],
                    unique=False, sqlite_where=sa.text(PAGE_ONLY),
                    postgresql_where=sa.text(PAGE_ONLY))


def downgrade() -> None:
    op.drop_index("ix_messages_pages_sent", table_name="messages")
    op.drop_index("ix_alerts_noise", table_name="alerts")
