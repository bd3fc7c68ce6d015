"""metrics: indexes the metrics read alone — the alert-noise report's alerts by last seen,
and sent pages by time (a partial index: only sent page messages)

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

SENT_PAGE = "kind = 'page' AND status = 'sent'"


def upgrade() -> None:
    op.create_index("ix_alerts_noise", "alerts",
                    ["last_seen_at", "integration_id", "routing_rule_id", "incident_id",
                     "acknowledged", "resolve_3_at"], unique=False)
    op.create_index("ix_messages_pages_sent", "messages",
                    ["sent_at", "user_id", "incident_id", "contact_method_id", "kind", "status"], unique=False,
                    sqlite_where=sa.text(SENT_PAGE), postgresql_where=sa.text(SENT_PAGE))


def downgrade() -> None:
    op.drop_index("ix_messages_pages_sent", table_name="messages")
    op.drop_index("ix_alerts_noise", table_name="alerts")
