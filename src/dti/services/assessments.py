"""Changing one province's assessment: saving an answer, appraising it, commenting, and moving
the assessment along the workflow.

Each change is one short transaction in the caller's session: authorise → score → compare-and-set
→ audit.  Points are computed here from the answer by the edition's frozen scoring catalogue,
never taken from the caller.  A save reads the one answer it changes, not the whole assessment;
what the page shows afterwards is :func:`dti.store.assessments.summary`, a narrow read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from dti.clock import now
from dti.errors import InputError, NotAllowed, NotFound, Problem, StaleEdit
from dti.scoring import ScoringCatalogue, SubIndicator, parse_answer
from dti.store import audit
from dti.store.access import authorize, find, require_role
from dti.store.accounts import Actor, reauthenticate
from dti.store.assessments import answer_row, catalogue_of, compare_and_set, snapshot
from dti.store.models import Answer, Assessment, Comment, EditionRow, LockException
from dti.workflow import Action, Role, State

MAX_TEXT = 5000   # characters of a note, comment or reason: a paragraph, not a document


@dataclass(frozen=True)
class Saved:
    """A saved answer as written, and the edition's catalogue it was scored by (what the reply to
    a save needs, without reading the edition again)."""

    answer: Answer
    catalogue: ScoringCatalogue


def save_answer(session: Session, actor: Actor, edition_code: str, province_code: str, code: str,
                raw: Mapping[str, Any], expected_version: int, note: str | None = None) -> Saved:
    """The province's self-assessed answer; points computed from it; refused when stale."""
    edition, assessment = find(session, edition_code, province_code)
    authorize(session, actor, Action.EDIT, assessment)
    item, answer = _item_and_answer(session, edition, assessment, code)
    _check_fields(item, raw, required=answer.self_value is not None)
    value, problems = parse_answer(item, raw)
    if problems:
        raise InputError(problems)
    if note is not None:
        _check_length(note, code, "note")
    points = item.rule.points(value, item.max_points) if item.scored else None
    before = snapshot(answer)
    final = answer.appraised_points if answer.appraised_points is not None else points
    compare_and_set(session, answer, expected_version, {
        "self_value": value, "self_points": points, "final_points": final,
        "note": answer.note if note is None else note,
        "review_status": "pending" if answer.review_status == "returned" else answer.review_status,
        "updated_by": actor.id, "updated_at": now()})
    _touch(session, assessment)
    audit.write(session, actor, "answer.save", edition=edition_code, province=province_code,
                indicator=code, before=before, after=snapshot(answer))
    return Saved(answer, catalogue_of(edition))


def appraise_answer(session: Session, actor: Actor, edition_code: str, province_code: str,
                    code: str, expected_version: int, decision: str,
                    raw: Mapping[str, Any] | None = None, reason: str | None = None) -> Answer:
    """The reviewer's verdict on one answer: ``accept`` it, ``adjust`` it (an appraised answer,
    points computed from it; reason required) or ``return`` it to the province (reason required)."""
    edition, assessment = find(session, edition_code, province_code)
    authorize(session, actor, Action.APPRAISE, assessment)
    item, answer = _item_and_answer(session, edition, assessment, code)
    reason = (reason or "").strip() or None
    if reason:
        _check_length(reason, code, "reason")
    if decision not in ("accept", "adjust", "return"):
        raise NotAllowed(f"unknown decision {decision!r}: accept, adjust or return")
    if decision in ("adjust", "return") and not reason:
        raise InputError([_reason_problem(code)])
    values = {"reviewed_version": expected_version + 1, "reviewed_value": answer.self_value,
              **_verdict(item, answer, decision, raw, reason)}
    before = snapshot(answer)
    compare_and_set(session, answer, expected_version, values)
    _touch(session, assessment)
    audit.write(session, actor, f"answer.{decision}", edition=edition_code, province=province_code,
                indicator=code, before=before, after=snapshot(answer), reason=reason)
    return answer


def _verdict(item: SubIndicator, answer: Answer, decision: str, raw: Mapping[str, Any] | None,
             reason: str | None) -> dict[str, Any]:
    """The columns a decision writes: accepted as answered, adjusted to the reviewer's answer, or
    returned to the province with the reason."""
    if decision == "accept":
        return {"review_status": "accepted", "appraised_value": answer.self_value,
                "appraised_points": answer.self_points, "final_points": answer.self_points,
                "return_reason": None}
    if decision == "adjust":
        _check_fields(item, raw or {}, required=True)
        value, problems = parse_answer(item, raw or {})
        if problems:
            raise InputError(problems)
        points = item.rule.points(value, item.max_points) if item.scored else None
        return {"review_status": "accepted", "appraised_value": value,
                "appraised_points": points, "final_points": points, "return_reason": reason}
    return {"review_status": "returned", "return_reason": reason}


def add_comment(session: Session, actor: Actor, edition_code: str, province_code: str, code: str,
                body: str) -> Comment:
    edition, assessment = find(session, edition_code, province_code)
    authorize(session, actor, Action.COMMENT, assessment)
    _, answer = _item_and_answer(session, edition, assessment, code)
    body = body.strip()
    if not body:
        raise InputError([Problem("workflow.empty_comment", "write something before sending the "
                                  "comment", indicator=code, column="body")])
    _check_length(body, code, "body")
    comment = Comment(answer_id=answer.id, author_id=actor.id, at=now(), body=body)
    session.add(comment)
    audit.write(session, actor, "answer.comment", edition=edition_code, province=province_code,
                indicator=code, after={"body": body})
    return comment


