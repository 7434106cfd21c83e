"""The ministry's side of an assessment: the review queue, the appraisal screen, and the audit
trail (per edition, per province, per answer, exportable as CSV).

Paths start with a fixed word (``/review``, ``/audit``): the province pages'
``/{edition}/{province}`` only takes a two-digit province code, so the two never meet.
Permissions are the store's and the services': ``require_role`` for the queue, ``authorize``
inside ``view`` and ``dti.services.assessments.appraise_answer``, the workflow's ``view_audit``
behind ``audit.entries``.
"""

from __future__ import annotations

import json
from urllib.parse import quote
from datetime import date, datetime
from functools import partial
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from dti.messages import bilingual
from dti.services import assessments as changes
from dti.store import audit, edition_rows
from dti.store import review as review_store
from dti.store.access import require_role
from dti.formatting import format_number
from dti.scoring import SubIndicator
from dti.store.assessments import AssessmentView, view
from dti.units import load_unit_set
from dti.web.assessment.deps import FormDep, PostDep, StoreDep, UserDep, render, wants_json
from dti.web.assessment.words import (AUDIT_ACTIONS, ROLE_NAMES, STATE_NAMES, local_time,
                                      points_text)
from dti.workflow import Role, State, decide

router = APIRouter()
AUDIT_LIMIT = 500
SORTS = ("province", "state", "changed", "returned", "answered", "updated")

TEXT = bilingual("app.review")


@router.get("/review/{edition}")
def queue_page(request: Request, edition: str, ctx: UserDep, store: StoreDep,
               state: str | None = None, changed: bool = False, sort: str = "province"):
    """Every province of the edition with its state and what changed since the last review."""
    state = state if state in {s.value for s in State} else None
    sort = sort if sort in SORTS else "province"
    with store.reading() as session:
        require_role(ctx.actor, Role.ADMIN, Role.REVIEWER)
        row = edition_rows.get(session, edition)
        rows = review_store.queue(session, ctx.actor, edition, state)
        counts = edition_rows.state_counts(session, edition)
        others = [e for e in edition_rows.all_editions(session) if e.code != edition]
    if changed:
        rows = [r for r in rows if r["changed"]]
    rows = _sorted(rows, sort)
    if wants_json(request):
        return JSONResponse(jsonable({"edition": edition, "counts": counts, "rows": rows}))
    return render(request, ctx, "app/queue.html", {
        "edition": row, "rows": rows, "counts": counts, "state": state, "changed": changed,
        "sort": sort, "sorts": SORTS, "states": [s.value for s in State], "others": others,
        "illustrative": row.illustrative}, extra_text=TEXT)


