"""Backups hold password hashes, live sessions and every evidence file: the archive is private to
its owner from the moment it is created, and a damaged archive — any byte of it — is refused with
the command's own message before the database or the evidence folder is touched."""

from __future__ import annotations

import gzip
import io
import json
import os
import random
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from assessment_support import PASSWORD, fresh_store

from dti.cli import main
from dti.clock import now
from dti.errors import DtiError, InputError
from dti.store import audit, backup
from dti.store.accounts import Actor, create_user
from dti.store.evidence import store_bytes
from dti.store.models import Answer, Assessment, Base, EditionRow, Evidence

ROOT = Path(__file__).parents[1]
PDF = b"%PDF-1.4\n% minh chung\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
CORRUPTIONS = 1000


def _small_store(tmp_path: Path):
    """A store with a little of everything (a user, an edition, an answer, an evidence file, audit
    lines) and a small archive of it: a random byte lands anywhere in the archive's layout."""
    store = fresh_store("sqlite", tmp_path)
    with store.transaction() as session:
        user = create_user(session, "lan.nguyen", PASSWORD, "province_editor", "48", "Nguyễn Lan")
        edition = EditionRow(code="dti-nho-2022", year=2022, name_vi="Kỳ nhỏ", name_en="Small",
                             framework_id="qd-922-btttt", base_edition="dti-province-2022",
                             unit_set="provinces-63", catalogue={}, catalogue_checksum="0" * 64,
                             illustrative=True, status="open", version=1)
        session.add(edition)
        session.flush()
        assessment = Assessment(edition_id=edition.id, province_code="48", state="draft", version=1,
                                updated_at=now(), simulated=False)
        session.add(assessment)
        session.flush()
        answer = Answer(assessment_id=assessment.id, indicator_code="NTS.02", note="Báo cáo 12",
                        review_status="pending", reviewed_version=0, version=1,
                        self_value={"value": "có"}, self_points=1.0)
        session.add(answer)
        session.flush()
        digest = store_bytes(store.evidence_dir, PDF)
        session.add(Evidence(answer_id=answer.id, sha256=digest, filename="Quyết định.pdf",
                             media_type="application/pdf", size=len(PDF), uploaded_by=user.id,
                             uploaded_at=now()))
        actor = Actor.of(user)
        audit.write(session, actor, "answer.save", edition="dti-nho-2022", province="48",
                    indicator="NTS.02", after={"value": "có"})
        audit.write(session, actor, "evidence.upload", edition="dti-nho-2022", province="48",
                    indicator="NTS.02", after={"sha256": digest})
    return store


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("source")
    source = _small_store(tmp)
    try:
        backup.backup(source, tmp / "dti.tar.gz")
    finally:
        source.close()
    return tmp / "dti.tar.gz"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- the archive is private ------------------------------------------------------------------------

def test_the_archive_is_readable_by_its_owner_only_from_the_start(tmp_path, monkeypatch):
    store = _small_store(tmp_path / "store")
    modes = []
    real_replace = os.replace

    def replace(source, target):   # the partial file, just before it takes the archive's name
        modes.append(_mode(Path(source)))
        return real_replace(source, target)

    old_umask = os.umask(0)        # a permissive umask must not widen the file
    try:
        monkeypatch.setattr(os, "replace", replace)
        out = tmp_path / "out" / "dti.tar.gz"
        out.parent.mkdir()
        out.write_bytes(b"an older archive")
        out.chmod(0o644)
        (tmp_path / "out" / "dti.tar.gz.part").write_bytes(b"a partial file left by a crash")
        (tmp_path / "out" / "dti.tar.gz.part").chmod(0o666)
        backup.backup(store, out)
    finally:
        os.umask(old_umask)
        store.close()
    assert modes == [0o600]
    assert _mode(out) == 0o600
    assert not (tmp_path / "out" / "dti.tar.gz.part").exists()
    assert backup.read_manifest(out)["rows"]["users"] == 1


def test_the_backup_command_writes_a_private_archive(tmp_path, capsys):
    store = _small_store(tmp_path / "store")
    store.close()
    out = tmp_path / "dti.tar.gz"
    code = main(["backup", str(out), "--database-url", store.url,
                 "--evidence-dir", str(store.evidence_dir)])
    assert code == 0, capsys.readouterr().err
    assert _mode(out) == 0o600


