"""The assessment store on a real database (SQLite always, PostgreSQL when DTI_TEST_DATABASE_URL is
set): migrations up and down, the schema against the models, SQLite pragmas, the append-only audit
log, accounts and throttling, optimistic concurrency, atomic transactions, backup and restore, and
the demo data."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import delete, event, func, inspect, select, text, update
from sqlalchemy.exc import DBAPIError
from assessment_support import EDITION, OWN, PASSWORD, USERS, fresh_store, pdf, populate

from dti.errors import Conflict, InputError, LoginRefused, NotAllowed, StaleEdit
from dti import clock
from dti.services import demo
from dti.store import accounts, audit, backup, migrate
from dti.store.accounts import Actor, authenticate, create_user, reauthenticate
from dti.services.assessments import save_answer
from dti.store.assessments import view
from dti.store.evidence import upload
from dti.store.models import Answer, Assessment, AuditEntry, Base, EditionRow, SecurityEvent, User
from dti.workflow import Role, State

PDF = pdf()   # a real PDF: evidence must open as what it claims to be


# -- migrations ------------------------------------------------------------------------------------

def _tables(store) -> set[str]:
    return set(inspect(store.engine).get_table_names()) - {"alembic_version"}


def test_migrations_go_down_to_nothing_and_up_again(store):
    assert _tables(store) == set(Base.metadata.tables)
    assert migrate.is_current(store.engine)
    migrate.downgrade(store.engine, "base")
    assert _tables(store) == set()
    assert migrate.current(store.engine) is None
    if not store.is_sqlite:   # the trigger function goes with the schema
        with store.engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM pg_proc "
                                          "WHERE proname = 'audit_log_append_only'")) == 0
    migrate.upgrade(store.engine)
    assert _tables(store) == set(Base.metadata.tables)
    assert migrate.current(store.engine) == migrate.head()


def test_models_and_migrations_agree(store):
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path):
    store = fresh_store("sqlite", tmp_path)
    try:
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            with pytest.raises(DBAPIError):   # a dangling reference is refused
                connection.execute(text("INSERT INTO assessments (edition_id, province_code, state, "
                                        "version, updated_at, simulated) VALUES (999, '48', 'draft', "
                                        "1, '2024-01-01 00:00:00', 0)"))
    finally:
        store.close()


def test_audit_log_is_append_only_in_the_database(store):
    world = populate(store)
    with store.transaction() as session:
        audit.write(session, world.actors["admin"], "test.entry", after={"n": 1})
    with store.reading() as session:
        count = session.scalar(select(func.count()).select_from(AuditEntry))
    assert count >= 2
    for statement in (update(AuditEntry).values(reason="rewritten"), delete(AuditEntry)):
        with pytest.raises(DBAPIError, match="append-only"):
            with store.transaction() as session:
                session.execute(statement)
    with store.reading() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == count
        assert session.scalar(select(func.count()).select_from(AuditEntry)
                              .where(AuditEntry.reason == "rewritten")) == 0


# -- accounts --------------------------------------------------------------------------------------

def _users(store, *names: str) -> dict[str, Actor]:
    """Only the users a test needs (each password hash costs Argon2's time on purpose)."""
    with store.transaction() as session:
        return {name: Actor.of(create_user(session, name, PASSWORD, *USERS[name])) for name in names}


def _attempt(store, username: str, password: str, address: str = "127.0.0.1") -> str:
    """One log-in attempt committed as the app commits it: 'ok' or the refusal's message."""
    with store.transaction() as session:
        try:
            authenticate(session, username, password, address)
        except LoginRefused as exc:
            return str(exc)
    return "ok"


def _events(store, username: str) -> list[str]:
    with store.reading() as session:
        return list(session.scalars(select(SecurityEvent.kind).where(SecurityEvent.username == username)
                                    .order_by(SecurityEvent.id)))


def test_passwords_are_hashed_with_argon2(store):
    _users(store, "editor", "admin")
    with store.reading() as session:
        hashes = list(session.scalars(select(User.password_hash)))
    assert hashes and all(h.startswith("$argon2") for h in hashes)
    assert PASSWORD not in "".join(hashes)
    assert _attempt(store, "editor", PASSWORD) == "ok"
    assert _attempt(store, "editor", "wrong-password") == accounts.REFUSED
    assert _attempt(store, "nobody", PASSWORD) == accounts.REFUSED   # same message


def test_twenty_failures_lock_the_account_for_fifteen_minutes(store, monkeypatch):
    """Five from each of four addresses: five from one address refuse that address first."""
    _users(store, "editor")
    for n in range(4):
        for _ in range(5):
            assert _attempt(store, "editor", "wrong-password", f"192.0.2.{n}") == accounts.REFUSED
    assert _attempt(store, "editor", PASSWORD, "192.0.2.9") == accounts.REFUSED   # right one, refused
    assert _events(store, "editor") == (["login_failed"] * 5 + ["address_throttled"]) * 3 + [
        "login_failed"] * 5 + ["account_locked", "address_throttled", "login_while_locked"]
    start = clock.now()
    monkeypatch.setattr(clock, "source", lambda: start + timedelta(minutes=14))
    assert _attempt(store, "editor", PASSWORD, "192.0.2.10") == accounts.REFUSED
    monkeypatch.setattr(clock, "source", lambda: start + timedelta(minutes=16))
    assert _attempt(store, "editor", PASSWORD, "192.0.2.10") == "ok"
    with store.reading() as session:
        assert session.scalar(select(User.locked_until).where(User.username == "editor")) is None


def test_failures_older_than_fifteen_minutes_do_not_count(store, monkeypatch):
    _users(store, "approver")
    for _ in range(4):
        _attempt(store, "approver", "wrong-password")
    start = clock.now()
    monkeypatch.setattr(clock, "source", lambda: start + timedelta(minutes=16))
    assert _attempt(store, "approver", "wrong-password") == accounts.REFUSED
    assert _attempt(store, "approver", PASSWORD) == "ok"
    assert "account_locked" not in _events(store, "approver")


def test_wrong_reauthentication_is_refused_and_logged(store):
    admin = _users(store, "admin")["admin"]
    with store.transaction() as session:
        with pytest.raises(NotAllowed, match="re-entered is wrong"):
            reauthenticate(session, admin, "not-the-password", "publish")
        reauthenticate(session, admin, PASSWORD, "publish")
    assert _events(store, "admin") == ["reauth_failed", "reauth_ok"]


# -- writes ----------------------------------------------------------------------------------------

def test_a_stale_save_is_refused_and_the_first_survives(store):
    world = populate(store)
    editor = world.actors["editor"]
    with store.transaction() as session:
        first = save_answer(session, editor, EDITION, OWN, "NTS.04", {"a": "30", "b": "60"}, 0)
        assert first.answer.version == 1
    with pytest.raises(StaleEdit) as caught:
        with store.transaction() as session:
            save_answer(session, editor, EDITION, OWN, "NTS.04", {"a": "59", "b": "60"}, 0)
    assert caught.value.status == 409
    assert caught.value.context["current"]["self_value"] == {"a": 30, "b": 60}
    with store.reading() as session:
        stored = view(session, editor, EDITION, OWN).answers["NTS.04"].answer
    assert (stored.self_value, stored.version) == ({"a": 30, "b": 60}, 1)


def test_a_failed_transaction_writes_nothing(store):
    world = populate(store)
    editor = world.actors["editor"]

    def counts():
        with store.reading() as session:
            return (session.scalar(select(func.count()).select_from(AuditEntry)),
                    session.scalar(select(func.count()).select_from(Answer)
                                   .where(Answer.version > 0)))

    before = counts()
    with pytest.raises(RuntimeError):
        with store.transaction() as session:
            save_answer(session, editor, EDITION, OWN, "NTS.02", {"value": "có"}, 0)
            upload(session, store.evidence_dir, editor, EDITION, OWN, "NTS.02", "qd.pdf", PDF)
            raise RuntimeError("the server fails half-way")
    assert counts() == before


# -- backup and restore ----------------------------------------------------------------------------

def _fill(store) -> None:
    world = populate(store)
    editor = world.actors["editor"]
    with store.transaction() as session:
        save_answer(session, editor, EDITION, OWN, "NTS.04", {"a": "1.234,5", "b": "2000"}, 0,
                    note="Báo cáo số 12/BC-UBND")
        save_answer(session, editor, EDITION, OWN, "NTS.02", {"value": "có"}, 0)
        upload(session, store.evidence_dir, editor, EDITION, OWN, "NTS.02", "Quyết định.pdf", PDF)
        upload(session, store.evidence_dir, editor, EDITION, OWN, "NTS.04", "bao-cao.txt",
               "Số liệu: 1.234,5 / 2.000\n".encode())
    _attempt(store, "editor", "wrong-password")


def _snapshot(store) -> dict:
    return backup._read_tables(store)


def _evidence(store) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in store.evidence_dir.rglob("*") if p.is_file()}


