"""The ministry's side of an assessment: the review queue, the appraisal screen, and the audit
trail (per edition, per province, per answer, exportable as CSV).

Paths start with a fixed word (``/review``, ``/audit``): the province pages'
``/{edition}/{province}`` only takes a two-digit province code, so the two never meet.  Permissions are the store's:
``require_role`` for the queue, ``authorize`` inside ``view``/``appraise_answer``, the audit's own
scoping in ``audit.entries``.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from dti.messages import bilingual
from dti.store import audit, edition_rows
from dti.store import review as review_store
from dti.store.access import require_role
from dti.formatting import format_number
from dti.scoring import SubIndicator
from dti.store.assessments import AssessmentView, appraise_answer, view
from dti.units import load_unit_set
from dti.web.assessment.deps import FormDep, PostDep, StoreDep, UserDep, render, wants_json
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
    if changed:
        rows = [r for r in rows if r["changed"]]
    rows = _sorted(rows, sort)
    if wants_json(request):
        return JSONResponse(jsonable({"edition": edition, "counts": counts, "rows": rows}))
    return render(request, ctx, "app/queue.html", {
        "edition": row, "rows": rows, "counts": counts, "state": state, "changed": changed,
        "sort": sort, "sorts": SORTS, "states": [s.value for s in State],
        "illustrative": row.illustrative}, extra_text=TEXT)


def _sorted(rows: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    order = [s.value for s in State]
    keys = {"province": lambda r: r["province_code"], "state": lambda r: order.index(r["state"]),
            "changed": lambda r: -r["changed"], "returned": lambda r: -r["returned"],
            "answered": lambda r: -r["answered"], "updated": lambda r: -r["updated_at"].timestamp()}
    return sorted(rows, key=keys[sort])


@router.get("/review/{edition}/{province}")
def appraisal_page(request: Request, edition: str, province: str, ctx: UserDep, store: StoreDep):
    """Every answer with its evidence, comments and diff, and the reviewer's verdict forms."""
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
    return render(request, ctx, "app/appraise.html", {
        "edition": v.edition, "assessment": assessment, "unit": unit, "lines": lines,
        "mains": v.catalogue.mains, "totals": totals, "can_appraise": can_appraise,
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
        answer = appraise_answer(session, ctx.actor, edition, province, code, version, decision,
                                 raw=raw, reason=reason)
        result = {"code": code, "version": answer.version, "review_status": answer.review_status,
                  "appraised_points": answer.appraised_points,
                  "final_points": answer.final_points}
    if wants_json(request):
        return JSONResponse(result)
    return RedirectResponse(f"/app/review/{edition}/{province}#a-{code}", 303)


# -- audit trail ---------------------------------------------------------------------------------


def _audit_rows(store, ctx, edition: str, province: str | None, indicator: str | None,
                limit: int | None) -> tuple[Any, list[dict[str, Any]]]:
    with store.reading() as session:
        row = edition_rows.get(session, edition)
        rows = audit.entries(session, ctx.actor, edition, province or None, indicator or None,
                             limit=limit)
    return row, rows


@router.get("/audit/{edition}")
def audit_page(request: Request, edition: str, ctx: UserDep, store: StoreDep,
               province: str | None = None, indicator: str | None = None):
    """Who changed what, when, with the reason, newest first (the newest 500 lines)."""
    row, rows = _audit_rows(store, ctx, edition, province, indicator, AUDIT_LIMIT)
    if wants_json(request):
        return JSONResponse(jsonable({"edition": edition, "entries": rows}))
    return render(request, ctx, "app/audit.html", {
        "edition": row, "rows": rows, "province": province or "", "indicator": indicator or "",
        "limit": AUDIT_LIMIT, "change": audit_change, "illustrative": row.illustrative},
        extra_text=TEXT)


@router.get("/audit/{edition}/export.csv")
def audit_csv(edition: str, ctx: UserDep, store: StoreDep, province: str | None = None,
              indicator: str | None = None):
    """The same lines as the page, every one of them, as a CSV attachment."""
    _, rows = _audit_rows(store, ctx, edition, province, indicator, None)
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
    """Self-assessed, appraised and final points of each main indicator, and the total."""
    out = []
    for main, items in v.catalogue.by_main().items():
        m = next(x for x in v.catalogue.mains if x.code == main)
        answers = [v.answers[i.code].answer for i in items if i.scored]
        out.append({"code": main, "name_vi": m.name_vi, "name_en": m.name_en, "max": m.max_points,
                    **{w: round(sum(getattr(a, f"{w}_points") or 0.0 for a in answers), 4)
                       for w in ("self", "appraised", "final")}})
    out.append({"code": "", "name_vi": "Tổng", "name_en": "Total",
                "max": sum(r["max"] for r in out),
                **{w: round(sum(r[w] for r in out), 4) for w in ("self", "appraised", "final")}})
    return out


def audit_change(before: Any, after: Any) -> list[tuple[str, str, str]]:
    """What an audit line changed: the keys whose value differs, before → after."""
    def text(x: Any) -> str:
        return "—" if x is None else json.dumps(x, ensure_ascii=False, sort_keys=True) \
            if not isinstance(x, str) else x

    if isinstance(before, dict) or isinstance(after, dict):
        b, a = before or {}, after or {}
        keys = [k for k in {**b, **a} if b.get(k) != a.get(k) and k != "version"]
        return [(k, text(b.get(k)), text(a.get(k))) for k in keys]
    return [("", text(before), text(after))]
