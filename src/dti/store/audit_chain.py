"""The audit trail as a hash chain, so that history rewritten behind the triggers' back is found.

The append-only triggers stop the app, not someone with write access to the database: they can
drop a trigger, rewrite or remove lines and put the trigger back.  So every line also carries
``prev_hash`` (the hash of the line before it) and ``hash``::

    hash(n) = SHA-256( hash(n-1) ‖ canonical JSON of line n )        hash(0) = "0" × 64

The canonical JSON holds id, at (ISO 8601 with microseconds), user_id, username, role,
edition_code, province_code, indicator_code, action, before, after and reason: keys sorted, no
spaces, UTF-8.  A rewritten line no longer matches its hash; a removed or inserted line breaks
the next line's ``prev_hash``.  :func:`verify_chain` walks the trail in id order and names the
first line that breaks the chain.  Removing the newest lines leaves a shorter chain that is
still whole: that shows only against a head recorded elsewhere — a published edition's snapshot
(``audit_head``, part of its published checksum) or a head printed by an earlier verification.

Lines take their place in the chain when their transaction commits (:func:`seal`, called by
:mod:`dti.store.audit` just before the commit, or earlier by a publication that needs the head):
under a lock the head is read and the new lines are numbered and hashed after it.  PostgreSQL:
a transaction-scoped advisory lock; SQLite: the write lock every write transaction holds from its
``BEGIN IMMEDIATE``.  Taken last, after the transaction's other changes are flushed, the lock is
never held while waiting for another.  The unique ``prev_hash`` makes a fork impossible even for a
writer that bypasses the lock: the second line claiming the same predecessor is refused.

The server on PostgreSQL does not take the lock in a request: there its holder shares the
interpreter with every other request thread, so under load each of its round trips waited for a
turn and every save queued behind it (benchmarks/web.py: ~32 saves/s per worker).  A request
writes its lines to ``audit_queue`` (:func:`queue`); a :class:`Sealer` thread of the process,
woken after each such commit and at least every second, moves them into the chain in batches
(:func:`drain`).  Every sealing — a publication's, a verification's, an inline one — takes the
queued lines first, so the chain keeps the order in which lines were committed to the queue and
a published head covers every line committed before it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator, Mapping

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from dti.store.models import AuditEntry, AuditQueued, EditionRow

LOG = logging.getLogger(__name__)

GENESIS = "0" * 64
CHAINED = ("id", "at", "user_id", "username", "role", "edition_code", "province_code",
           "indicator_code", "action", "before", "after", "reason")
PENDING = "dti.audit.pending"     # Session.info key: the lines written, not yet in the chain
HOLDS = "dti.audit.holds"         # Session.info key: this transaction holds the chain's lock
SEALER = "dti.audit.sealer"       # Session.info key (set by the store): lines go to the queue
# One advisory-lock key for the whole trail, derived from a name so no other lock collides by
# accident.
_LOCK = int.from_bytes(hashlib.sha256(b"dti.audit_log chain").digest()[:8], "big", signed=True)
_BATCH = 500


def line_hash(prev_hash: str, line: Mapping[str, Any]) -> str:
    """The hash of one line (a row mapping, or the fields of an entry) after ``prev_hash``."""
    content = {key: line[key] for key in CHAINED}
    content["at"] = line["at"].isoformat(timespec="microseconds")
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + text).encode("utf-8")).hexdigest()


def seal(session: Session) -> str:
    """Put the queued lines, then the lines this transaction wrote, into the chain after its
    head; the new head.  The chain's lock is held until the transaction ends."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:                     # autoflush first: other locks come before
        session.execute(select(func.pg_advisory_xact_lock(_LOCK)))
    session.info[HOLDS] = True
    last = session.execute(select(AuditEntry.id, AuditEntry.hash)
                           .order_by(AuditEntry.id.desc()).limit(1)).first()
    number, head = (last.id, last.hash) if last else (0, GENESIS)
    waiting = _dequeue(session) if postgres else []
    rows = []
    for entry in [*waiting, *session.info.pop(PENDING, [])]:
        number += 1
        line = {key: getattr(entry, key) for key in _QUEUED}
        line["id"] = number
        line["prev_hash"], line["hash"] = head, line_hash(head, line)
        head = line["hash"]
        rows.append(line)
    if rows:   # a plain INSERT of the lines: their objects are never read again
        session.execute(AuditEntry.__table__.insert(), rows)
    return head


_QUEUED = [c for c in CHAINED if c != "id"]


def _dequeue(session: Session) -> list[AuditEntry]:
    """The queued lines, in the order they were queued, as chain lines; removed from the queue."""
    rows = list(session.scalars(select(AuditQueued).order_by(AuditQueued.id)))
    if rows:   # by id: a line committed since the select stays queued for the next round
        session.execute(delete(AuditQueued).where(AuditQueued.id.in_([r.id for r in rows])))
    return [AuditEntry(**{key: getattr(row, key) for key in _QUEUED}) for row in rows]


def queue(session: Session) -> bool:
    """Write the lines this transaction wrote to the queue instead of the chain; whether any."""
    entries = session.info.pop(PENDING, [])
    session.add_all(AuditQueued(**{key: getattr(e, key) for key in _QUEUED}) for e in entries)
    return bool(entries)


def waiting(session: Session) -> bool:
    return session.scalar(select(AuditQueued.id).limit(1)) is not None