def _targets(store) -> list[str]:
    """SQLite always; the other backend too when there is one (SQLite → PostgreSQL and back)."""
    targets = ["sqlite"]
    if store.is_sqlite and os.environ.get("DTI_TEST_DATABASE_URL"):
        targets.append("postgresql")
    return targets


def test_backup_and_restore_round_trip(store, tmp_path):
    _fill(store)
    archive = tmp_path / "dti-backup.tar.gz"
    report = backup.backup(store, archive)
    assert report.evidence_files == 2 and report.rows["answers"] == 63 * 98
    original, files = _snapshot(store), _evidence(store)
    assert len(files) == 2
    for backend in _targets(store):
        target = fresh_store(backend, tmp_path / f"to-{backend}")
        try:
            manifest = backup.restore(target, archive)
            assert manifest["source"] == store.engine.dialect.name
            assert _snapshot(target) == original
            assert _evidence(target) == files
            with target.transaction() as session:   # ids continue after the restored ones
                session.add(SecurityEvent(at=clock.now(), kind="test", username="x", detail=""))
            assert _attempt(target, "editor", PASSWORD) == "ok"   # the hashes came across
            again = tmp_path / f"back-from-{backend}.tar.gz"
            backup.backup(target, again)
        finally:
            target.close()
        # ... and back into the source (non-empty: only with replace)
        with pytest.raises(Conflict, match="--replace"):
            backup.restore(store, again)
        backup.restore(store, again, replace=True)
        restored = _snapshot(store)
        assert restored["users"] == original["users"] and restored["answers"] == original["answers"]
        assert [r["kind"] for r in restored["security_events"]][-1] == "login_ok"


