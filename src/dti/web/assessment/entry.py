"""The province's assessment form: one page per edition and province, answers autosaved with
their points computed as the officer types, evidence files, comments and the state changes.

Every read and write is a :mod:`dti.store` call, which authorises it; :func:`dti.workflow.decide`
is used here only to show or hide controls — the store checks again on every post.  What the
page shows (and its JSON twin) is built by :mod:`dti.web.assessment.entry_view`.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.convertors import Convertor, register_url_convertor
from starlette.datastructures import FormData, UploadFile

from dti.errors import InputError, NotAllowed, NotFound, Problem
from dti.scoring import parse_answer
from dti.services import assessments as changes
from dti.store import access, assessments, evidence
from dti.store.evidence_types import MEDIA_TYPES
from dti.web.context import app_context
from dti.web.assessment.deps import FormDep, PostDep, StoreDep, UserDep, render, wants_json
from dti.web.limits import UPLOAD_FILES, upload_file_bytes
from dti.web.assessment.entry_view import (TEXT, answer_body, page_json, page_values,
                                          section_of, upload_note)
from dti.workflow import Action

router = APIRouter()


class ProvinceCode(Convertor):
    """A unit's code: a province's is two digits, a ministry's or government body's capital
    letters (BTC, NHNN, BVHTTDL), so ``/app/{edition}/queue`` or ``/app/admin/users`` (other
    routers' pages, in lower case) are never taken for an assessment page."""

    regex = "[0-9]{2}|[A-Z]{2,12}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return str(value)


register_url_convertor("province", ProvinceCode())


def _page_url(edition: str, province: str, code: str | None = None) -> str:
    """The form's address; with ``code``, the page of that sub-indicator's main indicator, at it."""
    url = f"/app/{quote(edition, safe='')}/{province}"
    return f"{url}?item={quote(code, safe='')}#a-{code}" if code else url


def _back(form: FormData, edition: str, province: str, code: str | None = None) -> RedirectResponse:
    """303 to the form's ``next`` (a path inside the app only: never an open redirect) or the page."""
    target = form.get("next")
    if not (isinstance(target, str) and target.startswith("/app/") and "\\" not in target
            and not target.startswith("//")):
        target = _page_url(edition, province, code)
    return RedirectResponse(target, 303)


def _version(form: FormData, name: str, code: str | None, required: bool) -> int | None:
    raw = form.get(name)
    if (raw is None or raw == "") and not required:
        return None
    try:
        version = int(str(raw))
        if not 0 <= version < 2**31:
            raise ValueError(raw)
        return version
    except ValueError:
        raise InputError([Problem("entry.bad_version", "the page did not say which version it "
                                  "showed; reload the page and try again", indicator=code,
                                  column=name, value=raw)]) from None


# -- the page ------------------------------------------------------------------------------------


@router.get("/{edition}/{province:province}")
def assessment_page(request: Request, edition: str, province: str, ctx: UserDep, store: StoreDep,
                    section: str | None = None, item: str | None = None):
    """One main indicator's answers (``?section=``, or the one holding ``?item=``) under the
    summary of every main indicator; the JSON twin holds the whole assessment."""
    quota = quota_bytes(request)
    base = _page_url(edition, province)
    whole = wants_json(request)     # the twin holds every answer; the page, one main indicator's

    def shown(partial: assessments.AssessmentView) -> list[str]:
        main = section_of(partial, section, item)
        return [i.code for i in partial.catalogue.by_main()[main]]

    with store.reading() as session:
        view = assessments.view(session, ctx.actor, edition, province, None if whole else shown)
        used = evidence.usage(session, view.assessment)
        if whole:
            return JSONResponse({**page_json(view, base),
                                 "evidence_quota": {"used_bytes": used, "quota_bytes": quota}})
        values = page_values(session, view, ctx.actor, ctx.lang, base,
                             section=section_of(view, section, item))
    values["upload_note"] = upload_note(ctx.lang, used, quota, UPLOAD_FILES, upload_file_bytes(),
                                        evidence.max_bytes(), view.edition.unit_set)
    return render(request, ctx, "app/assessment.html", values, extra_text=TEXT)


# -- answers -------------------------------------------------------------------------------------


@router.post("/{edition}/{province:province}/answers/{code}")
def save_answer(request: Request, edition: str, province: str, code: str, ctx: PostDep,
                store: StoreDep, form: FormDep):
    raw = {key[2:]: value for key, value in form.items() if key.startswith("f_")
           and isinstance(value, str)}
    version = _version(form, "version", code, required=True)
    note = form.get("note")
    with store.transaction() as session:
        saved = changes.save_answer(session, ctx.actor, edition, province, code, raw, version,
                                    note if isinstance(note, str) else None)
    if not wants_json(request):
        return _back(form, edition, province, code)
    # After the commit (the write lock is held for the save only), a narrow read: this answer's
    # evidence and comment count, and each answer's points — not the whole assessment.
    answer, catalogue = saved.answer, saved.catalogue
    with store.reading() as session:
        files, comments = assessments.answer_extras(session, answer.id)
        summary = assessments.summary(session, catalogue, answer.assessment_id)
    return JSONResponse({**answer_body(catalogue.item(code), answer, files, comments,
                                       _page_url(edition, province)), **summary.as_dict()})


@router.post("/{edition}/{province:province}/answers/{code}/preview")
def preview_points(edition: str, province: str, code: str, ctx: PostDep, store: StoreDep,
                   form: FormDep):
    """Points for what is typed, without saving: only for those who may see the assessment."""
    raw = {key[2:]: value for key, value in form.items() if key.startswith("f_")
           and isinstance(value, str)}
    with store.reading() as session:
        found, assessment = access.find(session, edition, province)
        access.authorize(session, ctx.actor, Action.VIEW, assessment)
        item = assessments.catalogue_of(found).item(code)
    if item is None:
        raise NotFound(f"no sub-indicator {code!r} in this edition's catalogue")
    answer, problems = parse_answer(item, raw)
    points = item.points(answer) if item.scored and not problems else None
    return JSONResponse({"code": code, "points": points, "max_points": item.max_points,
                         "problems": [p.as_dict() for p in problems]})


@router.post("/{edition}/{province:province}/answers/{code}/comments")
def add_comment(request: Request, edition: str, province: str, code: str, ctx: PostDep,
                store: StoreDep, form: FormDep):
    body = form.get("body")
    with store.transaction() as session:
        changes.add_comment(session, ctx.actor, edition, province, code,
                                body if isinstance(body, str) else "")
        view = assessments.view(session, ctx.actor, edition, province)
        comments = view.answers[code].comments
        if request.headers.get("hx-request"):
            values = page_values(session, view, ctx.actor, ctx.lang,
                                 _page_url(edition, province), only=code)
            return render(request, ctx, "app/_entry_comments.html",
                          {**values, "row": values["rows"][0]}, extra_text=TEXT)
    if wants_json(request):
        return JSONResponse({"code": code, "comments": [
            {**c, "at": c["at"].isoformat()} for c in comments]})
    return _back(form, edition, province, code)


# -- evidence ------------------------------------------------------------------------------------


def _read_uploads(form: FormData, limit: int) -> list[tuple[str, bytes]]:
    """(name, bytes) of every file posted as ``files``; at most ``limit + 1`` bytes of each are
    read, enough for the size check to refuse it without holding a huge file in memory."""
    files = []
    for part in form.getlist("files"):
        if not isinstance(part, UploadFile):
            continue
        data = part.file.read(limit + 1)
        if part.filename or data:      # a file input left empty posts one nameless, empty part
            files.append((part.filename or "", data))
    return files


@router.post("/{edition}/{province:province}/answers/{code}/evidence")
def upload_evidence(request: Request, edition: str, province: str, code: str, ctx: PostDep,
                    store: StoreDep, form: FormDep):
    files = _read_uploads(form, evidence.max_bytes())
    with store.transaction() as session:
        rows = evidence.upload_all(session, store.evidence_dir, ctx.actor, edition, province,
                                   code, files, quota_bytes(request))
        stored = [{"id": r.id, "filename": r.filename, "size": r.size, "media_type": r.media_type}
                  for r in rows]
    if wants_json(request):
        return JSONResponse({"code": code, "uploaded": stored})
    return _back(form, edition, province, code)


def quota_bytes(request: Request) -> int:
    """The province's evidence quota per edition (``DTI_EVIDENCE_QUOTA_MB``), in bytes."""
    return app_context(request).settings.evidence_quota_mb * 1024 * 1024


def attachment_headers(filename: str) -> dict[str, str]:
    """``Content-Disposition: attachment`` with the NFC name in RFC 5987 form and an ASCII
    fallback, and ``nosniff`` so a browser never runs what it is given as a document."""
    name = unicodedata.normalize("NFC", filename)
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    fallback = "".join(c for c in fallback if c.isalnum() or c in " ._-()") or "minh-chung"
    return {"Content-Disposition": f"attachment; filename=\"{fallback}\"; "
                                   f"filename*=UTF-8''{quote(name, safe='')}",
            "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"}


@router.get("/{edition}/{province:province}/evidence/{evidence_id:int}")
def download_evidence(edition: str, province: str, evidence_id: int, ctx: UserDep,
                      store: StoreDep):
    with store.reading() as session:
        row, data = evidence.open_file(session, store.evidence_dir, ctx.actor, edition, province,
                                       evidence_id)
    # A row stored before the kinds were verified may carry any type: it is served as bytes.
    media_type = row.media_type if row.media_type in MEDIA_TYPES else "application/octet-stream"
    return Response(data, media_type=media_type, headers=attachment_headers(row.filename))


@router.post("/{edition}/{province:province}/evidence/{evidence_id:int}/remove")
def remove_evidence(request: Request, edition: str, province: str, evidence_id: int,
                    ctx: PostDep, store: StoreDep, form: FormDep):
    with store.transaction() as session:
        evidence.remove(session, ctx.actor, edition, province, evidence_id)
    if wants_json(request):
        return JSONResponse({"removed": evidence_id})
    return _back(form, edition, province)


# -- state changes -------------------------------------------------------------------------------


@router.post("/{edition}/{province:province}/transition")
def change_state(request: Request, edition: str, province: str, ctx: PostDep, store: StoreDep,
                 form: FormDep):
    """Every state change (submit, start_review, return, finish_appraisal, approve …)."""
    name = form.get("action")
    if name not in {a.value for a in Action}:
        raise NotAllowed(f"unknown action {name!r}")
    reason = form.get("reason")
    version = _version(form, "version", None, required=False)
    with store.transaction() as session:
        changed = changes.transition(session, ctx.actor, edition, province, str(name),
                                         reason if isinstance(reason, str) else None, version)
        body = {"state": changed.state, "version": changed.version}
    if wants_json(request):
        return JSONResponse(body)
    return _back(form, edition, province)
