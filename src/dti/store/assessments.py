"""Reading one province's assessment, and the persistence steps its changes are made of.

:func:`view` (the whole assessment, for the form and the appraisal screen) takes the
:class:`~dti.store.accounts.Actor` and asks :func:`~dti.store.access.authorize` first.
:func:`summary` is the narrow read a save answers with.  :func:`answer_row`,
:func:`compare_and_set` and :func:`snapshot` are the steps of a change; the changes themselves —
authorise, score, persist, audit — are :mod:`dti.services.assessments`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from dti.errors import NotFound, StaleEdit
from dti.scoring import ScoringCatalogue
from dti.store.access import authorize, find
from dti.store.accounts import Actor
from dti.store.models import Answer, Assessment, Comment, EditionRow, Evidence, User
from dti.workflow import Action


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
    answer: Any    # the answer's stored row (read-only; attributes as on Answer)
    evidence: list[Any] = field(default_factory=list)   # stored rows (attributes as on Evidence)
    comments: list[dict[str, Any]] = field(default_factory=list)
    attached: bool = False   # whether it has evidence (known also where the files were not read)


@dataclass
class AssessmentView:
    edition: EditionRow
    assessment: Assessment
    catalogue: ScoringCatalogue
    answers: dict[str, AnswerView]

    def summary(self) -> Summary:
        """Progress and self-assessed points, as a save reports them (:func:`summarise`)."""
        return summarise(self.catalogue, self.points("self"),
                         frozenset(code for code, v in self.answers.items() if v.attached))

    def progress(self) -> dict[str, int]:
        return self.summary().as_dict()["progress"]

    def points(self, which: str = "final") -> dict[str, float | None]:
        return {code: getattr(v.answer, f"{which}_points") for code, v in self.answers.items()}

    def main_values(self, which: str = "final") -> dict[str, float]:
        return self.catalogue.main_values(self.points(which))

    def total_points(self, which: str = "final") -> float:
        return round(sum(p or 0.0 for p in self.points(which).values()), 4)


# The reads of :func:`view`, built once: plain table statements with bound parameters, run on
# the session's connection.  Built per call through the ORM, composing each statement and
# finding it in the compiled cache took more of a form page's time than SQLite answering it.
_A, _E, _C, _U = (Answer.__table__, Evidence.__table__, Comment.__table__, User.__table__)
_MINE = _A.c.assessment_id == bindparam("assessment")
_SHOWN = _A.c.indicator_code.in_(bindparam("codes", expanding=True))
_ATTACHED = (select(_E.c.id).where(_E.c.answer_id == _A.c.id, _E.c.removed_at.is_(None))
             .exists().label("attached"))
# What a page that shows only some answers still needs of every other one: its points and review
# state (progress, totals, each main indicator's counts) and whether it has evidence.
_NARROW = select(_A.c.id, _A.c.indicator_code, _A.c.self_points, _A.c.appraised_points,
                 _A.c.final_points, _A.c.review_status, _ATTACHED).where(_MINE)


def _reads(which: Any) -> tuple[Any, Any, Any]:
    """The answers, their evidence (oldest first) and comments (with author) ``which`` selects."""
    return (select(_A).where(which),
            select(_E).join(_A, _A.c.id == _E.c.answer_id)
            .where(which, _E.c.removed_at.is_(None)).order_by(_E.c.id),
            select(_C.c.answer_id, _C.c.at, _C.c.body, _U.c.display_name)
            .join(_A, _A.c.id == _C.c.answer_id).outerjoin(_U, _U.c.id == _C.c.author_id)
            .where(which).order_by(_C.c.id))


_EVERY, _SOME = _reads(_MINE), _reads(and_(_MINE, _SHOWN))


def view(session: Session, actor: Actor, edition_code: str, province_code: str,
         pick: Callable[[AssessmentView], Iterable[str]] | None = None) -> AssessmentView:
    """The assessment with every answer, its evidence and comments.  ``pick``: given the view of
    every answer's points and review state (:data:`_NARROW`), the codes of the answers a page
    shows — only those are read whole, with their evidence and comments (a form page shows one
    main indicator of ~100 answers)."""
    edition, assessment = find(session, edition_code, province_code)
    authorize(session, actor, Action.VIEW, assessment)
    catalogue = catalogue_of(edition)
    # Read-only rows, not ORM objects: the form reads ~100 answers on every page, and tracking
    # them for changes no one makes was most of the page's database time.
    run, params = session.connection().execute, {"assessment": assessment.id}
    if pick is None:
        answers = {a.indicator_code: AnswerView(a.indicator_code, a)
                   for a in run(_EVERY[0], params)}
        _attach(run, answers, _EVERY, params)
        return AssessmentView(edition, assessment, catalogue, answers)
    answers = {a.indicator_code: AnswerView(a.indicator_code, a, attached=a.attached)
               for a in run(_NARROW, params)}
    shown = AssessmentView(edition, assessment, catalogue, answers)
    params["codes"] = sorted(set(pick(shown)))
    for a in run(_SOME[0], params):
        answers[a.indicator_code].answer = a
    _attach(run, answers, _SOME, params)
    return shown


def _attach(run: Callable, answers: dict[str, AnswerView], reads: tuple[Any, Any, Any],
            params: dict[str, Any]) -> None:
    """The evidence and comments of the answers ``reads`` select."""
    ids = {v.answer.id: v for v in answers.values()}
    for ev in run(reads[1], params):
        ids[ev.answer_id].evidence.append(ev)
        ids[ev.answer_id].attached = True
    for answer_id, at, body, author in run(reads[2], params):
        ids[answer_id].comments.append({"author": author if author is not None else "?",
                                        "at": at, "body": body})


_ROW = select(Answer).where(Answer.assessment_id == bindparam("assessment"),
                           Answer.indicator_code == bindparam("code"))


def answer_row(session: Session, assessment: Assessment, code: str) -> Answer:
    """The stored answer of one sub-indicator (every item of the catalogue has one)."""
    row = session.scalar(_ROW, {"assessment": assessment.id, "code": code})
    if row is None:
        raise NotFound(f"no answer row for {code!r} in this assessment")
    return row


def snapshot(answer: Answer) -> dict[str, Any]:
    """The answer's fields an audit line keeps before and after a change, and a stale edit shows."""
    return {"self_value": answer.self_value, "self_points": answer.self_points,
            "appraised_value": answer.appraised_value, "appraised_points": answer.appraised_points,
            "final_points": answer.final_points, "note": answer.note,
            "review_status": answer.review_status, "version": answer.version}


