"""Evidence files (minh chứng): checked by content, stored outside the web root under their hash.

A file is accepted only when its content is one of the kinds a ministry reviewer opens (PDF, PNG,
JPEG, Office Open XML, OpenDocument, plain text/CSV — :mod:`dti.store.evidence_types`), it parses
as that kind (a PDF must open), it carries no markup, script or macro, and its name's extension is
that kind's; executables are named as such.  Each province has a quota of evidence bytes per
edition (:func:`upload_all`).  The bytes are stored once under ``evidence_dir/ab/abcdef…`` (the
SHA-256); the database row keeps the original name (cleaned), type, size, who and when.  Files are
removed from an answer only while the assessment has never been submitted — after that they are
part of the record.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dti.clock import now
from dti.errors import InputError, NotAllowed, NotFound, Problem
from dti.store import audit, evidence_types
from dti.store.access import authorize, find
from dti.store.accounts import Actor
from dti.store.evidence_types import EXTENSIONS, KINDS
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
    """The media type the content shows, or ``None`` when it is not an accepted kind (the first
    bytes only; :func:`check_upload` also parses the file)."""
    kind = evidence_types.identify(data)
    return KINDS[kind].media_type if kind else None


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
    kind = ""
    if data and not problems:
        kind, problem = _check_content(shown, data)
        problems += [problem] if problem else []
    return kind, problems


def _check_content(shown: str, data: bytes) -> tuple[str, Problem | None]:
    """(media type, the first problem) of the content against the name's extension: a program, a
    kind not accepted, markup or macros, an extension that is not the content's, a file that
    does not parse."""
    for magic, what in EXECUTABLE_MAGIC.items():
        if data.startswith(magic):
            return "", Problem("evidence.executable", f"the file is {what}, whatever its name "
                               "says; upload a document (PDF, image, Word, Excel)", file=shown)
    kind = evidence_types.identify(data)
    if kind is None:
        return "", Problem("evidence.unknown_type", "the content is not a PDF, PNG, JPEG, Word, "
                           "Excel, PowerPoint, OpenDocument or text file (the extension is not "
                           "trusted)", file=shown)
    try:
        evidence_types.verify(kind, data)
    except evidence_types.Refused as refused:
        return "", replace(refused.problem, file=shown)
    extension = os.path.splitext(shown)[1].lower()
    if extension not in EXTENSIONS:
        named = f"names ending in {extension}" if extension else "names without an extension"
        return "", Problem("evidence.extension_not_allowed", f"files with {named} are not "
                           f"accepted; the accepted ones end in {', '.join(EXTENSIONS)}",
                           file=shown)
    if extension not in KINDS[kind].extensions:
        return "", Problem("evidence.extension_mismatch", f"the name ends in {extension} but the "
                           f"content is {KINDS[kind].label}; rename it to "
                           f"{KINDS[kind].extensions[0]} or upload the right file", file=shown)
    return KINDS[kind].media_type, None


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


def usage(session: Session, assessment: Assessment) -> int:
    """Evidence bytes uploaded to the assessment, removed files included (they stay on record)."""
    return session.scalar(select(func.coalesce(func.sum(Evidence.size), 0))
                          .join(Answer, Evidence.answer_id == Answer.id)
                          .where(Answer.assessment_id == assessment.id))


def _check_quota(session: Session, assessment: Assessment, incoming: int, quota: int,
                 code: str) -> None:
    """Refuse ``incoming`` more bytes past the province's evidence quota for the edition.  The
    assessment row is locked first (PostgreSQL; SQLite's writer lock does the same), so two
    uploads at once cannot both fit in the same space."""
    session.execute(select(Assessment.id).where(Assessment.id == assessment.id).with_for_update())
    used = usage(session, assessment)
    if used + incoming > quota:
        raise InputError([Problem(
            "evidence.quota_exceeded", f"this upload needs {_mb(incoming)}, but only "
            f"{_mb(max(quota - used, 0))} of the province's {_mb(quota)} for evidence in this "
            "edition is left; compress or split the files, or ask the administrator to raise "
            "DTI_EVIDENCE_QUOTA_MB", indicator=code, column="files", value=used)])


def _mb(size: int) -> str:
    return f"{size / 1048576:.1f} MB"


def upload_all(session: Session, root: Path, actor: Actor, edition_code: str, province_code: str,
               code: str, files: Sequence[tuple[str, bytes]],
               quota: int | None = None) -> list[Evidence]:
    """Attach ``files`` (name, bytes) to one answer, all or none: every problem of every file,
    then the province's ``quota`` (evidence bytes per edition), are checked before a byte is
    written."""
    _, assessment = find(session, edition_code, province_code)
    authorize(session, actor, Action.EDIT, assessment)
    answer = _answer(session, assessment, code)
    if not files:
        raise InputError([Problem("evidence.no_file", "choose at least one file to upload",
                                  indicator=code, column="files")])
    kinds, problems = [], []
    for name, data in files:
        kind, found = check_upload(name, data)
        kinds.append(kind)
        problems += [replace(p, indicator=code) for p in found]
    if problems:
        raise InputError(problems)
    if quota is not None:
        _check_quota(session, assessment, sum(len(data) for _, data in files), quota, code)
    return [_attach(session, root, actor, answer, (edition_code, province_code, code), name, data,
                    kind) for (name, data), kind in zip(files, kinds)]


def upload(session: Session, root: Path, actor: Actor, edition_code: str, province_code: str,
           code: str, filename: str, data: bytes, quota: int | None = None) -> Evidence:
    """Attach one file to an answer (see :func:`upload_all`)."""
    return upload_all(session, root, actor, edition_code, province_code, code,
                      [(filename, data)], quota)[0]


def _attach(session: Session, root: Path, actor: Actor, answer: Answer,
            where: tuple[str, str, str], filename: str, data: bytes, kind: str) -> Evidence:
    edition_code, province_code, code = where
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
