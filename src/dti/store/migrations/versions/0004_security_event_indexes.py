"""Indexes for the log-in throttle: recent failures by client address, and by account and kind.

Revision ID: 0004
Revises: 0003
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_security_events_address_at", "security_events", ["address", "at"])
    op.create_index("ix_security_events_username_kind_at", "security_events", ["username", "kind", "at"])


def downgrade() -> None:
    op.drop_index("ix_security_events_username_kind_at", table_name="security_events")
    op.drop_index("ix_security_events_address_at", table_name="security_events")
