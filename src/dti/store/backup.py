"""``dti backup`` / ``dti restore``: one archive holding a consistent copy of the database and the
evidence files, portable between SQLite and PostgreSQL.

The archive is a ``.tar.gz`` with::

    tables/<table>.json     every row of one table (columns by name; datetimes as ISO 8601)
    evidence/<sha256>       every evidence file a row refers to, named by its SHA-256
    manifest.json           format version, Alembic revision, row counts, SHA-256 of every member

All tables are read in ONE read transaction (SQLite: an explicit ``BEGIN``, a snapshot under WAL;
PostgreSQL: ``REPEATABLE READ``), so the copy is what the database held at one instant while the
app keeps serving.  Evidence files are immutable and stored under their hash, so reading them
after the snapshot is safe.

A restore checks everything before it changes anything: the manifest, every member's checksum,
that the archive's schema revision is the one this ``dti`` migrates to, and that the target
database is empty (or ``replace`` is given: the schema is then dropped and re-created through the
migrations, since the audit log refuses DELETE).  Evidence files are copied first (content
addressed, so harmless on their own), then every row is inserted in one transaction.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import JSON, DateTime, Integer, Table, bindparam, func, inspect, select
from sqlalchemy.engine import Connection

from dti.errors import Conflict, InputError, Problem
from dti.store import migrate
from dti.store.accounts import now
from dti.store.db import Store
from dti.store.evidence import store_bytes
from dti.store.models import Base, Evidence

FORMAT = "dti-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_EVIDENCE_NAME = re.compile(r"^evidence/([0-9a-f]{64})$")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class BackupReport:
    path: Path
    revision: str
    rows: dict[str, int]
    evidence_files: int
    evidence_bytes: int


# -- writing --------------------------------------------------------------------------------------

def backup(store: Store, path: str | Path) -> BackupReport:
    """Write the archive to ``path`` (through a temporary file: a failed backup leaves nothing)."""
    path = Path(path)
    revision = migrate.current(store.engine)
    if revision is None:
        raise Conflict("the database has no schema yet; run `dti db upgrade` first")
    tables = _read_tables(store)
    members: dict[str, str] = {}
    digests = sorted({row["sha256"] for row in tables[Evidence.__tablename__]})
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    total = 0
    try:
        with tarfile.open(partial, "w:gz") as archive:
            for name, rows in tables.items():
                data = json.dumps(rows, ensure_ascii=False, sort_keys=True).encode("utf-8")
                members[f"tables/{name}.json"] = _add_bytes(archive, f"tables/{name}.json", data)
            for digest in digests:
                data = _evidence_bytes(store.evidence_dir, digest)
                members[f"evidence/{digest}"] = _add_bytes(archive, f"evidence/{digest}", data)
                total += len(data)
            manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "alembic_revision": revision,
                        "created_at": now().isoformat(), "source": store.engine.dialect.name,
                        "rows": {name: len(rows) for name, rows in tables.items()},
                        "members": members}
            _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return BackupReport(path, revision, manifest["rows"], len(digests), total)


def _read_tables(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, read in one snapshot."""
    with store.engine.connect() as connection:
        # SQLite: the engine emits BEGIN for every transaction (see dti.store.db), which pins
        # one WAL snapshot for all the reads; PostgreSQL: REPEATABLE READ does the same.
        if not store.is_sqlite:
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        connection.begin()
        try:
            return {table.name: [_to_json(table, row) for row in connection.execute(
                        select(table).order_by(*table.primary_key.columns)).mappings()]
                    for table in Base.metadata.sorted_tables}
        finally:
            connection.rollback()


