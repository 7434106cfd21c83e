"""Audit lines can wait for their place in the chain: the server on PostgreSQL writes them to
``audit_queue`` and seals them into ``audit_log`` in batches (dti.store.audit_chain), so saving
an answer no longer waits for the chain's lock.

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_queue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("edition_code", sa.String(length=80), nullable=True),
        sa.Column("province_code", sa.String(length=10), nullable=True),
        sa.Column("indicator_code", sa.String(length=40), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_queue")),
    )


def downgrade() -> None:
    waiting = op.get_bind().execute(sa.text("SELECT count(*) FROM audit_queue")).scalar()
    if waiting:
        raise RuntimeError(f"{waiting} audit line(s) still wait for the chain: run `dti audit "
                           "verify` (it seals them) before going below revision 0005")
    op.drop_table("audit_queue")
