"""The audit trail is a hash chain: a line rewritten, removed or slipped in by someone with write
access to the database — who can lift the append-only triggers and put them back — is named by
``dti audit verify``; concurrent writers never fork the chain; a publication's checksum covers the
chain's head; the migration chains the lines already there (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
import tracemalloc

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError
from assessment_support import EDITION, PASSWORD, fresh_store, populate

from dti.cli import main
from dti.services.publication import publish, verify
from dti.store import audit, audit_chain, backup, edition_rows, migrate
from dti.store.accounts import Actor
from dti.store.audit_chain import GENESIS, line_hash, verify_chain
from dti.store.db import Store
from dti.store.models import Assessment, AuditEntry
from dti.workflow import Role

CLI = Actor(None, "dti-cli", Role.ADMIN)


def _write(store, count: int, action: str = "test.line") -> None:
    for n in range(count):
        with store.transaction() as session:
            audit.write(session, CLI, action, edition=EDITION, province="48",
                        after={"n": n, "text": "Báo cáo số 12/BC-UBND"}, reason=f"lý do {n}")


def _lines(store) -> list[AuditEntry]:
    with store.reading() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def _verify(store, expected_head: str | None = None):
    with store.reading() as session:
        return verify_chain(session, expected_head)


def _cli(capsys, store, *extra: str) -> tuple[int, str, str]:
    code = main(["audit", "verify", "--database-url", store.url, *extra])
    out, err = capsys.readouterr()
    return code, out, err


def _behind_the_triggers(store, *statements) -> None:
    """What someone with write access to the database can do: lift the append-only triggers,
    change lines with plain SQL, put the triggers back — all in one transaction."""
    with store.engine.begin() as connection:
        if store.is_sqlite:
            connection.exec_driver_sql("DROP TRIGGER audit_log_no_update")
            connection.exec_driver_sql("DROP TRIGGER audit_log_no_delete")
        else:
            connection.exec_driver_sql("DROP TRIGGER audit_log_append_only ON audit_log")
        for statement in statements:
            connection.execute(statement)
        if store.is_sqlite:
            for verb in ("UPDATE", "DELETE"):
                connection.exec_driver_sql(
                    f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")
        else:
            connection.exec_driver_sql("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR "
                                       "DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION "
                                       "audit_log_append_only()")


def _still_append_only(store) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        with store.transaction() as session:
            session.execute(update(AuditEntry).values(reason="again"))


# -- a whole chain ---------------------------------------------------------------------------------

def test_a_fresh_store_verifies_and_every_line_follows_the_one_before(store, capsys):
    report = _verify(store)
    assert (report.ok, report.lines, report.head) == (True, 0, GENESIS)
    populate(store)
    _write(store, 3)
    lines = _lines(store)
    assert len(lines) == 4 and lines[0].prev_hash == GENESIS
    for before, line in zip(lines, lines[1:]):
        assert line.prev_hash == before.hash and line.id == before.id + 1
    assert lines[-1].hash == line_hash(lines[-1].prev_hash, {k: getattr(lines[-1], k)
                                                             for k in audit_chain.CHAINED})
    report = _verify(store)
    assert (report.ok, report.lines, report.head) == (True, 4, lines[-1].hash)
    code, out, err = _cli(capsys, store)
    assert (code, err) == (0, "")
    assert out.strip() == f"audit trail intact: 4 lines, head {lines[-1].hash}"


def test_a_rolled_back_transaction_leaves_no_line_and_no_gap_in_the_chain(store):
    _write(store, 1)
    with pytest.raises(RuntimeError):
        with store.transaction() as session:
            audit.write(session, CLI, "test.lost")
            raise RuntimeError("the server fails half-way")
    _write(store, 1)
    with store.sessions() as session:          # one session, two transactions
        with pytest.raises(RuntimeError):
            with session.begin():
                audit.write(session, CLI, "test.lost")     # before any statement
                raise RuntimeError("refused before the database was reached")
        with session.begin():
            audit.write(session, CLI, "test.kept")
    lines = _lines(store)
    assert [line.action for line in lines] == ["test.line", "test.line", "test.kept"]
    assert _verify(store).ok


# -- history rewritten behind the triggers' back ---------------------------------------------------

@pytest.mark.parametrize("change", ["reason", "after"])
def test_a_line_rewritten_behind_the_triggers_back_is_named(store, capsys, change):
    _write(store, 5)
    victim = _lines(store)[2]
    values = {"reason": "không có gì"} if change == "reason" else {"after": {"n": 99}}
    _behind_the_triggers(store, update(AuditEntry).where(AuditEntry.id == victim.id).values(**values))
    _still_append_only(store)

    report = _verify(store)
    assert not report.ok and report.broken.id == victim.id and report.lines == 2
    assert "rewritten" in report.broken.why
    code, out, err = _cli(capsys, store)
    assert code == 1 and out == "" and len(err.splitlines()) == 1
    assert err.startswith(f"error: audit line {victim.id} (test.line, "
                          f"{victim.at:%Y-%m-%d %H:%M:%S} UTC, edition {EDITION}, province 48): ")
    assert err.rstrip().endswith("[audit.chain_broken]")


@pytest.mark.parametrize("batch", [1, 2, 3])
def test_verification_pages_through_the_trail_without_missing_a_fault(store, monkeypatch, batch):
    """The trail is read a page at a time: a rewritten line is found whether it starts, ends or
    sits inside a page, and an intact trail counts every line once."""
    monkeypatch.setattr(audit_chain, "_BATCH", batch)
    _write(store, 6)
    assert _verify(store).ok and _verify(store).lines == len(_lines(store))
    victim = _lines(store)[3]
    _behind_the_triggers(store, update(AuditEntry).where(AuditEntry.id == victim.id)
                         .values(reason="sửa lén"))
    report = _verify(store)
    assert report.broken.id == victim.id and report.lines == 3


def test_a_removed_line_is_named_by_the_line_after_it(store, capsys):
    _write(store, 5)
    lines = _lines(store)
    _behind_the_triggers(store, delete(AuditEntry).where(AuditEntry.id == lines[2].id))
    report = _verify(store)
    assert report.broken.id == lines[3].id
    assert f"it does not follow the line before it (line {lines[1].id})" in report.broken.why
    code, _, err = _cli(capsys, store)
    assert code == 1 and f"audit line {lines[3].id} " in err


def test_the_newest_lines_removed_show_against_a_head_recorded_earlier(store, capsys):
    _write(store, 4)
    head = _verify(store).head
    last = _lines(store)[-1]
    _behind_the_triggers(store, delete(AuditEntry).where(AuditEntry.id == last.id))
    assert _verify(store).ok                      # a shorter chain is still a whole chain …
    report = _verify(store, head)                 # … but not the one whose head was noted
    assert not report.ok and head in report.broken.why
    code, _, err = _cli(capsys, store, "--head", head)
    assert code == 1 and "removed from the end" in err
    _write(store, 1)
    assert _verify(store, _lines(store)[1].hash).ok   # a head further back is still found


def test_verification_streams_the_trail(store):
    """Memory does not grow with the trail: 6,000 lines of 2,000 characters each (12 MB of text)
    are checked holding a small part of them at a time."""
    with store.transaction() as session:
        for n in range(6000):
            audit.write(session, CLI, "test.bulk", reason=f"{n:04d} " + "x" * 1995)
    tracemalloc.start()
    try:
        report = _verify(store)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.ok and report.lines == 6000
    assert peak < 6_000_000, peak   # half the text: the lines are never all held


def test_a_restored_trail_verifies_with_the_same_head(store, tmp_path):
    """Hashes are over canonical values (times to the microsecond, JSON as stored), so a trail
    backed up from one database and restored into another verifies with the same head."""
    populate(store)
    _write(store, 3)
    head = _verify(store).head
    backup.backup(store, tmp_path / "b.tar.gz")
    target = fresh_store("sqlite", tmp_path / "target")
    try:
        backup.restore(target, tmp_path / "b.tar.gz")
        report = _verify(target)
        assert report.ok and report.head == head and report.lines == 4
        _write(target, 1)                      # and the chain continues after the restored lines
        assert _verify(target).ok and _lines(target)[-1].prev_hash == head
    finally:
        target.close()


# -- publication -----------------------------------------------------------------------------------

def _publish(store):
    world = populate(store)
    with store.transaction() as session:
        session.execute(update(Assessment).values(state="approved"))
    _write(store, 2)
    with store.transaction() as session:
        publish(session, world.actors["admin"], EDITION, PASSWORD)
    with store.reading() as session:
        row = edition_rows.get(session, EDITION)
        return row.snapshot, row.snapshot_checksum


def test_a_publication_covers_the_audit_head_and_a_rechained_history_no_longer_matches(store):
    snapshot, stored = _publish(store)
    lines = _lines(store)
    publication = next(line for line in lines if line.action == "edition.publish")
    assert publication.id == lines[-1].id
    assert snapshot["audit_head"] == publication.prev_hash == lines[-2].hash
    assert lines[-2].action == "assessment.publish"     # the publication's own transitions count
    assert verify(snapshot, stored)
    assert _verify(store).ok

    # the history before the publication rewritten, and the chain recomputed from there on
    victim = next(line for line in lines if line.action == "test.line")
    statements, head = [], None
    for line in lines:
        if line.id < victim.id:
            head = line.hash
            continue
        fields = {k: getattr(line, k) for k in audit_chain.CHAINED}
        if line.id == victim.id:
            fields["reason"] = "không có gì"
        own = line_hash(head, fields)
        statements.append(update(AuditEntry).where(AuditEntry.id == line.id).values(
            reason=fields["reason"], prev_hash=head, hash=own))
        head = own
    _behind_the_triggers(store, *statements)
    report = _verify(store)
    assert report.broken.id == publication.id and report.broken.edition_code == EDITION
    assert "published snapshot records another audit head" in report.broken.why
    assert verify(snapshot, stored)   # the snapshot itself is untouched: only the trail


def test_a_removed_publication_line_is_found(store):
    _publish(store)
    publication = _lines(store)[-1]
    _behind_the_triggers(store, delete(AuditEntry).where(AuditEntry.id == publication.id))
    report = _verify(store)
    assert report.broken.edition_code == EDITION and "missing" in report.broken.why


# -- concurrent writers ----------------------------------------------------------------------------

def test_concurrent_writers_never_fork_the_chain(store, monkeypatch):
    """Four processes' worth of writers (each its own engine and connections) append at once;
    hashing is slowed so that a writer which did not wait for the chain's lock would read a
    head another is about to extend."""
    slow_hash = audit_chain.line_hash

    def line_hash_slowly(prev_hash, line):
        time.sleep(0.002)
        return slow_hash(prev_hash, line)

    monkeypatch.setattr(audit_chain, "line_hash", line_hash_slowly)
    writers, transactions, failures = 4, 12, []

    def append(n: int) -> None:
        own = Store.open(store.url, store.evidence_dir)
        try:
            for t in range(transactions):
                with own.transaction() as session:
                    audit.write(session, CLI, "test.concurrent", after={"writer": n, "t": t})
                    audit.write(session, CLI, "test.concurrent", after={"writer": n, "t": t, "b": 1})
        except Exception as exc:   # noqa: BLE001 — reported below, with the thread's name
            failures.append(f"writer {n}: {type(exc).__name__}: {exc}")
        finally:
            own.close()

    threads = [threading.Thread(target=append, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == []
    report = _verify(store)
    assert report.ok and report.lines == writers * transactions * 2
    with store.reading() as session:
        assert session.scalar(select(func.count(func.distinct(AuditEntry.prev_hash)))) == report.lines


# -- the migration ---------------------------------------------------------------------------------

def test_the_migration_chains_the_lines_already_there_and_goes_down_and_up(store):
    migrate.downgrade(store.engine, "0002")
    with store.engine.begin() as connection:   # lines as the previous schema held them
        for n in range(5):
            connection.execute(text(
                "INSERT INTO audit_log (at, user_id, username, role, edition_code, action, after, "
                "reason) VALUES (:at, NULL, 'dti-cli', 'admin', :edition, 'test.old', :after, :reason)"),
                {"at": f"2024-03-0{n + 1} 08:00:00.12345{n}", "edition": EDITION,
                 "after": '{"n": %d, "tên": "Đà Nẵng"}' % n, "reason": None if n % 2 else "cũ"})
    migrate.upgrade(store.engine)
    report = _verify(store)
    assert report.ok and report.lines == 5
    _write(store, 1)
    assert _verify(store).ok and _verify(store).lines == 6
    _still_append_only(store)

    migrate.downgrade(store.engine, "0002")
    with store.engine.connect() as connection:
        columns = {c for c in connection.execute(text("SELECT * FROM audit_log")).keys()}
        assert "hash" not in columns and "prev_hash" not in columns
        assert connection.scalar(text("SELECT count(*) FROM audit_log")) == 6
    with pytest.raises(DBAPIError, match="append-only"):
        with store.engine.begin() as connection:
            connection.execute(text("DELETE FROM audit_log"))
    migrate.upgrade(store.engine)
    assert _verify(store).lines == 6 and _verify(store).ok


def test_verify_refuses_a_database_not_yet_upgraded(tmp_path, capsys):
    store = fresh_store("sqlite", tmp_path)
    migrate.downgrade(store.engine, "0002")
    code, _, err = _cli(capsys, store)
    store.close()
    assert code == 1 and "run `dti db upgrade` first" in err and len(err.splitlines()) == 1


# -- lines queued by the server (PostgreSQL) --------------------------------------------------------

def _queued_store(store) -> Store:
    """The server's store: on PostgreSQL its requests queue their lines (SQLite seals inline,
    under the write lock every write transaction holds anyway)."""
    if store.is_sqlite:
        pytest.skip(reason="SQLite seals every line inline: its write lock is held by the transaction")
    return Store.open(store.url, store.evidence_dir, seal_later=True)


def _queue_length(store) -> int:
    with store.reading() as session:
        return session.scalar(select(func.count()).select_from(audit_chain.AuditQueued))


def _sealed_within(store, lines: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while _queue_length(store) or len(_lines(store)) < lines:
        assert time.monotonic() < deadline, "the queued lines were not sealed"
        time.sleep(0.02)


def test_a_queued_line_does_not_wait_for_the_chain_lock_and_is_sealed_after(store):
    """The lock held elsewhere (a publication, say) no longer holds up a save: its line waits in
    the queue and the sealer puts it in the chain when the lock is free."""
    server = _queued_store(store)
    try:
        with store.engine.connect() as other:
            other.execute(text("SELECT pg_advisory_lock(:k)"), {"k": audit_chain._LOCK})
            started = time.monotonic()
            _write(server, 3)
            assert time.monotonic() - started < 5          # it did not wait for the lock
            time.sleep(1.5)                                 # the sealer tried, and waits
            assert _queue_length(store) == 3 and _lines(store) == []
            other.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": audit_chain._LOCK})
            other.commit()
        _sealed_within(store, 3)
        assert [line.after["n"] for line in _lines(store)] == [0, 1, 2]   # in the order queued
        assert _verify(store).ok
    finally:
        server.close()


def test_queued_writers_in_several_processes_never_fork_or_lose_a_line(store):
    server_processes = [_queued_store(store) for _ in range(4)]
    failures = []

    def append(own: Store, n: int) -> None:
        try:
            for t in range(15):
                with own.transaction() as session:
                    audit.write(session, CLI, "test.concurrent", after={"writer": n, "t": t})
        except Exception as exc:   # noqa: BLE001 — reported below
            failures.append(f"writer {n}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=append, args=(own, n))
               for n, own in enumerate(server_processes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for own in server_processes:
        own.close()                     # a stopping process seals what it queued
    assert failures == [] and _queue_length(store) == 0
    lines = _lines(store)
    assert sorted((line.after["writer"], line.after["t"]) for line in lines) == [
        (n, t) for n in range(4) for t in range(15)]
    for n in range(4):                  # each writer's lines in the order it committed them
        assert [line.after["t"] for line in lines if line.after["writer"] == n] == list(range(15))
    assert _verify(store).ok and [line.id for line in lines] == list(range(1, 61))


def test_a_publication_and_a_verification_seal_the_queue_first(store, capsys):
    server = _queued_store(store)
    try:
        server.sealer.every = 3600              # the sealer sleeps: only a poke would wake it
        server.sealer.poke = lambda: None
        _write(server, 2)
        assert _queue_length(store) == 2
        with store.transaction() as session:   # what a publication does before recording it
            head = audit.head(session)
        assert _queue_length(store) == 0 and _lines(store)[-1].hash == head
        _write(server, 1, "test.after")
        code, out, _ = _cli(capsys, store)
        assert code == 0 and "3 lines" in out and _queue_length(store) == 0
        _write(server, 1, "test.read")
        actor = Actor(None, "admin", Role.ADMIN)
        with server.reading() as session:      # the audit pages read the queued line too
            assert audit.entries(session, actor)[0]["action"] == "test.read"
    finally:
        server.close()


def test_lines_a_stopped_server_left_queued_are_sealed_when_it_starts(store):
    from fastapi.testclient import TestClient

    from dti.web import create_app

    server = _queued_store(store)
    try:
        poke = server.sealer.poke
        server.sealer.poke = lambda: None       # killed before its sealer ran
        _write(server, 2)
        assert _queue_length(store) == 2
        server.sealer.poke = poke
        with TestClient(create_app(store=server)):
            _sealed_within(store, 2)
        _write(server, 1)                         # after a stop, the next line starts it again
        _sealed_within(store, 3)
        assert _verify(store).ok
    finally:
        server.close()