def test_backup_reads_one_snapshot_while_others_write(store, tmp_path):
    """A row committed by another connection after the backup has begun reading is not in it."""
    _users(store, "editor")
    writes = []

    def write_meanwhile(connection, cursor, statement, *args):
        if "FROM audit_log" in statement and not writes:
            with store.engine.begin() as other:   # another connection, committed
                other.execute(SecurityEvent.__table__.insert().values(
                    at=clock.now(), kind="written_during_backup", username="x", detail=""))
            writes.append(True)

    event.listen(store.engine, "after_cursor_execute", write_meanwhile)
    try:
        backup.backup(store, tmp_path / "b.tar.gz")
    finally:
        event.remove(store.engine, "after_cursor_execute", write_meanwhile)
    assert writes
    with tarfile.open(tmp_path / "b.tar.gz", "r:gz") as archive:
        events = json.loads(archive.extractfile("tables/security_events.json").read())
    assert "written_during_backup" not in [e["kind"] for e in events]
    assert "written_during_backup" in [e["kind"] for e in _snapshot(store)["security_events"]]


def _rewrite(archive: Path, out: Path, change) -> None:
    with tarfile.open(archive, "r:gz") as source, tarfile.open(out, "w:gz") as target:
        for info in source:
            data = source.extractfile(info).read()
            data = change(info.name, data)
            info.size = len(data)
            target.addfile(info, io.BytesIO(data))