def _sorted(rows: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    order = [s.value for s in State]
    keys = {"province": lambda r: r["province_code"], "state": lambda r: order.index(r["state"]),
            "changed": lambda r: -r["changed"], "returned": lambda r: -r["returned"],
            "answered": lambda r: -r["answered"], "updated": lambda r: -r["updated_at"].timestamp()}
    return sorted(rows, key=keys[sort])


FILTERS = ("all", "returned", "changed", "missing_evidence")


def _matches(line: dict[str, Any], show: str) -> bool:
    """Whether an answer line belongs to the filter the reviewer chose."""
    if show == "returned":
        return line["review_status"] == "returned"
    if show == "changed":
        return line["diff"] is not None
    if show == "missing_evidence":
        return line["item"].evidence_required and not line["evidence"]
    return True


def _appraisal_section(v: AssessmentView, section: str | None, item: str | None) -> str:
    mains = [m.code for m in v.catalogue.mains]
    if section in mains:
        return section
    found = v.catalogue.item(item) if item else None
    return found.main_code if found is not None else mains[0]


@router.get("/review/{edition}/{province}")
def appraisal_page(request: Request, edition: str, province: str, ctx: UserDep, store: StoreDep,
                   section: str | None = None, item: str | None = None, show: str = "all"):
    """The answers of one main indicator (``?section=``), or of every main indicator that match a
    filter (``?show=returned|changed|missing_evidence``), with their evidence, comments and
    diff, and the reviewer's verdict forms; the JSON twin holds every answer."""
    show = show if show in FILTERS else "all"
    with store.reading() as session:
        require_role(ctx.actor, Role.ADMIN, Role.REVIEWER)
        v = view(session, ctx.actor, edition, province)
        diff = {d["code"]: d for d in review_store.diff(v)}
        lines = answer_lines(v, diff, ctx.lang)
        totals = main_totals(v)
    unit = load_unit_set(v.edition.unit_set).get(province)
    assessment = v.assessment
    if wants_json(request):
        return JSONResponse(jsonable({
            "edition": edition, "province_code": province, "state": assessment.state,
            "version": assessment.version, "totals": totals,
            "answers": [{k: line[k] for k in ("code", "review_status", "version", "self_value",
                                              "self_points", "appraised_value", "appraised_points",
                                              "final_points", "return_reason", "diff")}
                        for line in lines]}))
    can_appraise = bool(state_actions(ctx.actor, assessment.state, ("appraise",)))
    current = _appraisal_section(v, section, item) if show == "all" else None
    counts = {f: sum(1 for line in lines if _matches(line, f)) for f in FILTERS}
    shown = [line for line in lines if _matches(line, show)
             and (current is None or line["main_code"] == current)]
    here = f"/app/review/{quote(edition, safe='')}/{province}"
    return render(request, ctx, "app/appraise.html", {
        "edition": v.edition, "assessment": assessment, "unit": unit, "lines": shown,
        "mains": [m for m in v.catalogue.mains if any(x["main_code"] == m.code for x in shown)],
        "all_mains": v.catalogue.mains, "current": current, "show": show, "filters": FILTERS,
        "counts": counts, "here": here,
        "back": f"{here}?show={show}" if current is None else f"{here}?section={current}",
        "totals": totals, "can_appraise": can_appraise,
        "actions": state_actions(ctx.actor, assessment.state,
                                 ("start_review", "return", "finish_appraisal", "approve")),
        "can_reopen": bool(state_actions(ctx.actor, assessment.state, ("reopen",))),
        "field_inputs": field_inputs, "illustrative": v.edition.illustrative}, extra_text=TEXT)


@router.post("/review/{edition}/{province}/answers/{code}")
def appraise(request: Request, edition: str, province: str, code: str, ctx: PostDep,
             store: StoreDep, form: FormDep, decision: str = Form(...), version: int = Form(...),
             reason: str = Form("")):
    """Accept, adjust (appraised answer; reason required) or return (reason required) one answer.

    A plain ``def``: it runs in a worker thread, so waiting for the database's write lock never
    holds up the other requests."""
    raw = {k[2:]: v for k, v in form.items() if k.startswith("f_") and isinstance(v, str)}
    with store.transaction() as session:
        answer = changes.appraise_answer(session, ctx.actor, edition, province, code, version,
                                         decision, raw=raw, reason=reason)
        result = {"code": code, "version": answer.version, "review_status": answer.review_status,
                  "appraised_points": answer.appraised_points,
                  "final_points": answer.final_points}
    if wants_json(request):
        return JSONResponse(result)
    back = form.get("next")       # the page the reviewer was on (its filter or main indicator)
    here = f"/app/review/{quote(edition, safe='')}/{province}"
    if not (isinstance(back, str) and back.startswith(here + "?") and "\\" not in back):
        back = f"{here}?item={quote(code, safe='')}"
    return RedirectResponse(f"{back}#a-{code}", 303)


# -- audit trail ---------------------------------------------------------------------------------


def _audit_rows(store, ctx, edition: str, province: str | None, indicator: str | None,
                limit: int | None) -> tuple[Any, list[dict[str, Any]], dict[str, dict[str, str]]]:
    """The edition, its audit lines, and the recorded identifiers the page can name."""
    with store.reading() as session:
        row = edition_rows.get(session, edition)
        rows = audit.entries(session, ctx.actor, edition, province or None, indicator or None,
                             limit=limit)
        names = _record_names(row, ctx.lang)
    return row, rows, names


@router.get("/audit/{edition}")
def audit_page(request: Request, edition: str, ctx: UserDep, store: StoreDep,
               province: str | None = None, indicator: str | None = None):
    """Who changed what, when, with the reason, newest first (the newest 500 lines)."""
    row, rows, names = _audit_rows(store, ctx, edition, province, indicator, AUDIT_LIMIT)
    if wants_json(request):
        return JSONResponse(jsonable({"edition": edition, "entries": rows}))
    return render(request, ctx, "app/audit.html", {
        "edition": row, "rows": rows, "province": province or "", "indicator": indicator or "",
        "limit": AUDIT_LIMIT, "change": partial(audit_change, lang=ctx.lang, names=names),
        "action_names": AUDIT_ACTIONS[ctx.lang], "illustrative": row.illustrative},
        extra_text=TEXT)


@router.get("/audit/{edition}/export.csv")
def audit_csv(edition: str, ctx: UserDep, store: StoreDep, province: str | None = None,
              indicator: str | None = None):
    """The same lines as the page, every one of them, as a CSV attachment."""
    _, rows, _ = _audit_rows(store, ctx, edition, province, indicator, None)
    name = "-".join(p for p in ("audit", edition, province, indicator) if p)
    return Response(audit.to_csv(rows).encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{_safe(name)}.csv"'})


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


# -- presenting answers (shared with the admin pages) --------------------------------------------


def jsonable(value: Any) -> Any:
    """Dates as ISO text, recursively: the JSON twins of the pages."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def state_actions(actor, state: str, names: tuple[str, ...]) -> list[str]:
    """Which of ``names`` the workflow table lets this role take now — for showing buttons only;
    the store decides again (province, separation of duties) when the form is posted."""
    return [n for n in names if decide(n, actor.role, state, False)]


def _plain(number: float, lang: str) -> str:
    """A number as a person would type it back: no thousands separator, no trailing zeros."""
    text = f"{number:.6f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if lang == "vi" else text


def describe(item: SubIndicator, value: dict[str, Any] | None, lang: str) -> str | None:
    """An answer in words: each field's label and value (an option's label, có/không)."""
    if value is None:
        return None
    parts = []
    for f in item.rule.fields:
        if f.name not in value:
            continue
        v = value[f.name]
        if f.kind == "choice":
            shown = next((o.label for o in f.options if o.key == v), str(v))
        elif f.kind == "yesno":
            shown = ("có" if v else "không") if lang == "vi" else ("yes" if v else "no")
        else:
            shown = format_number(v, lang, 0 if float(v).is_integer() else 2)
        label = f.label_en if lang == "en" and f.label_en else f.label_vi
        parts.append(f"{label}: {shown}" if len(item.rule.fields) > 1 or label else shown)
    return "; ".join(parts) or "—"


def field_inputs(item: SubIndicator, value: dict[str, Any] | None, lang: str) -> list[dict[str, Any]]:
    """The adjust form's inputs, one per field of the rule, filled with ``value``."""
    value = value or {}
    out = []
    for f in item.rule.fields:
        v = value.get(f.name)
        if f.kind == "choice":
            options, shown = [(o.key, o.label) for o in f.options], v or ""
        elif f.kind == "yesno":
            options = [("có", "có" if lang == "vi" else "yes"), ("không", "không" if lang == "vi" else "no")]
            shown = "" if v is None else ("có" if v else "không")
        else:
            options, shown = [], "" if v is None else _plain(float(v), lang)
        out.append({"name": f.name, "kind": f.kind, "options": options, "value": shown,
                    "label": (f.label_en if lang == "en" and f.label_en else f.label_vi) or f.name})
    return out


def answer_lines(v: AssessmentView, diff: dict[str, dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    lines = []
    for item in v.catalogue.items:
        av = v.answers[item.code]
        a = av.answer
        change = diff.get(item.code)
        lines.append({
            "code": item.code, "item": item, "main_code": item.main_code,
            "name": item.name_en if lang == "en" and item.name_en else item.name_vi,
            "self_value": a.self_value, "self_points": a.self_points,
            "appraised_value": a.appraised_value, "appraised_points": a.appraised_points,
            "final_points": a.final_points, "review_status": a.review_status,
            "return_reason": a.return_reason, "version": a.version, "note": a.note,
            "self_text": describe(item, a.self_value, lang),
            "appraised_text": describe(item, a.appraised_value, lang),
            "evidence": [{"id": e.id, "filename": e.filename, "size": e.size} for e in av.evidence],
            "comments": av.comments,
            "diff": None if change is None else {"before": describe(item, change["before"], lang),
                                                 "after": describe(item, change["after"], lang)},
            "inputs": field_inputs(item, a.appraised_value or a.self_value, lang)})
    return lines


def main_totals(v: AssessmentView) -> list[dict[str, Any]]:
    """Self-assessed, appraised and final points of each main indicator, and the total.

    ``appraised_any`` says whether any of its answers has been appraised: an appraised sum of 0
    before any appraisal is no appraisal, and the page says "not yet appraised" instead."""
    out = []
    for main, items in v.catalogue.by_main().items():
        m = next(x for x in v.catalogue.mains if x.code == main)
        answers = [v.answers[i.code].answer for i in items if i.scored]
        out.append({"code": main, "name_vi": m.name_vi, "name_en": m.name_en, "max": m.max_points,
                    **{w: round(sum(getattr(a, f"{w}_points") or 0.0 for a in answers), 4)
                       for w in ("self", "appraised", "final")},
                    "appraised_any": any(a.appraised_points is not None for a in answers)})
    out.append({"code": "", "name_vi": "Tổng", "name_en": "Total",
                "max": sum(r["max"] for r in out),
                **{w: round(sum(r[w] for r in out), 4) for w in ("self", "appraised", "final")},
                "appraised_any": any(r["appraised_any"] for r in out)})
    return out


def _record_names(edition: Any, lang: str) -> dict[str, dict[str, str]]:
    """Recorded identifiers the audit page can name: the edition's catalogue (its id is what
    ``edition.create`` records)."""
    catalogue = edition.catalogue or {}
    name = (catalogue.get("name_en") if lang == "en" else None) or catalogue.get("name_vi")
    return {"catalogue": {catalogue.get("id"): name}} if name else {}


def audit_change(before: Any, after: Any, lang: str = "vi",
                 names: dict[str, dict[str, str]] | None = None) -> list[tuple[str, str, str]]:
    """What an audit line changed: the keys whose value differs, before → after, each value as
    the rest of the app writes it (:func:`audit_value`; ``names``: more identifiers by key)."""
    names = names or {}
    if isinstance(before, dict) or isinstance(after, dict):
        b, a = before or {}, after or {}
        keys = [k for k in {**b, **a} if b.get(k) != a.get(k) and k != "version"]
        return [(k, audit_value(k, b.get(k), lang, names), audit_value(k, a.get(k), lang, names))
                for k in keys]
    return [("", audit_value("", before, lang, names), audit_value("", after, lang, names))]


def audit_value(key: str, value: Any, lang: str,
                names: dict[str, dict[str, str]] | None = None) -> str:
    """One recorded value in the page's words: a state, an answer's review status, a role or a
    named identifier by its name, points with two decimals, a stored UTC time in Vietnam time;
    anything else as recorded (JSON for a structure)."""
    if value is None:
        return "—"
    known = {"state": STATE_NAMES[lang], "role": ROLE_NAMES[lang], **(names or {})}.get(key)
    if known is not None and isinstance(value, str):
        return known.get(value, value)
    if key == "review_status" and isinstance(value, str):
        return TEXT[lang].get(f"status_{value}", value)
    if key.endswith("_points") and isinstance(value, (int, float)):
        return points_text(value, lang)
    if key.endswith(("_at", "_until")) and isinstance(value, str):
        try:
            return local_time(datetime.fromisoformat(value))
        except ValueError:
            return value
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
