"""Evidence files (minh chứng): checked by content, stored outside the web root under their hash.

A file is accepted only when its first bytes say it is one of the kinds a ministry reviewer opens
(PDF, PNG, JPEG, Office Open XML, OpenDocument, plain text/CSV); the extension is never trusted and
executables are named as such.  The bytes are stored once under ``evidence_dir/ab/abcdef…`` (the
SHA-256); the database row keeps the original name (cleaned), type, size, who and when.  Files are
removed from an answer only while the assessment has never been submitted — after that they are
part of the record.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import unicodedata
import zipfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dti.errors import InputError, NotAllowed, NotFound, Problem
from dti.store import audit
from dti.store.access import authorize, find
from dti.store.accounts import Actor, now
from dti.store.models import Answer, Assessment, Evidence
from dti.workflow import Action

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
MAX_NAME = 150
EXECUTABLE_MAGIC = {b"MZ": "a Windows program", b"\x7fELF": "a Linux program",
                    b"#!": "a script", b"\xca\xfe\xba\xbe": "a macOS program",
                    b"\xcf\xfa\xed\xfe": "a macOS program"}


def max_bytes() -> int:
    return int(os.environ.get("DTI_EVIDENCE_MAX_BYTES", DEFAULT_MAX_BYTES))


def sniff(data: bytes) -> str | None:
    """The media type the content shows, or ``None`` when it is not an accepted kind."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    if _is_text(data):
        return "text/plain; charset=utf-8"
    return None


def _zip_kind(data: bytes) -> str | None:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, ValueError):
        return None
    if "[Content_Types].xml" in names:
        if any(n.startswith("word/") for n in names):
            return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        if any(n.startswith("xl/") for n in names):
            return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if any(n.startswith("ppt/") for n in names):
            return "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    if "mimetype" in names:
        return "application/vnd.oasis.opendocument"
    return None


def _is_text(data: bytes) -> bool:
    if not data or b"\x00" in data[:8192]:
        return False
    try:
        data[:65536].decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > 65530   # a multi-byte character cut at the sample's end
    return True


def clean_name(name: str) -> str:
    """The file name a user sees: no folders, no control characters, NFC, at most 150 characters."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").split("/")[-1]
    name = re.sub(r"[\x00-\x1f\x7f<>:\"|?*]", "", name).strip().lstrip(".")
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:MAX_NAME - len(ext) - 1] + "." + ext) if dot and len(ext) < 10 else name[:MAX_NAME]
    return name or "minh-chung"


def check_upload(filename: str, data: bytes) -> tuple[str, list[Problem]]:
    """(media type, problems) for an uploaded file; problems say what to do."""
    problems = []
    limit = max_bytes()
    shown = clean_name(filename)
    if len(data) > limit:
        problems.append(Problem("evidence.too_large", f"the file is {len(data) / 1048576:.1f} MB; "
                                f"the limit is {limit / 1048576:.0f} MB — compress it or split it",
                                file=shown))
    if not data:
        problems.append(Problem("evidence.empty", "the file is empty", file=shown))
    raw_name = unicodedata.normalize("NFC", filename or "")
    if ".." in raw_name.replace("\\", "/").split("/") or "/" in raw_name or "\\" in raw_name:
        problems.append(Problem("evidence.bad_name", "the file name contains folder parts "
                                "('/', '\\' or '..'); rename the file and upload it again",
                                file=shown))
    kind = None
    if data and not problems:
        for magic, what in EXECUTABLE_MAGIC.items():
            if data.startswith(magic):
                problems.append(Problem("evidence.executable", f"the file is {what}, whatever its "
                                        "name says; upload a document (PDF, image, Word, Excel)",
                                        file=shown))
                break
        else:
            kind = sniff(data)
            if kind is None:
                problems.append(Problem("evidence.unknown_type", "the content is not a PDF, PNG, "
                                        "JPEG, Word, Excel, PowerPoint, OpenDocument or text file "
                                        "(the extension is not trusted)", file=shown))
    return kind or "", problems


def _path(root: Path, digest: str) -> Path:
    return root / digest[:2] / digest


def store_bytes(root: Path, data: bytes) -> str:
    """Write the bytes under their SHA-256 (once), atomically; the digest."""
    digest = hashlib.sha256(data).hexdigest()
    target = _path(root, digest)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.part")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    return digest


def upload(session: Session, root: Path, actor: Actor, edition_code: str, province_code: str,
           code: str, filename: str, data: bytes) -> Evidence:
    edition, assessment = find(session, edition_code, province_code)
    authorize(session, actor, Action.EDIT, assessment)
    answer = _answer(session, assessment, code)
    kind, problems = check_upload(filename, data)
    if problems:
        raise InputError([Problem(p.code, p.message, file=p.file, indicator=code) for p in problems])
    digest = store_bytes(root, data)
    row = Evidence(answer_id=answer.id, sha256=digest, filename=clean_name(filename),
                   media_type=kind, size=len(data), uploaded_by=actor.id, uploaded_at=now())
    session.add(row)
    session.flush()
    audit.write(session, actor, "evidence.upload", edition=edition_code, province=province_code,
                indicator=code, after={"id": row.id, "file": row.filename, "sha256": digest,
                                       "size": row.size, "type": kind})
    return row


def _answer(session: Session, assessment: Assessment, code: str) -> Answer:
    answer = session.scalar(select(Answer).where(Answer.assessment_id == assessment.id,
                                                 Answer.indicator_code == code))
    if answer is None:
        raise NotFound(f"no sub-indicator {code!r} in this edition")
    return answer


def _evidence(session: Session, actor: Actor, edition_code: str, province_code: str,
              evidence_id: int, action: Action) -> tuple[Evidence, Answer]:
    _, assessment = find(session, edition_code, province_code)
    authorize(session, actor, action, assessment)
    if not 0 < evidence_id < 2**31:   # beyond any id, and beyond what the database can compare
        raise NotFound("no such evidence file in this assessment")
    row = session.get(Evidence, evidence_id)
    answer = session.get(Answer, row.answer_id) if row else None
    if row is None or answer is None or answer.assessment_id != assessment.id or row.removed_at:
        raise NotFound("no such evidence file in this assessment")
    return row, answer


def open_file(session: Session, root: Path, actor: Actor, edition_code: str, province_code: str,
              evidence_id: int) -> tuple[Evidence, bytes]:
    row, _ = _evidence(session, actor, edition_code, province_code, evidence_id, Action.VIEW)
    return row, _path(root, row.sha256).read_bytes()


def remove(session: Session, actor: Actor, edition_code: str, province_code: str,
           evidence_id: int) -> None:
    """Detach a file from an answer — only before the assessment is first submitted."""
    row, answer = _evidence(session, actor, edition_code, province_code, evidence_id, Action.EDIT)
    assessment = session.get(Assessment, answer.assessment_id)
    if assessment.submitted_at is not None:
        raise NotAllowed("evidence cannot be removed once the assessment has been submitted; "
                         "upload a newer file beside it instead")
    row.removed_at = now()
    audit.write(session, actor, "evidence.remove", edition=edition_code, province=province_code,
                indicator=answer.indicator_code, before={"id": row.id, "file": row.filename})
