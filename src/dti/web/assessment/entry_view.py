"""What the assessment form shows, built from the store's :class:`AssessmentView`: the page's
values (sections, answer blocks, inputs, evidence, comments, the state changes on offer), its JSON
twin, and the form's own words (Vietnamese first).

Points shown on the page are the self-assessed ones the province typed (the appraised and final
ones beside them once the ministry has appraised), always with two decimals; numbers follow the
interface language (vi-VN writes 2,50).  Each answer says the state it is really in: a draft is
not "awaiting appraisal" until the assessment is submitted.  Which controls appear is decided
with :func:`dti.workflow.decide`, for display only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from dti.errors import NotFound
from dti.formatting import format_number
from dti.messages import bilingual
from dti.scoring import Field, SubIndicator
from dti.store.accounts import Actor
from dti.store.assessments import AssessmentView
from dti.store.models import Answer, Evidence, User
from dti.units import load_unit_set
from dti.web.assessment.words import local_time, points_text, unit_words
from dti.workflow import OPEN_STATES, Action, State, decide

STATE_ACTIONS = (Action.SUBMIT, Action.START_REVIEW, Action.RETURN, Action.FINISH_APPRAISAL,
                 Action.APPROVE)

TEXT = bilingual("app.entry")
SCRIPT_WORDS = ("saving", "saved", "conflict", "current_value", "reload", "invalid", "failed",
                "offline", "yes", "no")


def words(lang: str) -> dict[str, str]:
    return TEXT["en" if lang == "en" else "vi"]


def fmt_points(value: float | None, lang: str) -> str:
    """Points with two decimals: 10,00, 2,50 (vi) / 2.50 (en); '—' when none."""
    return points_text(value, lang)


def _typed_number(value: float, lang: str) -> str:
    """A number the province typed, as few decimals as it has: 3, 2,5 (vi) / 2.5 (en)."""
    text = format_number(value, lang, 4)
    return text.rstrip("0").rstrip("," if lang == "vi" else ".")


AWAITING = frozenset({State.SUBMITTED, State.IN_REVIEW})


def answer_state(review_status: str, assessment_state: str) -> str:
    """The state an answer is really in, for its label: returned and appraised answers say so; an
    answer not yet appraised is a draft while the assessment is with the province, awaits
    appraisal once it is submitted, and is "not yet appraised" after that."""
    if review_status == "returned":
        return "returned"
    if review_status == "accepted":
        return "appraised"
    if assessment_state in OPEN_STATES:   # still with the province
        return "draft"
    return "awaiting" if assessment_state in AWAITING else "not_appraised"


def _plain_number(value: float, lang: str) -> str:
    """A number to put back in an input: no thousands separator, so vi "1234,5" reads back."""
    text = str(int(value)) if float(value).is_integer() else repr(float(value))
    if "e" in text:
        text = f"{value:f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if lang == "vi" else text


def _field_label(field: Field, lang: str) -> str:
    return field.label_en if lang == "en" and field.label_en else field.label_vi


def _inputs(item: SubIndicator, stored: dict | None, lang: str) -> list[dict[str, Any]]:
    """One input per rule field, filled with the stored answer."""
    t, stored = words(lang), stored or {}
    out = []
    for field in item.rule.fields:
        value = stored.get(field.name)
        entry: dict[str, Any] = {"name": f"f_{field.name}", "kind": field.kind,
                                 "label": _field_label(field, lang), "value": ""}
        if field.kind == "number":
            entry["value"] = "" if value is None else _plain_number(value, lang)
        elif field.kind == "choice":
            entry["options"] = [{"value": o.key, "label": o.label, "selected": o.key == value}
                                for o in field.options]
        else:
            entry["options"] = [{"value": "có", "label": t["yes"], "selected": value is True},
                                {"value": "không", "label": t["no"], "selected": value is False}]
        out.append(entry)
    return out


def value_text(item: SubIndicator, value: dict | None, lang: str) -> str:
    """An answer in words, e.g. "Số phiên họp: 3; Lựa chọn: Phó Chủ tịch UBND tỉnh"."""
    if not value:
        return "—"
    t, parts = words(lang), []
    for field in item.rule.fields:
        v = value.get(field.name)
        if v is None:
            continue
        if field.kind == "number":
            shown = _typed_number(v, lang)
        elif field.kind == "choice":
            shown = next((o.label for o in field.options if o.key == v), str(v))
        else:
            shown = t["yes"] if v else t["no"]
        parts.append(f"{_field_label(field, lang)}: {shown}")
    return "; ".join(parts) or "—"


def upload_note(lang: str, used: int, quota: int, files: int, request: int, file: int,
                unit_set: str = "") -> str:
    """The limits shown beside every evidence upload: per upload, per file, and what is left of
    the unit's quota for the edition (a province's or a body's, said so)."""
    t = {**words(lang), **unit_words({"unit_set": unit_set}, lang)}
    size = {k: _size(v, lang) for k, v in (("used", used), ("quota", quota),
                                             ("left", max(quota - used, 0)),
                                             ("request", request), ("file", file))}
    return (t["upload_limits"].format(files=files, request=size["request"], file=size["file"])
            + " " + t["quota"].format(used=size["used"], quota=size["quota"], left=size["left"]))