# -- a damaged archive restores nothing ------------------------------------------------------------

def _corrupt(data: bytes, rng: random.Random) -> tuple[int, bytes]:
    offset = rng.randrange(len(data))
    changed = bytearray(data)
    changed[offset] = (data[offset] + 1 + rng.randrange(255)) % 256   # always a different byte
    return offset, bytes(changed)


class _Statements:
    """Every SQL statement the target engine runs (a refused archive must not reach the database)."""

    def __init__(self, engine):
        self.seen: list[str] = []
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, connection, cursor, statement, *args) -> None:
        self.seen.append(statement)


def _rows(store) -> dict[str, int]:
    with store.reading() as session:
        return {t.name: session.scalar(select(func.count()).select_from(t))
                for t in Base.metadata.sorted_tables}


def test_a_thousand_one_byte_corruptions_each_end_in_the_commands_own_error(archive, store,
                                                                               tmp_path):
    """``store`` is the (empty) target; every damaged copy is refused with a located backup
    problem, no statement reaches the database and no evidence file is written."""
    data = archive.read_bytes()
    rng = random.Random(20241204)
    damaged = tmp_path / "damaged.tar.gz"
    statements = _Statements(store.engine)
    outcomes: dict[str, int] = {}
    for _ in range(CORRUPTIONS):
        offset, changed = _corrupt(data, rng)
        damaged.write_bytes(changed)
        try:
            backup.restore(store, damaged)
        except InputError as exc:
            code = exc.problems[0].code
            assert code in ("backup.checksum", "backup.unreadable"), (offset, str(exc))
            outcomes[code] = outcomes.get(code, 0) + 1
        except Exception as exc:   # noqa: BLE001 — the point: nothing else may escape
            pytest.fail(f"byte {offset} of {len(data)}: {type(exc).__name__}: {exc}")
        else:
            pytest.fail(f"byte {offset} of {len(data)} changed and the archive was restored")
    assert sum(outcomes.values()) == CORRUPTIONS
    assert statements.seen == []
    assert not store.evidence_dir.exists()
    assert set(_rows(store).values()) == {0}
    backup.restore(store, archive)     # the intact archive still restores into the same target
    assert _rows(store)["evidence"] == 1


def _unsealed(archive: Path, out: Path) -> None:
    """The same members in a plain tar.gz, as an earlier dti wrote them (no seal)."""
    with tarfile.open(archive, "r:gz") as source, tarfile.open(out, "w:gz") as target:
        for info in source:
            target.addfile(info, io.BytesIO(source.extractfile(info).read()))


def test_an_unsealed_archive_is_checked_member_by_member_and_never_restored_changed(archive,
                                                                                   tmp_path):
    """An archive without the seal (an earlier dti's) is still read; a damaged byte either is
    refused with the command's own error, or cannot change anything (the tar stream inside is
    bit-identical) and then what is restored is exactly the original."""
    plain = tmp_path / "plain.tar.gz"
    _unsealed(archive, plain)
    reference = fresh_store("sqlite", tmp_path / "reference")
    backup.restore(reference, plain)
    expected = backup._read_tables(reference)
    reference.close()
    data = plain.read_bytes()
    rng = random.Random(4)
    damaged = tmp_path / "damaged.tar.gz"
    target = fresh_store("sqlite", tmp_path / "target-0")
    restored = 0
    try:
        for _ in range(300):
            offset, changed = _corrupt(data, rng)
            damaged.write_bytes(changed)
            try:
                backup.restore(target, damaged)
            except InputError:
                assert set(_rows(target).values()) == {0} and not target.evidence_dir.exists()
                continue
            except Exception as exc:   # noqa: BLE001
                pytest.fail(f"byte {offset}: {type(exc).__name__}: {exc}")
            # the byte could not change anything: the gzip header's time, name or flag hints, or
            # compressed data that inflates to the very same tar stream (deflate has such bits)
            assert gzip.decompress(changed) == gzip.decompress(data), offset
            assert backup._read_tables(target) == expected
            restored += 1
            target.close()
            target = fresh_store("sqlite", tmp_path / f"target-{restored}")
    finally:
        target.close()