def _to_json(table: Table, row) -> dict[str, Any]:
    out = {}
    for column in table.columns:
        value = row[column.name]
        out[column.name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def _evidence_bytes(root: Path, digest: str) -> bytes:
    target = root / digest[:2] / digest
    try:
        data = target.read_bytes()
    except FileNotFoundError:
        raise InputError([Problem("backup.evidence_missing", "an evidence file the database refers "
                                  "to is missing from the evidence folder; check DTI_EVIDENCE_DIR "
                                  "(nothing was written)", file=str(target))]) from None
    if hashlib.sha256(data).hexdigest() != digest:
        raise InputError([Problem("backup.evidence_missing", "an evidence file does not match its "
                                  "SHA-256 name (it was changed on disk); nothing was written",
                                  file=str(target))])
    return data


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> str:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(now().timestamp()), 0o600
    archive.addfile(info, io.BytesIO(data))
    return hashlib.sha256(data).hexdigest()


# -- reading --------------------------------------------------------------------------------------

def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest, after checking every member against its checksum (and nothing more)."""
    path = Path(path)
    manifest, seen = None, {}
    try:
        with tarfile.open(path, "r:gz") as archive:
            for name, data in _members(archive):
                if name == MANIFEST:
                    manifest = json.loads(data)
                else:
                    seen[name] = hashlib.sha256(data).hexdigest()
    except (tarfile.TarError, OSError, EOFError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise _unreadable(path, f"not a dti backup archive ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT \
            or not isinstance(manifest.get("members"), dict):
        raise _unreadable(path, "not a dti backup archive (no valid manifest.json)")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise _unreadable(path, f"backup format version {manifest.get('format_version')!r}; this "
                          f"dti reads version {FORMAT_VERSION}")
    expected = manifest["members"]
    bad = sorted(n for n in set(expected) | set(seen) if expected.get(n) != seen.get(n))
    if bad:
        raise InputError([Problem("backup.checksum", "the member is missing, unexpected or does not "
                                  "match the manifest's SHA-256: the archive was changed or damaged; "
                                  "nothing was restored", file=f"{path.name}:{name}") for name in bad])
    return manifest


def _members(archive: tarfile.TarFile) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every regular member; anything else (links, folders, odd names) refused."""
    known = {f"tables/{t.name}.json" for t in Base.metadata.sorted_tables} | {MANIFEST}
    for info in archive:
        if not info.isfile() or (info.name not in known and not _EVIDENCE_NAME.match(info.name)):
            raise tarfile.TarError(f"unexpected member {info.name!r}")
        handle = archive.extractfile(info)
        yield info.name, handle.read() if handle else b""


def _unreadable(path: Path, message: str) -> InputError:
    return InputError([Problem("backup.unreadable", message, file=str(path))])


# -- restoring ------------------------------------------------------------------------------------

def restore(store: Store, path: str | Path, replace: bool = False) -> dict[str, Any]:
    """Load the archive into ``store`` (database and evidence folder); returns its manifest."""
    path = Path(path)
    manifest = read_manifest(path)
    head = migrate.head()
    if manifest.get("alembic_revision") != head:
        raise InputError([Problem("backup.revision", f"the backup has schema revision "
                                  f"{manifest.get('alembic_revision')!r}; this dti uses {head!r} — "
                                  "restore it with the dti version that made it", file=str(path))])
    filled = _filled_tables(store)
    if filled and not replace:
        raise Conflict(f"the database already holds data ({', '.join(filled)}); restore into an empty "
                       "database, or give --replace to drop everything in it first")
    with tarfile.open(path, "r:gz") as archive:
        tables: dict[str, list[dict[str, Any]]] = {}
        for name, data in _members(archive):
            if name != MANIFEST and manifest["members"].get(name) != hashlib.sha256(data).hexdigest():
                raise InputError([Problem("backup.checksum", "the archive changed while it was being "
                                          "read; nothing was restored", file=f"{path.name}:{name}")])
            if name.startswith("tables/"):
                tables[name[len("tables/"):-len(".json")]] = json.loads(data)
            elif name != MANIFEST:
                store_bytes(store.evidence_dir, data)   # checked above: bytes match their name
    if replace and migrate.current(store.engine) is not None:
        migrate.downgrade(store.engine, "base")
    migrate.upgrade(store.engine)
    with store.engine.begin() as connection:
        for table in Base.metadata.sorted_tables:
            rows = [_from_json(table, row) for row in tables.get(table.name, [])]
            if rows:
                connection.execute(_insert(table), rows)
        if not store.is_sqlite:
            _reset_sequences(connection)
    return manifest


def _filled_tables(store: Store) -> list[str]:
    present = set(inspect(store.engine).get_table_names())
    with store.engine.connect() as connection:
        return [t.name for t in Base.metadata.sorted_tables if t.name in present
                and connection.scalar(select(func.count()).select_from(t))]


def _insert(table: Table):
    # JSON columns bind None as SQL NULL (not the JSON literal null), as the app writes them.
    values = {c.name: bindparam(c.name, type_=JSON(none_as_null=True))
              for c in table.columns if isinstance(c.type, JSON)}
    return table.insert().values(values) if values else table.insert()


def _from_json(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for column in table.columns:
        value = row.get(column.name)
        if value is not None and isinstance(column.type, DateTime):
            value = datetime.fromisoformat(value)
        out[column.name] = value
    return out


def _reset_sequences(connection: Connection) -> None:
    """PostgreSQL: move each id sequence past the restored ids (names come from the metadata)."""
    for table in Base.metadata.sorted_tables:
        columns = list(table.primary_key.columns)
        if len(columns) == 1 and isinstance(columns[0].type, Integer):
            top = func.max(columns[0])
            connection.execute(select(func.setval(
                func.pg_get_serial_sequence(table.name, columns[0].name),
                func.coalesce(top, 1), top.is_not(None))).select_from(table))