def _when(at: datetime | None) -> str:
    return local_time(at)


def _size(size: int, lang: str) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{format_number(size / 1024, lang, 0)} KB"
    return f"{format_number(size / 1048576, lang, 1)} MB"


def points_summary(view: AssessmentView) -> dict[str, Any]:
    """What changes on the page after a save: progress, the total and each section's points."""
    return view.summary().as_dict()


def _evidence_json(rows: list[Evidence], base: str) -> list[dict[str, Any]]:
    return [{"id": e.id, "filename": e.filename, "size": e.size, "media_type": e.media_type,
             "sha256": e.sha256, "uploaded_at": e.uploaded_at.isoformat(),
             "url": f"{base}/evidence/{e.id}"} for e in rows]


def answer_json(view: AssessmentView, code: str, base: str = "") -> dict[str, Any]:
    entry = view.answers[code]
    return answer_body(view.catalogue.item(code), entry.answer, entry.evidence,
                       len(entry.comments), base)


def answer_body(item: SubIndicator | None, a: Answer, evidence: list[Evidence], comments: int,
                base: str = "") -> dict[str, Any]:
    """One answer as the page's JSON twin and a save's reply show it."""
    return {"code": a.indicator_code, "self_value": a.self_value, "self_points": a.self_points,
            "max_points": item.max_points if item else None,
            "appraised_value": a.appraised_value, "appraised_points": a.appraised_points,
            "final_points": a.final_points, "note": a.note, "version": a.version,
            "review_status": a.review_status, "return_reason": a.return_reason,
            "evidence": _evidence_json(evidence, base), "comments": comments}


def page_json(view: AssessmentView, base: str) -> dict[str, Any]:
    """The page's JSON twin; ``total_points`` and ``main_values`` are self-assessed."""
    a, summary = view.assessment, view.summary().as_dict()
    return {"edition": view.edition.code, "province": a.province_code, "state": a.state,
            "version": a.version, "return_reason": a.return_reason,
            "illustrative": view.edition.illustrative, "progress": summary["progress"],
            "total_points": summary["total_points"],
            "final_total_points": view.total_points("final"),
            "main_values": view.main_values("self"), "main_points": summary["main_points"],
            "answers": [answer_json(view, i.code, base) for i in view.catalogue.items]}


def _uploaders(session: Session, rows: list[Evidence]) -> dict[int, str]:
    names = {}
    for user_id in {e.uploaded_by for e in rows}:
        user = session.get(User, user_id)
        names[user_id] = (user.display_name or user.username) if user else "?"
    return names


def _row(view: AssessmentView, item: SubIndicator, lang: str, names: dict[int, str]) -> dict[str, Any]:
    entry = view.answers[item.code]
    a = entry.answer
    return {
        "item": item, "answer": a, "name": item.name_en if lang == "en" and item.name_en else item.name_vi,
        "state": answer_state(a.review_status, view.assessment.state),
        "inputs": _inputs(item, a.self_value, lang), "points": fmt_points(a.self_points, lang),
        "max": fmt_points(item.max_points, lang), "appraised": a.appraised_points is not None,
        "appraised_value": value_text(item, a.appraised_value, lang),
        "appraised_points": fmt_points(a.appraised_points, lang),
        "final_points": fmt_points(a.final_points, lang),
        "evidence": [{"id": e.id, "filename": e.filename, "size": _size(e.size, lang),
                      "by": names.get(e.uploaded_by, "?"), "at": _when(e.uploaded_at)}
                     for e in entry.evidence],
        "comments": [{**c, "at": _when(c["at"])} for c in entry.comments],
    }


