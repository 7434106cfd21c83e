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

The file is created readable by its owner only (it holds password hashes, sessions and every
evidence file) and sealed: the SHA-256 of all its bytes is written into the gzip header
(:mod:`dti.store.backup_archive`).

A restore checks everything before it changes anything: the seal (any changed byte of the file),
the archive's structure, the manifest, every member's checksum, that the archive's schema revision
is the one this ``dti`` migrates to, that every row fits its table's columns, and that the target
database is empty (or ``replace`` is given: the schema is then dropped and re-created through the
migrations, since the audit log refuses DELETE).  Only then is the database touched: every row is
inserted and the evidence files copied (content addressed) in one transaction, so a row the
database still refuses leaves neither rows nor files.  Every failure is an :class:`InputError`
or a :class:`Conflict`, never another exception.
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import JSON, Integer, Table, bindparam, func, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from dti.clock import now
from dti.errors import Conflict, InputError, Problem
from dti.store import migrate
from dti.store.backup_archive import unreadable, write_archive
from dti.store.backup_check import (FORMAT, FORMAT_VERSION, MANIFEST, READ_ERRORS, Contents,
                                    members, read, rows_of)
from dti.store.db import Store
from dti.store.evidence import store_bytes
from dti.store.models import Base, Evidence

__all__ = ["FORMAT", "FORMAT_VERSION", "MANIFEST", "BackupReport", "backup", "read_manifest",
           "restore", "write_archive"]


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
    digests = sorted({row["sha256"] for row in tables[Evidence.__tablename__]})
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "alembic_revision": revision,
                "created_at": now().isoformat(), "source": store.engine.dialect.name,
                "rows": {name: len(rows) for name, rows in tables.items()}, "members": {}}
    sizes: list[int] = []
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    try:
        write_archive(partial, _members_of(store, tables, digests, manifest, sizes))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return BackupReport(path, revision, manifest["rows"], len(digests), sum(sizes))


def _members_of(store: Store, tables: dict[str, list[dict[str, Any]]], digests: list[str],
                manifest: dict[str, Any], sizes: list[int]) -> Iterator[tuple[str, bytes]]:
    """Every member in archive order, the manifest (with each member's SHA-256) last; evidence
    files are read one at a time, never all at once."""
    listed = manifest["members"]
    for name, rows in tables.items():
        data = json.dumps(rows, ensure_ascii=False, sort_keys=True).encode("utf-8")
        listed[f"tables/{name}.json"] = hashlib.sha256(data).hexdigest()
        yield f"tables/{name}.json", data
    for digest in digests:
        data = _evidence_bytes(store.evidence_dir, digest)
        listed[f"evidence/{digest}"] = digest
        sizes.append(len(data))
        yield f"evidence/{digest}", data
    yield MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode()


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


# -- reading --------------------------------------------------------------------------------------

def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest, after checking the seal, the archive's layout and every member's checksum."""
    return read(Path(path)).manifest


# -- restoring ------------------------------------------------------------------------------------

def restore(store: Store, path: str | Path, replace: bool = False) -> dict[str, Any]:
    """Load the archive into ``store`` (database and evidence folder); returns its manifest."""
    path = Path(path)
    contents = read(path)
    manifest = contents.manifest
    head = migrate.head()
    if manifest["alembic_revision"] != head:
        raise InputError([Problem("backup.revision", f"the backup has schema revision "
                                  f"{manifest['alembic_revision']!r}; this dti uses {head!r} — "
                                  "restore it with the dti version that made it", file=str(path))])
    tables = rows_of(path, contents)
    filled = _filled_tables(store)
    if filled and not replace:
        raise Conflict(f"the database already holds data ({', '.join(filled)}); restore into an empty "
                       "database, or give --replace to drop everything in it first")
    if replace and migrate.current(store.engine) is not None:
        migrate.downgrade(store.engine, "base")
    migrate.upgrade(store.engine)
    try:
        with store.engine.begin() as connection:
            for table in Base.metadata.sorted_tables:
                if tables[table.name]:
                    connection.execute(_insert(table), tables[table.name])
            if not store.is_sqlite:
                _reset_sequences(connection)
            _copy_evidence(store, path, contents)   # last: a refused row leaves no file behind
    except SQLAlchemyError as exc:
        reason = (str(getattr(exc, "orig", exc)).strip().splitlines() or [type(exc).__name__])[0]
        emptied = " (--replace had emptied the database)" if replace else ""
        raise unreadable(path, f"the database refuses the archive's rows ({reason}); nothing "
                         f"was restored{emptied}") from None
    return manifest


def _copy_evidence(store: Store, path: Path, contents: Contents) -> None:
    """Copy every evidence file, checked once more against the manifest as it is read."""
    listed = contents.manifest["members"]
    try:
        with tarfile.open(path, "r:gz") as archive:
            for name, data in members(archive):
                if name.startswith("evidence/"):
                    if listed.get(name) != hashlib.sha256(data).hexdigest():
                        raise tarfile.TarError(f"{name} changed")
                    store_bytes(store.evidence_dir, data)
    except FileNotFoundError:
        raise
    except READ_ERRORS:
        raise InputError([Problem("backup.checksum", "the archive changed while it was being read; "
                                  "nothing was restored", file=str(path))]) from None


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


def _reset_sequences(connection: Connection) -> None:
    """PostgreSQL: move each id sequence past the restored ids (names come from the metadata)."""
    for table in Base.metadata.sorted_tables:
        columns = list(table.primary_key.columns)
        if len(columns) == 1 and isinstance(columns[0].type, Integer):
            top = func.max(columns[0])
            connection.execute(select(func.setval(
                func.pg_get_serial_sequence(table.name, columns[0].name),
                func.coalesce(top, 1), top.is_not(None))).select_from(table))
