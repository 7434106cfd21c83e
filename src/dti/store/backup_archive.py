"""The file a backup is: a ``.tar.gz`` created readable by its owner only, and sealed.

The seal is the SHA-256 of every byte after the gzip header, written into the header's comment
field (standard gzip: ``tar xzf`` and any gzip reader open the file as usual)::

    1f 8b 08 10 | 00 00 00 00 | 00 ff | "dti-backup sha256=<64 hex digits>" 00 | deflate | crc32 | size

Apart from the digest the header is fixed (comment flag only, time 0, no file name), so a reader
rebuilds it from the digest and compares it byte for byte.  Together, every byte of the file is
covered: a change anywhere — in the header, the compressed data or the gzip trailer — is found by
:func:`check_seal` before a single member is parsed.

An archive without a comment (written by an earlier ``dti``, or repacked with ``tar``) carries no
seal; a restore then relies on the manifest's checksum of every member and on the gzip CRC of the
whole tar stream.  A gzip comment that is not a well-formed seal is refused: removing the seal
must not turn a sealed archive into one that is checked less.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import tarfile
import time
import zlib
from pathlib import Path
from typing import Iterable

from dti.errors import InputError, Problem

_MAGIC = b"\x1f\x8b\x08"          # gzip, deflate
_FCOMMENT = 0x10
_FIXED = _MAGIC + bytes([_FCOMMENT]) + bytes(4) + b"\x00\xff"   # flags, time 0, no hint, OS unknown
_SEAL = re.compile(rb"dti-backup sha256=([0-9a-f]{64})\x00")
HEADER_SIZE = len(_FIXED) + len(b"dti-backup sha256=") + 64 + 1
_CHUNK = 1 << 20
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _header(digest: str) -> bytes:
    return _FIXED + b"dti-backup sha256=" + digest.encode("ascii") + b"\x00"


class _SealedGzip:
    """A write-only file for :mod:`tarfile`: deflates what it is given behind a placeholder
    header, and hashes every byte it writes after it."""

    def __init__(self, raw) -> None:
        self.raw, self.digest = raw, hashlib.sha256()
        self.crc, self.size = 0, 0
        self.deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        raw.write(bytes(HEADER_SIZE))

    def write(self, data: bytes) -> int:
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        self._out(self.deflate.compress(data))
        return len(data)

    def seal(self) -> None:
        self._out(self.deflate.flush() + struct.pack("<II", self.crc, self.size & 0xFFFFFFFF))
        self.raw.seek(0)
        self.raw.write(_header(self.digest.hexdigest()))

    def _out(self, chunk: bytes) -> None:
        if chunk:
            self.digest.update(chunk)
            self.raw.write(chunk)


def write_archive(path: str | Path, members: Iterable[tuple[str, bytes]]) -> None:
    """Write ``members`` (name, bytes) as a sealed tar.gz at ``path``, mode 0600 from its creation
    whatever the umask, also when a file of that name was there (it is truncated, never followed
    if it is a link)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as raw:
        if hasattr(os, "fchmod"):
            os.fchmod(raw.fileno(), 0o600)   # an existing file keeps its mode through O_CREAT
        body = _SealedGzip(raw)
        written_at = int(time.time())
        with tarfile.open(fileobj=body, mode="w|") as archive:   # type: ignore[call-overload]
            for name, data in members:
                info = tarfile.TarInfo(name)
                info.size, info.mode, info.mtime = len(data), 0o600, written_at
                archive.addfile(info, _Reader(data))
        body.seal()


class _Reader:
    """The least :meth:`tarfile.TarFile.addfile` reads from (no copy of the bytes)."""

    def __init__(self, data: bytes) -> None:
        self.view, self.at = memoryview(data), 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.view) if size < 0 else self.at + size
        chunk, self.at = self.view[self.at:end], min(end, len(self.view))
        return bytes(chunk)


def check_seal(path: Path) -> bool:
    """True when ``path`` is sealed and every byte is as written; False when it carries no seal.
    Raises :class:`InputError` (``backup.unreadable`` or ``backup.checksum``) otherwise."""
    with open(path, "rb") as handle:
        head = handle.read(HEADER_SIZE)
        if len(head) < len(_FIXED) or not head.startswith(_MAGIC):
            raise unreadable(path, "not a dti backup archive (not a gzip file)")
        if not head[3] & _FCOMMENT:
            return False
        found = _SEAL.fullmatch(head[len(_FIXED):])
        if found is None or head != _header(found.group(1).decode("ascii")):
            raise damaged(path, "its header (the seal)")
        digest = hashlib.sha256()
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != found.group(1).decode("ascii"):
        raise damaged(path, "its content")
    return True


def unreadable(path: Path, message: str, member: str | None = None) -> InputError:
    where = f"{path.name}:{member}" if member else str(path)
    return InputError([Problem("backup.unreadable", message, file=where)])


def damaged(path: Path, part: str) -> InputError:
    return InputError([Problem("backup.checksum", f"{part} does not match the SHA-256 sealed into "
                               "the archive when it was written: the file was changed or damaged; "
                               "nothing was restored — use another copy of the backup",
                               file=str(path))])