def _actions(actor: Actor, state: str, own: bool) -> list[dict[str, Any]]:
    """State changes to offer as buttons (display only; the store decides on the post)."""
    offered = []
    for action in STATE_ACTIONS:
        decision = decide(action, actor.role, state, own)
        if decision:
            offered.append({"action": action.value, "needs_reason": decision.needs_reason,
                            "confirm": "confirm_submit" if action is Action.SUBMIT else "confirm_action"})
    return offered


def section_of(view: AssessmentView, section: str | None, item: str | None) -> str:
    """The main indicator a page shows: the one asked for (``?section=``), else the one holding
    the asked-for sub-indicator (``?item=``, where a save or comment without script returns to),
    else the first with an answer returned to the province, else the first."""
    mains = [m.code for m in view.catalogue.mains]
    if section:
        if section not in mains:
            raise NotFound(f"no main indicator {section!r} in this edition; it has "
                           f"{', '.join(mains)}")
        return section
    found = view.catalogue.item(item) if item else None
    if found is not None:
        return found.main_code
    returned = [i.main_code for i in view.catalogue.items
                if view.answers[i.code].answer.review_status == "returned"]
    return returned[0] if returned else mains[0]


def section_stats(view: AssessmentView) -> dict[str, dict[str, int]]:
    """Per main indicator: answered / to answer, evidence attached / required, answers returned."""
    stats = {}
    for main, items in view.catalogue.by_main().items():
        scored = [i for i in items if i.scored]
        needing = [i for i in scored if i.evidence_required]
        answers = view.answers
        stats[main] = {
            "answered": sum(1 for i in scored if answers[i.code].answer.self_points is not None),
            "required": len(scored),
            "evidence_attached": sum(1 for i in needing if answers[i.code].attached),
            "evidence_needed": len(needing),
            "returned": sum(1 for i in items if answers[i.code].answer.review_status == "returned")}
    return stats


def page_values(session: Session, view: AssessmentView, actor: Actor, lang: str, base: str,
                only: str | None = None, section: str | None = None) -> dict[str, Any]:
    """The template's values; ``section``: that main indicator's answers only (the form shows one
    main indicator per page); ``only``: just that sub-indicator's block (a partial update)."""
    edition, a = view.edition, view.assessment
    own = actor.province_code == a.province_code
    items = [i for i in view.catalogue.items
             if (only is None or i.code == only) and (section is None or i.main_code == section)]
    names = _uploaders(session, [e for i in items for e in view.answers[i.code].evidence])
    rows = [_row(view, i, lang, names) for i in items]
    by_code = {r["item"].code: r for r in rows}
    summary, stats, by_main = view.summary(), section_stats(view), view.catalogue.by_main()
    main_points = summary.main_points
    sections = [{"main": m, "name": m.name_en if lang == "en" and m.name_en else m.name_vi,
                 "max": fmt_points(m.max_points, lang),
                 "points": fmt_points(main_points.get(m.code), lang), "stats": stats[m.code],
                 "current": m.code == section,
                 "rows": [by_code[i.code] for i in by_main[m.code] if i.code in by_code]}
                for m in view.catalogue.mains]
    shown = [n for n, s in enumerate(sections) if s["current"]]
    unit = load_unit_set(edition.unit_set).get(a.province_code)
    t = words(lang)
    any_appraised = any(v.answer.appraised_points is not None for v in view.answers.values())
    return {
        "view": view, "edition": edition, "assessment": a, "state": a.state, "base": base,
        "edition_name": edition.name_en if lang == "en" and edition.name_en else edition.name_vi,
        "province_name": unit.name_en if lang == "en" and unit.name_en else unit.name_vi,
        "province_code": a.province_code, "illustrative": edition.illustrative,
        "catalogue_note": view.catalogue.note_en if lang == "en" else view.catalogue.note_vi,
        "progress": summary.as_dict()["progress"],
        "total_self": fmt_points(summary.total_points, lang),
        "total_final": fmt_points(view.total_points("final"), lang) if any_appraised else None,
        "sections": sections, "rows": rows,
        "previous": sections[shown[0] - 1] if shown and shown[0] > 0 else None,
        "next": sections[shown[0] + 1] if shown and shown[0] + 1 < len(sections) else None,
        "can_edit": bool(decide(Action.EDIT, actor.role, a.state, own)),
        "can_comment": bool(decide(Action.COMMENT, actor.role, a.state, own)),
        "can_remove": bool(decide(Action.EDIT, actor.role, a.state, own)) and a.submitted_at is None,
        "actions": _actions(actor, a.state, own),
        "script_words": {k: t[k] for k in SCRIPT_WORDS},
        "edition_url": base.rsplit("/", 1)[0],
    }