def transition(session: Session, actor: Actor, edition_code: str, province_code: str,
               action: Action | str, reason: str | None = None,
               expected_version: int | None = None) -> Assessment:
    """Move the assessment along the workflow; ``expected_version`` guards against a stale page."""
    action = Action(action)
    edition, assessment = find(session, edition_code, province_code)
    decision = authorize(session, actor, action, assessment)
    if decision.to is None:
        raise NotAllowed(f"{action.value} does not change the state")
    reason = (reason or "").strip() or None
    if reason:
        _check_length(reason, None, "reason")
    if decision.needs_reason and not reason:
        raise InputError([_reason_problem("")])
    if expected_version is not None and expected_version != assessment.version:
        raise StaleEdit("the assessment changed since you opened it; reload and try again",
                        current={"state": assessment.state, "version": assessment.version})
    if action is Action.RETURN and not _returned_answers(session, assessment):
        raise InputError([Problem("workflow.nothing_returned", "return at least one answer with "
                                  "its reason before sending the assessment back")])
    before = {"state": assessment.state, "version": assessment.version}
    _apply(assessment, action, decision.to, actor, reason)
    session.flush()
    audit.write(session, actor, f"assessment.{action.value}", edition=edition_code,
                province=province_code, before=before,
                after={"state": assessment.state, "version": assessment.version}, reason=reason)
    return assessment


def _item_and_answer(session: Session, edition: EditionRow, assessment: Assessment,
                     code: str) -> tuple[SubIndicator, Answer]:
    catalogue: ScoringCatalogue = catalogue_of(edition)
    item = catalogue.item(code)
    if item is None:
        raise NotFound(f"no sub-indicator {code!r} in this edition's catalogue")
    return item, answer_row(session, assessment, code)


def _check_fields(item: SubIndicator, raw: Mapping[str, Any], required: bool) -> None:
    """Refuse a posted answer that names a field the rule does not have, or — when ``required``
    (an answer is stored, or a reviewer adjusts) — none of its fields: read as blanks, either
    would quietly clear what is stored.  Clearing stays possible on purpose: post every field of
    the answer empty, as the form does when its inputs are emptied."""
    names = [f.name for f in item.rule.fields]
    problems = [Problem("answer.unknown_field", f"{key!r} is not a field of {item.code}; its "
                        f"fields are {', '.join(names)}", indicator=item.code, column=str(key))
                for key in raw if key not in names]
    if not problems and required and not any(name in raw for name in names):
        problems.append(Problem("answer.no_fields", f"the save named none of {item.code}'s fields "
                                f"({', '.join(names)}); nothing was changed — to clear the answer, "
                                "send each field empty", indicator=item.code))
    if problems:
        raise InputError(problems)


def _check_length(text: str, code: str | None, column: str) -> None:
    if len(text) > MAX_TEXT:
        raise InputError([Problem("workflow.text_too_long", f"{len(text):,} characters; at most "
                                  f"{MAX_TEXT:,} — attach longer texts as evidence files",
                                  indicator=code, column=column)])


def _reason_problem(code: str) -> Problem:
    return Problem("workflow.reason_required", "give a reason: the province sees it and it is "
                   "kept in the audit trail", indicator=code, column="reason")


_TOUCH = (update(Assessment.__table__).where(Assessment.__table__.c.id == bindparam("assessment"))
          .values(updated_at=bindparam("at")))


def _touch(session: Session, assessment: Assessment) -> None:
    """The assessment's last change, written at once by a statement built once — setting the
    attribute instead left the commit to work out what had changed."""
    at = now()
    session.connection().execute(_TOUCH, {"assessment": assessment.id, "at": at})
    set_committed_value(assessment, "updated_at", at)


def _returned_answers(session: Session, assessment: Assessment) -> list[Answer]:
    return list(session.scalars(select(Answer).where(Answer.assessment_id == assessment.id,
                                                     Answer.review_status == "returned")))


def _apply(assessment: Assessment, action: Action, to: State, actor: Actor, reason: str | None) -> None:
    t = now()
    assessment.state = to.value
    assessment.version += 1
    assessment.updated_at = t
    if action is Action.SUBMIT:
        assessment.submitted_by, assessment.submitted_at = actor.id, t
        assessment.return_reason = None
    elif action is Action.START_REVIEW:
        assessment.reviewed_by = actor.id
    elif action is Action.RETURN:
        assessment.return_reason = reason
    elif action is Action.APPROVE:
        assessment.approved_by, assessment.approved_at = actor.id, t


def grant_lock_exception(session: Session, actor: Actor, code: str, province: str, reason: str,
                         password: str) -> Assessment:
    """Re-open an approved assessment: admin only, password re-entered, reason kept."""
    require_role(actor, Role.ADMIN)
    reauthenticate(session, actor, password, f"lock exception {code}/{province}")
    assessment = transition(session, actor, code, province, Action.REOPEN, reason=reason)
    session.add(LockException(assessment_id=assessment.id, granted_by=actor.id, granted_at=now(),
                              reason=reason.strip()))
    return assessment
