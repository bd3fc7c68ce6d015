"""intake inbox (accepted events awaiting triage)

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-25 21:20:00
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import tocsin.db.base  # noqa: F401

revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
