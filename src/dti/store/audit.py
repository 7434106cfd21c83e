"""The append-only audit trail: who, when, what, before/after, reason.

Writes go through :func:`write` inside the same transaction as the change they describe, so a
change and its audit line land together or not at all.  The table refuses UPDATE and DELETE at
the database (triggers in the first migration), and its lines form a hash chain
(:mod:`dti.store.audit_chain`): a line written here takes its place in the chain when its
transaction commits, so the chain's lock is held only for the commit — or, in the server on
PostgreSQL, it waits in a queue that a thread of its own seals, so a save never waits for that lock.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from dti.clock import now
from dti.store.access import audit_province
from dti.store.accounts import Actor
from dti.store.audit_chain import HOLDS, PENDING, SEALER, drain, queue, seal, waiting
from dti.store.models import AuditEntry

COLUMNS = ("id", "at", "username", "role", "edition_code", "province_code", "indicator_code",
           "action", "before", "after", "reason")


def write(session: Session, actor: Actor, action: str, *, edition: str | None = None,
          province: str | None = None, indicator: str | None = None, before: Any = None,
          after: Any = None, reason: str | None = None) -> None:
    # before/after as they will read back from the JSON column: the chain hashes what is stored
    before, after = _as_stored(before), _as_stored(after)
    session.info.setdefault(PENDING, []).append(AuditEntry(
        at=now(), user_id=actor.id, username=actor.username or "-", role=actor.role.value,
        edition_code=edition, province_code=province, indicator_code=indicator, action=action,
        before=before, after=after, reason=reason))


def head(session: Session) -> str:
    """The chain's head once the lines this transaction wrote so far are in it (a publication
    records it); the chain's lock is then held until the transaction ends."""
    return seal(session)


def _as_stored(value: Any) -> Any:
    return None if value is None else json.loads(json.dumps(value))


@event.listens_for(Session, "before_commit")
def _seal_before_commit(session: Session) -> None:
    if not session.info.get(PENDING):
        return
    if session.info.get(SEALER) is not None and not session.info.get(HOLDS):
        session.info[QUEUED] = queue(session)   # sealed after the commit, off the request
    else:
        seal(session)


QUEUED = "dti.audit.queued"


@event.listens_for(Session, "after_commit")
def _wake_the_sealer(session: Session) -> None:
    if session.info.pop(QUEUED, False):
        session.info[SEALER].poke()


@event.listens_for(Session, "after_transaction_end")
def _forget_at_the_end(session: Session, transaction) -> None:
    # a rolled-back transaction's lines go with it (also when it never reached the database);
    # after a commit there is nothing left to forget
    if transaction.parent is None:
        session.info.pop(PENDING, None)
        session.info.pop(HOLDS, None)


def entries(session: Session, actor: Actor, edition: str | None = None, province: str | None = None,
            indicator: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Audit lines ``actor`` may read, newest first: province users their own province only (the
    ``view_audit`` rule, asked through :func:`dti.store.access.audit_province`)."""
    province = audit_province(actor, province)
    if session.info.get(SEALER) is not None and waiting(session):
        drain(session.get_bind())       # lines still queued: in the chain before they are read
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if edition:
        query = query.where(AuditEntry.edition_code == edition)
    if province:
        query = query.where(AuditEntry.province_code == province)
    if indicator:
        query = query.where(AuditEntry.indicator_code == indicator)
    if limit:
        query = query.limit(limit)
    return [_row(e) for e in session.scalars(query)]


def _row(entry: AuditEntry) -> dict[str, Any]:
    return {c: getattr(entry, c) for c in COLUMNS}


def _cell(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula (= + - @, tab, CR) is quoted with '."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow([r["at"].isoformat(sep=" ") if c == "at" else
                         _cell(json.dumps(r[c], ensure_ascii=False, sort_keys=True))
                         if c in ("before", "after") and r[c] is not None else
                         ("" if r[c] is None else _cell(r[c])) for c in COLUMNS])
    return out.getvalue()