def test_restore_refuses_a_tampered_archive_and_changes_nothing(store, tmp_path):
    _fill(store)
    archive = tmp_path / "b.tar.gz"
    backup.backup(store, archive)
    tampered = tmp_path / "tampered.tar.gz"

    def raise_points(name: str, data: bytes) -> bytes:
        if name != "tables/answers.json":
            return data
        rows = json.loads(data)
        for row in rows:
            if row["indicator_code"] == "NTS.04" and row["self_points"] is not None:
                row["self_points"] = row["final_points"] = 999.0
        return json.dumps(rows).encode()

    _rewrite(archive, tampered, raise_points)
    target = fresh_store("sqlite", tmp_path / "target")
    try:
        with pytest.raises(InputError) as caught:
            backup.restore(target, tampered)
        assert [p.code for p in caught.value.problems] == ["backup.checksum"]
        assert "tables/answers.json" in caught.value.problems[0].file
        assert _snapshot(target)["answers"] == [] and not target.evidence_dir.exists()
        # a changed evidence file is caught the same way
        _rewrite(archive, tampered, lambda n, d: d + b"x" if n.startswith("evidence/") else d)
        with pytest.raises(InputError, match="SHA-256"):
            backup.restore(target, tampered)
        # and a file that is not an archive at all
        junk = tmp_path / "junk.tar.gz"
        junk.write_bytes(b"not an archive")
        with pytest.raises(InputError) as caught:
            backup.restore(target, junk)
        assert caught.value.problems[0].code == "backup.unreadable"
    finally:
        target.close()


def test_restore_refuses_another_schema_revision(store, tmp_path):
    _fill(store)
    archive = tmp_path / "b.tar.gz"
    backup.backup(store, archive)
    other = tmp_path / "other.tar.gz"

    with tarfile.open(archive, "r:gz") as source, tarfile.open(other, "w:gz") as target:
        for info in source:
            data = source.extractfile(info).read()
            if info.name == backup.MANIFEST:
                manifest = json.loads(data)
                manifest["alembic_revision"] = "0000"
                data = json.dumps(manifest).encode()
            info.size = len(data)
            target.addfile(info, io.BytesIO(data))
    target = fresh_store("sqlite", tmp_path / "target")
    try:
        with pytest.raises(InputError) as caught:
            backup.restore(target, other)
        assert caught.value.problems[0].code == "backup.revision"
    finally:
        target.close()


def test_backup_refuses_a_missing_evidence_file(store, tmp_path):
    _fill(store)
    victim = next(p for p in store.evidence_dir.rglob("*") if p.is_file())
    victim.unlink()
    with pytest.raises(InputError) as caught:
        backup.backup(store, tmp_path / "b.tar.gz")
    assert caught.value.problems[0].code == "backup.evidence_missing"
    assert not (tmp_path / "b.tar.gz").exists() and not list(tmp_path.glob("*.part"))


def test_the_archive_lists_a_checksum_for_every_member(store, tmp_path):
    _fill(store)
    archive = tmp_path / "b.tar.gz"
    backup.backup(store, archive)
    with tarfile.open(archive, "r:gz") as opened:
        members = {i.name: opened.extractfile(i).read() for i in opened}
    manifest = json.loads(members.pop(backup.MANIFEST))
    assert manifest["members"] == {n: hashlib.sha256(d).hexdigest() for n, d in members.items()}
    assert manifest["alembic_revision"] == migrate.head()
    assert manifest["rows"]["assessments"] == 63
    assert {n for n in members if n.startswith("tables/")} == {f"tables/{t}.json" for t in Base.metadata.tables}


# -- the demo --------------------------------------------------------------------------------------

def _demo_rows(session, edition: str):
    return list(session.execute(select(Assessment.province_code, Assessment.state, Assessment.simulated)
                                .join(EditionRow).where(EditionRow.code == edition)))