_JSON_COLUMNS = ("self_value", "appraised_value", "reviewed_value")


def compare_and_set(session: Session, answer: Answer, expected_version: int,
                    values: Mapping[str, Any]) -> None:
    """Write ``values`` only if the answer is still at ``expected_version`` (optimistic locking).

    On success ``answer`` carries what was written, as the database will read it back, without
    reading it again; on a stale version it is refreshed, and the error shows it."""
    if not 0 <= expected_version < 2**31:   # no answer has such a version (nor can the database say)
        raise StaleEdit("this page's version of the answer is not one the answer ever had; "
                        "reload the page and save again", current=snapshot(answer),
                        indicator=answer.indicator_code)
    written = {**values, "version": expected_version + 1}
    result = session.execute(update(Answer).where(Answer.id == answer.id,
                                                  Answer.version == expected_version)
                             .values(**written).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        session.refresh(answer)
        raise StaleEdit("someone saved this answer after you opened it; your change was not "
                        "saved — reload to see theirs, then save again",
                        current=snapshot(answer), indicator=answer.indicator_code)
    for key, value in written.items():
        if key in _JSON_COLUMNS and value is not None:
            value = json.loads(json.dumps(value))
        set_committed_value(answer, key, value)


@dataclass(frozen=True)
class Summary:
    """What the form shows around the answers, and what a save answers with: progress, the
    self-assessed total and each main indicator's points and answers given (the summary beside
    the form counts them per main indicator, and must follow a save without a reload)."""

    answered: int
    required: int
    evidence_needed: int
    evidence_attached: int
    total_points: float
    main_points: dict[str, float]
    main_answered: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"progress": {"answered": self.answered, "required": self.required,
                             "evidence_needed": self.evidence_needed,
                             "evidence_attached": self.evidence_attached},
                "total_points": self.total_points, "main_points": self.main_points,
                "main_answered": self.main_answered}


def summarise(catalogue: ScoringCatalogue, points: Mapping[str, float | None],
              evidenced: set[str] | frozenset[str]) -> Summary:
    """The summary from each answer's self-assessed points and the codes with evidence."""
    items = [i for i in catalogue.items if i.scored]
    needing = [i for i in items if i.evidence_required]
    return Summary(
        answered=sum(1 for i in items if points.get(i.code) is not None),
        required=len(items), evidence_needed=len(needing),
        evidence_attached=sum(1 for i in needing if i.code in evidenced),
        total_points=round(sum(p or 0.0 for p in points.values()), 4),
        main_points={main: round(sum(points.get(i.code) or 0.0 for i in group if i.scored), 4)
                     for main, group in catalogue.by_main().items()},
        main_answered={main: sum(1 for i in group if i.scored and points.get(i.code) is not None)
                       for main, group in catalogue.by_main().items()})


def summary(session: Session, catalogue: ScoringCatalogue, assessment_id: int) -> Summary:
    """:func:`summarise` from one narrow query (:data:`_NARROW`): each answer's points and
    whether it has evidence — no answer, evidence or comment is loaded as an object."""
    rows = session.connection().execute(_NARROW, {"assessment": assessment_id}).all()
    return summarise(catalogue, {r.indicator_code: r.self_points for r in rows},
                     frozenset(r.indicator_code for r in rows if r.attached))


_EXTRAS = (select(_E).where(_E.c.answer_id == bindparam("answer"), _E.c.removed_at.is_(None))
           .order_by(_E.c.id),
           select(func.count()).select_from(_C).where(_C.c.answer_id == bindparam("answer")))


def answer_extras(session: Session, answer_id: int) -> tuple[list[Any], int]:
    """One answer's evidence (oldest first, stored rows) and its number of comments."""
    run, params = session.connection().execute, {"answer": answer_id}
    return list(run(_EXTRAS[0], params)), run(_EXTRAS[1], params).scalar() or 0