def _cli_restore(capsys, path: Path, url: str) -> tuple[int, str, str]:
    code = main(["restore", str(path), "--database-url", url,
                 "--evidence-dir", str(path.parent / "evidence")])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("where", ["seal", "middle", "end"])
def test_restore_of_a_damaged_archive_prints_one_line_and_exits_1(archive, tmp_path, capsys, where):
    data = bytearray(archive.read_bytes())
    offset = {"seal": 40, "middle": len(data) // 2, "end": len(data) - 3}[where]
    data[offset] ^= 0x20
    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(bytes(data))
    url = f"sqlite:///{tmp_path / 'target.db'}"
    code, out, err = _cli_restore(capsys, damaged, url)
    assert code == 1 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    assert "damaged.tar.gz" in err and "[backup." in err and "Traceback" not in err
    assert not (tmp_path / "target.db").exists()    # refused before the database was opened


def test_the_command_in_a_process_of_its_own_refuses_a_damaged_archive_without_traceback(archive, tmp_path):
    data = bytearray(archive.read_bytes())
    data[len(data) // 3] ^= 0x01
    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(bytes(data))
    entry_point = "from dti.cli.main import run; run()"     # what the `dti` console script runs
    result = subprocess.run([sys.executable, "-c", entry_point, "restore", str(damaged),
                             "--database-url", f"sqlite:///{tmp_path / 'target.db'}",
                             "--evidence-dir", str(tmp_path / "ev")],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout == "" and len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert not (tmp_path / "ev").exists()


# -- a sealed archive whose content does not fit ---------------------------------------------------

def _members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as opened:
        return {info.name: opened.extractfile(info).read() for info in opened}


def _resealed(archive: Path, out: Path, change) -> None:
    """The archive's members changed by ``change`` and sealed again, manifest checksums updated:
    an archive whose bytes are intact but whose content a dti of this version never writes."""
    import hashlib

    members = _members(archive)
    manifest = json.loads(members.pop(backup.MANIFEST))
    change(members, manifest)
    manifest["members"] = {n: hashlib.sha256(d).hexdigest() for n, d in members.items()}
    members[backup.MANIFEST] = json.dumps(manifest).encode()
    backup.write_archive(out, members.items())


def _table(name: str, rows_change):
    def change(members, manifest):
        rows = json.loads(members[f"tables/{name}.json"])
        members[f"tables/{name}.json"] = json.dumps(rows_change(rows)).encode()
    return change


def _manifest(key: str, value):
    def change(members, manifest):
        if value is None:
            manifest.pop(key)
        else:
            manifest[key] = value
    return change


CONTENT = {
    "a table that is not a list of rows": _table("users", lambda rows: {"rows": rows}),
    "a row that is not an object": _table("users", lambda rows: [1, 2]),
    "an unknown column": _table("users", lambda rows: [{**r, "is_root": True} for r in rows]),
    "a date that is not one": _table("users", lambda rows: [{**r, "created_at": "hôm qua"}
                                                            for r in rows]),
    "a number where a date goes": _table("users", lambda rows: [{**r, "created_at": 5}
                                                                for r in rows]),
    "a text where a number goes": _table("evidence", lambda rows: [{**r, "size": "lớn"}
                                                                   for r in rows]),
    "a row the schema refuses": _table("evidence", lambda rows: [{**r, "answer_id": 999}
                                                                 for r in rows]),
    "row counts that disagree": _manifest("rows", {"users": 7}),
    "no creation time": _manifest("created_at", None),
    "members that are not a table": _manifest("rows", ["users"]),
    "a missing table": lambda members, manifest: members.pop("tables/comments.json"),
}


@pytest.mark.parametrize("case", CONTENT)
def test_a_sealed_archive_with_content_that_does_not_fit_restores_nothing(archive, store,
                                                                           tmp_path, case):
    crafted = tmp_path / "crafted.tar.gz"
    _resealed(archive, crafted, CONTENT[case])
    with pytest.raises(DtiError) as refused:
        backup.restore(store, crafted)
    assert isinstance(refused.value, InputError), refused.value
    assert refused.value.problems[0].code == "backup.unreadable"
    assert set(_rows(store).values()) == {0}
    assert not store.evidence_dir.exists()