def test_demo_seeds_63_simulated_assessments_in_several_states(store):
    from dti.units import load_unit_set

    logins = demo.seed(store)
    assert {login.role for login in logins} == {r.value for r in Role if r is not Role.PUBLIC}
    with store.reading() as session:
        rows = _demo_rows(session, demo.EDITION)
        bodies = _demo_rows(session, demo.MINISTRY_EDITION)
        users = {u.username: u for u in session.scalars(select(User))}
        total = session.scalar(select(func.count()).select_from(Assessment))
    assert len(rows) == 63 and all(simulated for _, _, simulated in rows)
    states = {state for _, state, _ in rows}
    assert len(states) >= 5 and states <= {s.value for s in State}
    # the ministry level: every body of 2025, simulated, in several states; the demo body in draft
    assert sorted(code for code, _, _ in bodies) == sorted(load_unit_set("ministries-2025").codes)
    assert all(simulated for _, _, simulated in bodies) and total == 63 + len(bodies)
    assert len({state for _, state, _ in bodies}) >= 5
    assert dict((c, s) for c, s, _ in bodies)["BTC"] == "draft"
    assert users["btc.nhaplieu"].province_code == "BTC" and users["btc.nhaplieu"].active
    assert {login.username for login in logins} <= set(users)
    # the others are the simulated provinces' officials, who act in the demo but cannot log in
    assert not any(u.active for name, u in users.items() if name not in {x.username for x in logins})
    assert demo.seed(store) == logins                  # a second run creates nothing
    with store.reading() as session:
        assert session.scalar(select(func.count()).select_from(Assessment)) == total
        assert session.scalar(select(func.count()).select_from(User)) == len(users)
    assert _attempt(store, logins[0].username, logins[0].password) == "ok"


@pytest.mark.parametrize("username, province, display", [
    ("a", None, "x"), ("x" * 81, None, "x"), ("lan nguyen", None, "x"), ("<b>x</b>", None, "x"),
    ("lan.nguyen", None, "x" * 201), ("lan.nguyen", "99", "x")])
def test_user_names_province_codes_and_names_are_checked_before_the_database(store, username,
                                                                           province, display):
    from dti.errors import Conflict
    from dti.store.accounts import create_user

    role = "province_editor" if province else "reviewer"
    with pytest.raises(Conflict):
        with store.transaction() as session:
            create_user(session, username, "long-enough-1", role, province, display)


@pytest.mark.parametrize("code", ["A", "dti/../x", "dti 2025", "<script>", "x" * 81, "-dti"])
def test_edition_codes_are_checked_before_the_database(store, code):
    from assessment_support import populate

    from dti.errors import Conflict
    from dti.scoring import illustrative_catalogue
    from dti.services.edition_setup import create_edition

    world = populate(store)
    with pytest.raises(Conflict):
        with store.transaction() as session:
            create_edition(session, world.actors["admin"], illustrative_catalogue(), code, 2025,
                           "Kỳ 2025", "Edition 2025")


def test_notes_comments_and_reasons_have_a_length_limit_and_nothing_is_written(store):
    from assessment_support import EDITION, OWN, populate

    from dti.errors import InputError
    from dti.store import assessments
    from dti.services import assessments as changes
    from dti.services.assessments import MAX_TEXT
    from dti.store.models import Comment

    world = populate(store)
    editor = world.actors["editor"]
    long_text = "x" * (MAX_TEXT + 1)
    with pytest.raises(InputError) as caught:
        with store.transaction() as session:
            changes.save_answer(session, editor, EDITION, OWN, "NTS.05", {"value": "có"}, 0,
                                    note=long_text)
    assert caught.value.problems[0].code == "workflow.text_too_long"
    with pytest.raises(InputError):
        with store.transaction() as session:
            changes.add_comment(session, editor, EDITION, OWN, "NTS.05", long_text)
    with store.transaction() as session:   # at the limit it is fine
        changes.add_comment(session, editor, EDITION, OWN, "NTS.05", "y" * MAX_TEXT)
    with store.reading() as session:
        view = assessments.view(session, editor, EDITION, OWN)
        assert view.answers["NTS.05"].answer.version == 0
        assert session.query(Comment).count() == 1


def test_the_postgresql_pool_is_sized_by_its_settings_and_refuses_nonsense():
    from dti.errors import DtiError
    from dti.store.db import POOL_OVERFLOW, POOL_SIZE, make_engine, pool_sizes

    assert pool_sizes({}) == (POOL_SIZE, POOL_OVERFLOW) == (10, 20)
    assert pool_sizes({"DTI_DB_POOL_SIZE": "4", "DTI_DB_POOL_OVERFLOW": "0"}) == (4, 0)
    for bad in ({"DTI_DB_POOL_SIZE": "0"}, {"DTI_DB_POOL_OVERFLOW": "-1"},
                {"DTI_DB_POOL_SIZE": "ten"}):
        with pytest.raises(DtiError, match=f"{next(iter(bad))}=.*whole number"):
            pool_sizes(bad)
    engine = make_engine("postgresql://nobody@127.0.0.1:1/none")   # no connection is made
    assert (engine.pool.size(), engine.pool._max_overflow) == (POOL_SIZE, POOL_OVERFLOW)