def drain(engine: Engine) -> None:
    """Seal every queued line (in a transaction of its own; nothing to do: no lock taken)."""
    with Session(engine) as session, session.begin():
        if waiting(session):
            seal(session)


class Sealer:
    """The thread that moves a process's queued lines into the chain: woken after each commit
    that queued lines (:meth:`poke`) and at least every second; :meth:`stop` seals what is left."""

    def __init__(self, engine: Engine, every: float = 1.0) -> None:
        self.engine, self.every = engine, every
        self._wake, self._stopping = threading.Event(), False
        self._thread: threading.Thread | None = None
        self._started = threading.Lock()

    def poke(self) -> None:
        with self._started:
            if self._thread is None and not self._stopping:
                self._thread = threading.Thread(target=self._run, name="dti-audit-sealer",
                                                daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(self.every)
            self._wake.clear()
            try:
                drain(self.engine)
            except Exception:   # noqa: BLE001 — the lines stay queued; the next round seals them
                LOG.exception("audit lines not sealed yet; trying again in %s s", self.every)

    def stop(self) -> None:
        """End the thread after sealing what this process queued (a later :meth:`poke` starts
        it again)."""
        with self._started:
            self._stopping, thread = True, self._thread
        self._wake.set()
        if thread is not None:           # this process queued lines: none is left behind
            thread.join(30)
            drain(self.engine)
        with self._started:
            self._stopping, self._thread = False, None


# -- verification ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class BrokenLine:
    """The first line where the chain does not hold, and why."""

    id: int | None
    at: datetime | None
    action: str
    edition_code: str | None
    province_code: str | None
    why: str

    def __str__(self) -> str:
        when = f", {self.at:%Y-%m-%d %H:%M:%S} UTC" if self.at else ""
        where = "".join(f", {label} {value}" for label, value in
                        (("edition", self.edition_code), ("province", self.province_code)) if value)
        line = f"audit line {self.id}" if self.id is not None else "the audit trail"
        return f"{line} ({self.action}{when}{where}): {self.why}"


@dataclass(frozen=True)
class ChainReport:
    lines: int                   # lines checked (up to the broken one)
    head: str                    # hash of the last intact line
    broken: BrokenLine | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def _lines_in_order(session: Session) -> Iterator[Mapping[str, Any]]:
    """Every line in id order, a batch at a time (memory does not grow with the trail).  Pages by
    id rather than through a server-side cursor, which PostgreSQL allows only inside a
    transaction, and reads run outside one there."""
    table, last = AuditEntry.__table__, None
    while True:
        query = select(table).order_by(table.c.id).limit(_BATCH)
        batch = session.execute(query if last is None else query.where(table.c.id > last)).mappings().all()
        yield from batch
        if len(batch) < _BATCH:
            return
        last = batch[-1]["id"]


def verify_chain(session: Session, expected_head: str | None = None) -> ChainReport:
    """Recompute every line's hash in id order (streamed: memory does not grow with the trail)
    and check each published edition's ``audit_head``; ``expected_head`` is a head recorded
    earlier, which must still be the hash of some line."""
    published = _published_heads(session)
    head, count, previous = GENESIS, 0, None
    seen_head = expected_head is None or expected_head == GENESIS
    for row in _lines_in_order(session):
        why = _fault(row, head, previous, published)
        if why:
            return ChainReport(count, head, _broken(row, why))
        head, count, previous = row["hash"], count + 1, row["id"]
        seen_head = seen_head or head == expected_head
        if row["action"] == "edition.publish":
            published.pop(row["edition_code"], None)
    if published:
        return ChainReport(count, head, BrokenLine(None, None, "edition.publish", min(published),
                           None, "the line that published this edition is missing: lines were "
                           "removed from the end of the trail"))
    if not seen_head:
        return ChainReport(count, head, BrokenLine(None, None, "verify", None, None,
                           f"no line has the head recorded earlier ({expected_head}): lines were "
                           "removed from the end of the trail, or the trail was rewritten"))
    return ChainReport(count, head, None)


def _fault(row: Mapping[str, Any], head: str, previous: int | None,
           published: dict[str, str]) -> str | None:
    if row["prev_hash"] != head:
        return ("it does not follow the line before it (" +
                (f"line {previous}" if previous is not None else "the start of the trail") +
                "): that line was rewritten, or lines between them were removed or inserted")
    if line_hash(row["prev_hash"], row) != row["hash"]:
        return "its content no longer matches its hash: the line was rewritten"
    if row["action"] == "edition.publish" and published.get(row["edition_code"], head) != head:
        return ("the edition's published snapshot records another audit head: the lines before "
                "its publication were rewritten")
    return None


def _broken(row: Mapping[str, Any], why: str) -> BrokenLine:
    return BrokenLine(row["id"], row["at"], row["action"], row["edition_code"],
                      row["province_code"], why)


def _published_heads(session: Session) -> dict[str, str]:
    """Published edition → the audit head its snapshot records (one snapshot in memory at a time;
    editions published before the chain existed record none)."""
    heads = {}
    codes = list(session.scalars(select(EditionRow.code).where(EditionRow.status == "published")))
    for code in codes:
        snapshot = session.scalar(select(EditionRow.snapshot).where(EditionRow.code == code))
        if isinstance(snapshot, dict) and isinstance(snapshot.get("audit_head"), str):
            heads[code] = snapshot["audit_head"]
    return heads
