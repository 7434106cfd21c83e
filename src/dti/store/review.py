"""The reviewer's queue: province × state × "changed since last review", with the diff."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from dti.store.access import scope_assessments
from dti.store.accounts import Actor
from dti.store.edition_rows import get
from dti.store.models import Answer, Assessment
from dti.units import load_unit_set


def queue(session: Session, actor: Actor, edition_code: str, state: str | None = None) -> list[dict[str, Any]]:
    """One row per assessment ``actor`` may see: state, answers changed since last reviewed,
    answers returned, answered count, last change."""
    edition = get(session, edition_code)
    changed = func.sum(case(((Answer.version > Answer.reviewed_version) & (Answer.reviewed_version > 0), 1),
                            else_=0))
    returned = func.sum(case((Answer.review_status == "returned", 1), else_=0))
    answered = func.sum(case((Answer.self_points.is_not(None), 1), else_=0))
    query = (select(Assessment.province_code, Assessment.state, Assessment.version,
                    Assessment.updated_at, Assessment.submitted_at, changed, returned, answered)
             .join(Answer, Answer.assessment_id == Assessment.id)
             .where(Assessment.edition_id == edition.id)
             .group_by(Assessment.id).order_by(Assessment.province_code))
    if state:
        query = query.where(Assessment.state == state)
    units = load_unit_set(edition.unit_set)
    rows = []
    for code, st, version, updated, submitted, n_changed, n_returned, n_answered in \
            session.execute(scope_assessments(actor, query)):
        unit = units.get(code)
        rows.append({"province_code": code, "name_vi": unit.name_vi, "name_en": unit.name_en,
                     "state": st, "version": version, "updated_at": updated,
                     "submitted_at": submitted, "changed": int(n_changed or 0),
                     "returned": int(n_returned or 0), "answered": int(n_answered or 0)})
    return rows


def diff(view) -> list[dict[str, Any]]:
    """Answers changed since the reviewer last looked: what they saw and what is there now."""
    out = []
    for item in view.catalogue.items:
        answer = view.answers[item.code].answer
        if answer.version > answer.reviewed_version and answer.reviewed_version > 0:
            out.append({"code": item.code, "name_vi": item.name_vi, "name_en": item.name_en,
                        "before": answer.reviewed_value, "after": answer.self_value,
                        "points": answer.self_points})
    return out
