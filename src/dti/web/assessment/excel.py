"""The Excel round-trip of a province's answers: download the workbook, upload it for a dry run,
then apply everything or nothing.

The uploaded bytes wait for the apply step under ``evidence_dir/imports/<sha256>`` (outside the
web root); the preview form posts only the hash back, and the apply step reads and checks the
file again before saving it in one transaction.
"""

from __future__ import annotations

import hashlib
import os
import time
import re
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, Response

from dti.formatting import format_number
from dti.errors import InputError, NotFound, Problem
from dti.io.assessment_xlsx import read_import
from dti.messages import bilingual
from dti.services import imports
from dti.store import edition_rows
from dti.store.db import Store
from dti.store.evidence import clean_name, max_bytes, sniff
from dti.web.assessment.deps import PostDep, StoreDep, UserDep, render, wants_json
from dti.web.assessment.messages import localise
from dti.web.assessment.words import edition_name

router = APIRouter()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_SHA = re.compile(r"[0-9a-f]{64}")

TEXT = bilingual("app.excel")


def _shown(item, value: dict | None, lang: str) -> str:
    """An answer as the officer reads it: field labels, option labels, vi-VN numbers."""
    if not value or item is None:
        return "—"
    parts = []
    for field in item.rule.fields:
        if field.name not in value:
            continue
        v = value[field.name]
        if field.kind == "yesno":
            shown = ("có" if v else "không") if lang == "vi" else ("yes" if v else "no")
        elif field.kind == "choice":
            shown = next((o.label for o in field.options if o.key == v), str(v))
        else:
            decimals = 0 if float(v).is_integer() else 4
            shown = format_number(float(v), lang, decimals)
        label = field.label_en if lang == "en" and field.label_en else field.label_vi
        parts.append(f"{label}: {shown}")
    return "; ".join(parts)


def _rows(changes, catalogue, lang: str) -> list[dict]:
    return [{**c.as_dict(), "before": _shown(catalogue.item(c.code), c.before_value, lang),
             "after": _shown(catalogue.item(c.code), c.after_value, lang)} for c in changes]


def _base(edition: str, province: str) -> str:
    return f"/app/{quote(edition)}/{quote(province)}"


@router.get("/{edition}/{province}/template.xlsx")
def download_template(edition: str, province: str, ctx: UserDep, store: StoreDep):
    with store.reading() as session:
        data = imports.workbook(session, ctx.actor, edition, province)
    name = f"dti-{edition}-{province}.xlsx"
    return Response(data, media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename=\"{clean_name(name)}\"; "
                               f"filename*=UTF-8''{quote(name)}"})


@router.get("/{edition}/{province}/import")
def import_page(request: Request, edition: str, province: str, ctx: UserDep, store: StoreDep):
    with store.reading() as session:
        target = imports.target(session, ctx.actor, edition, province)
        name = edition_name(edition_rows.get(session, edition), ctx.lang)
    return render(request, ctx, "app/import.html", {
        "base": _base(edition, province), "edition": edition, "edition_name": name,
        "province": province, "province_name": target.province_name,
        "unit_set": target.units.id, "illustrative": target.illustrative}, extra_text=TEXT)


def _content_problems(name: str, data: bytes) -> list[Problem]:
    """Size and kind, judged by the content (the extension is not trusted)."""
    limit = max_bytes()
    if len(data) > limit:
        return [Problem("import.too_large", f"the file is larger than the limit of "
                        f"{limit / 1048576:.0f} MB; remove attachments or images and try again",
                        file=name)]
    if not data:
        return [Problem("import.empty", "the file is empty", file=name)]
    if sniff(data) != XLSX:
        return [Problem("import.not_xlsx", "the file is not an Excel workbook (.xlsx), whatever "
                        "its name says; save it from Excel or LibreOffice as “Excel Workbook "
                        "(.xlsx)”", file=name)]
    return []


def _read(session, ctx, edition: str, province: str, name: str, data: bytes):
    target = imports.target(session, ctx.actor, edition, province)
    problems = _content_problems(name, data)
    rows: list = []
    if not problems:
        rows, problems = read_import(data, name, target.catalogue, edition, province, target.units)
    return target, rows, problems


KEEP_PREVIEWS = 2 * 24 * 3600   # seconds an unapplied, previewed workbook is kept


def _keep(store: Store, data: bytes) -> str:
    """Keep the upload for the apply step; its SHA-256.  Workbooks previewed but never applied
    are cleared after two days, when the next one arrives."""
    digest = hashlib.sha256(data).hexdigest()
    folder = Path(store.evidence_dir) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - KEEP_PREVIEWS
    for old in folder.iterdir():
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:   # another worker cleared it first
            pass
    target = folder / digest
    if not target.exists():
        part = folder / f"{digest}.{os.getpid()}.part"
        part.write_bytes(data)
        os.replace(part, target)
    return digest


@router.post("/{edition}/{province}/import")
def check_import(request: Request, edition: str, province: str, ctx: PostDep, store: StoreDep,
                 file: UploadFile = File(...)):
    """The dry run: every problem by sheet, row and column (422), or the preview of the changes."""
    data = file.file.read(max_bytes() + 1)
    name = clean_name(file.filename or "")
    values = {"base": _base(edition, province), "edition": edition, "province": province,
              "file": name}
    with store.reading() as session:
        target, rows, problems = _read(session, ctx, edition, province, name, data)
        values |= {"illustrative": target.illustrative, "province_name": target.province_name,
                   "unit_set": target.units.id}
        if problems:
            if wants_json(request):
                raise InputError(problems)
            shown = [localise(p.as_dict(), ctx.lang) for p in problems]   # Vietnamese when set
            return render(request, ctx, "app/import_preview.html", {**values, "problems": shown},
                          status_code=422, extra_text=TEXT)
        changes = imports.preview(session, ctx.actor, edition, province, rows)
    digest = _keep(store, data)
    if wants_json(request):
        return JSONResponse({"sha256": digest, "file": name,
                             "changes": [c.as_dict() for c in changes],
                             "stale": sum(c.stale for c in changes)})
    return render(request, ctx, "app/import_preview.html", {
        **values, "changes": _rows(changes, target.catalogue, ctx.lang), "sha256": digest,
        "stale": any(c.stale for c in changes)}, extra_text=TEXT)


@router.post("/{edition}/{province}/import/apply")
def apply_import(request: Request, edition: str, province: str, ctx: PostDep, store: StoreDep,
                 sha256: str = Form(...), filename: str = Form("")):
    """Re-read the kept file, check it again and save everything in one transaction."""
    path = Path(store.evidence_dir) / "imports" / sha256
    if not _SHA.fullmatch(sha256) or not path.is_file():
        raise NotFound("the uploaded file is no longer kept; upload it again")
    data = path.read_bytes()
    name = clean_name(filename) if filename else f"{sha256[:12]}.xlsx"
    with store.transaction() as session:
        _, rows, problems = _read(session, ctx, edition, province, name, data)
        if problems:
            raise InputError(problems)
        count = imports.apply(session, ctx.actor, edition, province, rows, sha256, name)
    path.unlink(missing_ok=True)
    if wants_json(request):
        return JSONResponse({"applied": count, "sha256": sha256})
    return RedirectResponse(f"{_base(edition, province)}?imported={count}", 303)