@pytest.fixture
def one_connection_pg(tmp_path, monkeypatch):
    """A PostgreSQL store whose pool holds one connection, so every session reuses it."""
    if not os.environ.get("DTI_TEST_DATABASE_URL"):
        if os.environ.get("CI"):
            pytest.fail("CI must run the PostgreSQL store tests (DTI_TEST_DATABASE_URL unset)")
        pytest.skip(reason="no PostgreSQL server configured (DTI_TEST_DATABASE_URL) outside CI")
    from assessment_support import fresh_store

    monkeypatch.setenv("DTI_DB_POOL_SIZE", "1")
    monkeypatch.setenv("DTI_DB_POOL_OVERFLOW", "0")
    store = fresh_store("postgresql", tmp_path)
    yield store
    store.close()


def test_postgresql_reads_need_no_transaction_and_writes_stay_atomic(one_connection_pg):
    """A read session runs its statements outside a transaction (no BEGIN / COMMIT round trips);
    the same connection, back in the pool, is transactional again for the next write, which
    still commits whole or not at all."""
    from sqlalchemy import text

    store = one_connection_pg
    with store.reading() as session:
        assert session.connection().connection.dbapi_connection.autocommit is True
        first = session.scalar(text("SELECT pg_backend_pid()"))
        assert session.scalar(text("SELECT now() = statement_timestamp()")) is True   # no open transaction
    with pytest.raises(RuntimeError), store.transaction() as session:
        assert session.scalar(text("SELECT pg_backend_pid()")) == first    # the same connection
        assert session.connection().connection.dbapi_connection.autocommit is False
        assert session.scalar(text("SELECT now() = statement_timestamp()")) is False  # in a transaction
        create_user(session, "half", "mat-khau-dai-1", "reviewer")
        session.flush()
        raise RuntimeError("stop half-way")
    with store.reading() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0   # rolled back


def test_postgresql_connections_idle_a_while_are_pinged_and_dead_ones_replaced(one_connection_pg,
                                                                              monkeypatch):
    """A connection used within the last IDLE_PING_S is not pinged (no extra round trip); one idle
    longer is, and one the server dropped meanwhile is replaced before the request uses it."""
    from sqlalchemy import text

    from dti.store import db

    store, pings = one_connection_pg, []
    real = store.engine.dialect.do_ping
    monkeypatch.setattr(store.engine.dialect, "do_ping", lambda c: pings.append(1) or real(c))
    for _ in range(3):
        with store.reading() as session:
            pid = session.scalar(text("SELECT pg_backend_pid()"))
    assert pings == []                                  # hot: never pinged
    monkeypatch.setattr(db, "IDLE_PING_S", 0.0)
    other = store.engine.dialect.dbapi.connect(os.environ["DTI_TEST_DATABASE_URL"], autocommit=True)
    try:
        other.execute("SELECT pg_terminate_backend(%s)", (pid,))
    finally:
        other.close()
    with store.reading() as session:                    # pinged, found dead, replaced
        assert session.scalar(text("SELECT pg_backend_pid()")) != pid
    assert len(pings) == 1


def test_sqlite_writers_of_every_process_wait_on_one_lock_file_not_by_polling(tmp_path):
    """A write transaction holds an exclusive flock beside the database: another process's writer
    blocks on it in the kernel until the transaction ends, however it ends."""
    import fcntl
    import os

    from dti.store.db import Store

    store = Store.open(f"sqlite:///{tmp_path}/queue.db", tmp_path / "evidence")
    lock = tmp_path / "queue.db.writers"

    def another_process_could_write() -> bool:
        fd = os.open(lock, os.O_RDWR)      # its own open file, as another process has
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
            return True
        except BlockingIOError:
            return False
        finally:
            os.close(fd)

    try:
        with store.transaction():
            assert lock.exists() and not another_process_could_write()
        assert another_process_could_write()
        with pytest.raises(RuntimeError), store.transaction():
            raise RuntimeError("rolled back")
        assert another_process_could_write()          # a failed transaction lets it go too
    finally:
        store.close()
