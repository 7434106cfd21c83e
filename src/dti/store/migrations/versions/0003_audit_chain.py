"""The audit trail becomes a hash chain: every line carries the hash of the line before it
(unique: the chain cannot fork) and its own hash; the lines already there are chained in id order.
The append-only triggers are lifted for the backfill only and put back.

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

from dti.store.audit_chain import CHAINED, GENESIS, line_hash

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_BATCH = 1000
_LINES = sa.table("audit_log", sa.column("id", sa.Integer), sa.column("at", sa.DateTime),
                  sa.column("user_id", sa.Integer), sa.column("username", sa.String),
                  sa.column("role", sa.String), sa.column("edition_code", sa.String),
                  sa.column("province_code", sa.String), sa.column("indicator_code", sa.String),
                  sa.column("action", sa.String), sa.column("before", sa.JSON),
                  sa.column("after", sa.JSON), sa.column("reason", sa.Text),
                  sa.column("prev_hash", sa.String), sa.column("hash", sa.String))


def upgrade() -> None:
    _drop_append_only()
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    _chain_existing_lines()
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint(op.f("uq_audit_log_prev_hash"), ["prev_hash"])
    _append_only()


def downgrade() -> None:
    _drop_append_only()
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_constraint(op.f("uq_audit_log_prev_hash"), type_="unique")
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
    _append_only()


def _chain_existing_lines() -> None:
    """Hash the lines in id order, a batch at a time (memory does not grow with the trail)."""
    bind = op.get_bind()
    columns = [_LINES.c[name] for name in CHAINED]
    chain = (_LINES.update().where(_LINES.c.id == sa.bindparam("line"))
             .values(prev_hash=sa.bindparam("prev"), hash=sa.bindparam("own")))
    head, last = GENESIS, 0
    while True:
        rows = bind.execute(sa.select(*columns).where(_LINES.c.id > last)
                            .order_by(_LINES.c.id).limit(_BATCH)).mappings().all()
        if not rows:
            return
        updates = []
        for row in rows:
            own = line_hash(head, row)
            updates.append({"line": row["id"], "prev": head, "own": own})
            head, last = own, row["id"]
        bind.execute(chain, updates)


def _append_only() -> None:
    """The triggers of the first revision, as they were."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                       "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")
        return
    op.execute("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
               "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")


def _drop_append_only() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        return
    op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
