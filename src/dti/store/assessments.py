"""Reading and changing one province's assessment: answers, appraisal, comments, state changes.

Every function takes the :class:`~dti.store.accounts.Actor` and asks
:func:`~dti.store.access.authorize` first; every change writes its audit line in the same
transaction.  Points are computed here from the answer by the edition's frozen scoring
catalogue — never taken from the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dti.clock import now
from dti.errors import InputError, NotAllowed, NotFound, Problem, StaleEdit
from dti.scoring import ScoringCatalogue, parse_answer
from dti.store import audit
from dti.store.access import authorize, find
from dti.store.accounts import Actor
from dti.store.models import Answer, Assessment, Comment, EditionRow, Evidence, User
from dti.workflow import Action, State


_CATALOGUES: dict[str, ScoringCatalogue] = {}


def catalogue_of(edition: EditionRow) -> ScoringCatalogue:
    """The edition's frozen catalogue, parsed once per process (keyed by its checksum; the
    catalogue column is loaded from the database only on a miss)."""
    found = _CATALOGUES.get(edition.catalogue_checksum)
    if found is None:
        found = _CATALOGUES[edition.catalogue_checksum] = ScoringCatalogue.from_dict(edition.catalogue)
    return found


@dataclass
class AnswerView:
    code: str
    answer: Answer
    evidence: list[Evidence] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class AssessmentView:
    edition: EditionRow
    assessment: Assessment
    catalogue: ScoringCatalogue
    answers: dict[str, AnswerView]

    def progress(self) -> dict[str, int]:
        items = [i for i in self.catalogue.items if i.scored]
        answered = sum(1 for i in items if self.answers[i.code].answer.self_points is not None)
        needing = [i for i in items if i.evidence_required]
        with_evidence = sum(1 for i in needing if self.answers[i.code].evidence)
        return {"answered": answered, "required": len(items),
                "evidence_needed": len(needing), "evidence_attached": with_evidence}

    def points(self, which: str = "final") -> dict[str, float | None]:
        return {code: getattr(v.answer, f"{which}_points") for code, v in self.answers.items()}

    def main_values(self, which: str = "final") -> dict[str, float]:
        return self.catalogue.main_values(self.points(which))

    def total_points(self, which: str = "final") -> float:
        return round(sum(p or 0.0 for p in self.points(which).values()), 4)


def view(session: Session, actor: Actor, edition_code: str, province_code: str) -> AssessmentView:
    edition, assessment = find(session, edition_code, province_code)
    authorize(session, actor, Action.VIEW, assessment)
    catalogue = catalogue_of(edition)
    answers = {a.indicator_code: AnswerView(a.indicator_code, a) for a in session.scalars(
        select(Answer).where(Answer.assessment_id == assessment.id))}
    ids = {v.answer.id: v for v in answers.values()}
    for ev in session.scalars(select(Evidence).where(Evidence.answer_id.in_(ids),
                                                     Evidence.removed_at.is_(None))
                              .order_by(Evidence.id)):
        ids[ev.answer_id].evidence.append(ev)
    comments = list(session.scalars(select(Comment).where(Comment.answer_id.in_(ids))
                                    .order_by(Comment.id)))
    authors = {c.author_id for c in comments}
    names = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(authors))).all()
                 ) if authors else {}
    for c in comments:
        ids[c.answer_id].comments.append({"author": names.get(c.author_id, "?"), "at": c.at,
                                          "body": c.body})
    return AssessmentView(edition, assessment, catalogue, answers)


def _answer(session: Session, assessment: Assessment, code: str, catalogue: ScoringCatalogue):
    item = next((i for i in catalogue.items if i.code == code), None)
    if item is None:
        raise NotFound(f"no sub-indicator {code!r} in this edition's catalogue")
    row = session.scalar(select(Answer).where(Answer.assessment_id == assessment.id,
                                              Answer.indicator_code == code))
    return item, row


def _snapshot(answer: Answer) -> dict[str, Any]:
    return {"self_value": answer.self_value, "self_points": answer.self_points,
            "appraised_value": answer.appraised_value, "appraised_points": answer.appraised_points,
            "final_points": answer.final_points, "note": answer.note,
            "review_status": answer.review_status, "version": answer.version}


def _compare_and_set(session: Session, answer: Answer, expected_version: int,
                     values: Mapping[str, Any]) -> None:
    """Write ``values`` only if the answer is still at ``expected_version`` (optimistic locking)."""
    if not 0 <= expected_version < 2**31:   # no answer has such a version (nor can the database say)
        raise StaleEdit("this page's version of the answer is not one the answer ever had; "
                        "reload the page and save again", current=_snapshot(answer),
                        indicator=answer.indicator_code)
    result = session.execute(update(Answer).where(Answer.id == answer.id,
                                                  Answer.version == expected_version)
                             .values(**values, version=expected_version + 1)
                             .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        session.refresh(answer)
        raise StaleEdit("someone saved this answer after you opened it; your change was not "
                        "saved — reload to see theirs, then save again",
                        current=_snapshot(answer), indicator=answer.indicator_code)
    session.refresh(answer)


def _check_fields(item, raw: Mapping[str, Any], required: bool) -> None:
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


def save_answer(session: Session, actor: Actor, edition_code: str, province_code: str, code: str,
                raw: Mapping[str, Any], expected_version: int, note: str | None = None) -> Answer:
    """The province's self-assessed answer; points computed from it; refused when stale."""
    edition, assessment = find(session, edition_code, province_code)
    authorize(session, actor, Action.EDIT, assessment)
    item, answer = _answer(session, assessment, code, catalogue_of(edition))
    _check_fields(item, raw, required=answer.self_value is not None)
    value, problems = parse_answer(item, raw)
    if problems:
        raise InputError(problems)
    if note is not None:
        _check_length(note, code, "note")
    points = item.rule.points(value, item.max_points) if item.scored else None
    before = _snapshot(answer)
    final = answer.appraised_points if answer.appraised_points is not None else points
    _compare_and_set(session, answer, expected_version, {
        "self_value": value, "self_points": points, "final_points": final,
        "note": answer.note if note is None else note,
        "review_status": "pending" if answer.review_status == "returned" else answer.review_status,
        "updated_by": actor.id, "updated_at": now()})
    _touch(assessment)
    audit.write(session, actor, "answer.save", edition=edition_code, province=province_code,
                indicator=code, before=before, after=_snapshot(answer))
    return answer


