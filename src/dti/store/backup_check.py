"""Reading a backup archive without trusting it: every check a restore makes before it touches
the database, and the rows as they will be inserted.

In order: the seal (:func:`dti.store.backup_archive.check_seal`: any changed byte), the layout
(regular members with known names, each once, the gzip stream read to its end so its CRC and
length are checked), the manifest (every field present and of its kind), every member against
the manifest's SHA-256, and — once the schema revision is known to be this one — every row
against its table's columns (names, kinds, required values, text lengths).  A failure is an
:class:`InputError` with a located ``backup.*`` problem, whatever the damage.
"""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import JSON, Boolean, Column, DateTime, Float, Integer, String, Table

from dti.errors import InputError, Problem
from dti.store.backup_archive import check_seal, unreadable
from dti.store.models import Base

FORMAT = "dti-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_EVIDENCE_NAME = re.compile(r"^evidence/([0-9a-f]{64})$")
_CHUNK = 1 << 20
# What reading a damaged tar.gz can raise: tarfile's own errors, gzip's (OSError: bad header, CRC,
# length; EOFError: cut short), zlib's (bad deflate data), and ValueError (JSON, UTF-8, numbers in
# a tar header).
READ_ERRORS = (tarfile.TarError, OSError, EOFError, zlib.error, ValueError)


@dataclass(frozen=True)
class Contents:
    """What a checked archive holds: its manifest and the bytes of every table member."""

    manifest: dict[str, Any]
    tables: dict[str, bytes]


def read(path: Path) -> Contents:
    """The archive's manifest and tables, after the seal, layout, manifest and checksums."""
    check_seal(path)
    manifest, tables, seen = None, {}, {}
    try:
        with tarfile.open(path, "r:gz") as archive:
            for name, data in members(archive):
                if name in seen:
                    raise tarfile.TarError(f"member {name!r} appears twice")
                seen[name] = hashlib.sha256(data).hexdigest()
                if name == MANIFEST:
                    manifest = json.loads(data)
                elif name.startswith("tables/"):
                    tables[name] = data
            while archive.fileobj.read(_CHUNK):   # to the end: gzip checks its CRC and length
                pass
    except FileNotFoundError:
        raise
    except READ_ERRORS as exc:
        raise unreadable(path, f"not a dti backup archive, or a damaged one ({exc})") from None
    _check_manifest(path, manifest)
    seen.pop(MANIFEST)
    expected = manifest["members"]
    bad = sorted(n for n in set(expected) | set(seen) if expected.get(n) != seen.get(n))
    if bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise InputError([Problem("backup.checksum", f"the member is missing, unexpected or does not "
                                  f"match the manifest's SHA-256{more}: the archive was changed or "
                                  "damaged; nothing was restored", file=f"{path.name}:{bad[0]}")])
    return Contents(manifest, tables)


def members(archive: tarfile.TarFile) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every regular member; anything else (links, folders, odd names) refused."""
    known = {f"tables/{t.name}.json" for t in Base.metadata.sorted_tables} | {MANIFEST}
    for info in archive:
        if not info.isfile() or (info.name not in known and not _EVIDENCE_NAME.match(info.name)):
            raise tarfile.TarError(f"unexpected member {info.name!r}")
        handle = archive.extractfile(info)
        data = handle.read() if handle else b""
        if len(data) != info.size:
            raise tarfile.TarError(f"member {info.name!r} is cut short")
        yield info.name, data


def _check_manifest(path: Path, manifest: Any) -> None:
    if manifest is None:
        raise unreadable(path, "not a dti backup archive (it has no manifest.json)")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise unreadable(path, "not a dti backup archive (manifest.json is not a dti backup "
                         "manifest)", MANIFEST)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise unreadable(path, f"backup format version {manifest.get('format_version')!r}; this "
                         f"dti reads version {FORMAT_VERSION}", MANIFEST)
    listed, rows = manifest.get("members"), manifest.get("rows")
    if not (isinstance(listed, dict) and all(isinstance(v, str) for v in listed.values())
            and isinstance(rows, dict) and all(type(v) is int for v in rows.values())
            and all(isinstance(manifest.get(k), str)
                    for k in ("alembic_revision", "created_at", "source"))):
        raise unreadable(path, "manifest.json lacks a field (alembic_revision, created_at, source, "
                         "rows, members) or has one of the wrong kind", MANIFEST)


# -- rows -----------------------------------------------------------------------------------------

def rows_of(path: Path, contents: Contents) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows as they will be inserted, each checked against the table's columns."""
    counts = contents.manifest["rows"]
    out = {}
    for table in Base.metadata.sorted_tables:
        member = f"tables/{table.name}.json"
        if member not in contents.tables:
            raise unreadable(path, "the table is missing from the archive", member)
        try:
            rows = json.loads(contents.tables[member])
        except ValueError as exc:
            raise unreadable(path, f"the table is not JSON ({exc})", member) from None
        if not isinstance(rows, list) or len(rows) != counts.get(table.name):
            raise unreadable(path, "the table is not the list of rows manifest.json counts", member)
        out[table.name] = [_row(path, member, table, n, row) for n, row in enumerate(rows, 1)]
    return out


def _row(path: Path, member: str, table: Table, number: int, row: Any) -> dict[str, Any]:
    if not isinstance(row, dict) or not set(row) <= set(table.columns.keys()):
        raise _bad_row(path, member, number, None, "not a row of the table's columns")
    out = {}
    for column in table.columns:
        try:
            out[column.name] = _value(column, row.get(column.name))
        except (TypeError, ValueError) as exc:
            raise _bad_row(path, member, number, column.name, str(exc)) from None
    return out


def _value(column: Column, value: Any) -> Any:
    """The value as the column takes it; TypeError or ValueError when it cannot be."""
    kind = column.type
    if value is None:
        if not column.nullable:
            raise ValueError("a value is required")
        return None
    if isinstance(kind, JSON):
        return value
    if isinstance(kind, DateTime):
        if not isinstance(value, str):
            raise TypeError("a date and time (ISO 8601 text) is expected")
        return datetime.fromisoformat(value)
    expected = {Boolean: (bool,), Integer: (int,), Float: (int, float), String: (str,)}
    for sql_type, python_types in expected.items():
        if isinstance(kind, sql_type):
            if not isinstance(value, python_types) or (sql_type is not Boolean and isinstance(value, bool)):
                raise TypeError(f"a {python_types[-1].__name__} value is expected")
            if sql_type is String and kind.length and len(value) > kind.length:
                raise ValueError(f"longer than {kind.length} characters")
            return value
    raise TypeError(f"a column of kind {kind} cannot be restored")


def _bad_row(path: Path, member: str, number: int, column: str | None, message: str) -> InputError:
    return InputError([Problem("backup.unreadable", f"{message}; nothing was restored",
                               file=f"{path.name}:{member}", row=number, column=column)])