def appraise_answer(session: Session, actor: Actor, edition_code: str, province_code: str,
                    code: str, expected_version: int, decision: str,
                    raw: Mapping[str, Any] | None = None, reason: str | None = None) -> Answer:
    """The reviewer's verdict on one answer: ``accept`` it, ``adjust`` it (an appraised answer,
    points computed from it; reason required) or ``return`` it to the province (reason required)."""
    edition, assessment = find(session, edition_code, province_code)
    authorize(session, actor, Action.APPRAISE, assessment)
    item, answer = _answer(session, assessment, code, catalogue_of(edition))
    reason = (reason or "").strip() or None
    if reason:
        _check_length(reason, code, "reason")
    if decision not in ("accept", "adjust", "return"):
        raise NotAllowed(f"unknown decision {decision!r}: accept, adjust or return")
    if decision in ("adjust", "return") and not reason:
        raise InputError([_reason_problem(code)])
    values: dict[str, Any] = {"reviewed_version": expected_version + 1,
                              "reviewed_value": answer.self_value}
    if decision == "accept":
        values |= {"review_status": "accepted", "appraised_value": answer.self_value,
                   "appraised_points": answer.self_points, "final_points": answer.self_points,
                   "return_reason": None}
    elif decision == "adjust":
        _check_fields(item, raw or {}, required=True)
        value, problems = parse_answer(item, raw or {})
        if problems:
            raise InputError(problems)
        points = item.rule.points(value, item.max_points) if item.scored else None
        values |= {"review_status": "accepted", "appraised_value": value,
                   "appraised_points": points, "final_points": points, "return_reason": reason}
    else:
        values |= {"review_status": "returned", "return_reason": reason}
    before = _snapshot(answer)
    _compare_and_set(session, answer, expected_version, values)
    _touch(assessment)
    audit.write(session, actor, f"answer.{decision}", edition=edition_code, province=province_code,
                indicator=code, before=before, after=_snapshot(answer), reason=reason)
    return answer


MAX_TEXT = 5000   # characters of a note, comment or reason: a paragraph, not a document


def _check_length(text: str, code: str | None, column: str) -> None:
    if len(text) > MAX_TEXT:
        raise InputError([Problem("workflow.text_too_long", f"{len(text):,} characters; at most "
                                  f"{MAX_TEXT:,} — attach longer texts as evidence files",
                                  indicator=code, column=column)])


def _reason_problem(code: str):
    return Problem("workflow.reason_required", "give a reason: the province sees it and it is "
                   "kept in the audit trail", indicator=code, column="reason")


def _touch(assessment: Assessment) -> None:
    assessment.updated_at = now()


def add_comment(session: Session, actor: Actor, edition_code: str, province_code: str, code: str,
                body: str) -> Comment:
    edition, assessment = find(session, edition_code, province_code)
    authorize(session, actor, Action.COMMENT, assessment)
    _, answer = _answer(session, assessment, code, catalogue_of(edition))
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
