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
from typing import Any, Mapping

from sqlalchemy import func, select, update
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
    evidence: list[Evidence] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class AssessmentView:
    edition: EditionRow
    assessment: Assessment
    catalogue: ScoringCatalogue
    answers: dict[str, AnswerView]

    def summary(self) -> Summary:
        """Progress and self-assessed points, as a save reports them (:func:`summarise`)."""
        return summarise(self.catalogue, self.points("self"),
                         frozenset(code for code, v in self.answers.items() if v.evidence))

    def progress(self) -> dict[str, int]:
        return self.summary().as_dict()["progress"]

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
    # Read-only rows, not ORM objects: the form reads ~100 answers on every page, and tracking
    # them for changes no one makes was most of the page's database time.
    answers = {a.indicator_code: AnswerView(a.indicator_code, a) for a in session.execute(
        select(Answer.__table__).where(Answer.assessment_id == assessment.id))}
    ids = {v.answer.id: v for v in answers.values()}
    mine = Answer.assessment_id == assessment.id      # joined, not a list of ~100 answer ids
    for ev in session.scalars(select(Evidence).join(Answer, Answer.id == Evidence.answer_id)
                              .where(mine, Evidence.removed_at.is_(None)).order_by(Evidence.id)):
        ids[ev.answer_id].evidence.append(ev)
    for answer_id, at, body, author in session.execute(
            select(Comment.answer_id, Comment.at, Comment.body, User.display_name)
            .join(Answer, Answer.id == Comment.answer_id)
            .outerjoin(User, User.id == Comment.author_id).where(mine).order_by(Comment.id)):
        ids[answer_id].comments.append({"author": author if author is not None else "?",
                                        "at": at, "body": body})
    return AssessmentView(edition, assessment, catalogue, answers)


def answer_row(session: Session, assessment: Assessment, code: str) -> Answer:
    """The stored answer of one sub-indicator (every item of the catalogue has one)."""
    row = session.scalar(select(Answer).where(Answer.assessment_id == assessment.id,
                                              Answer.indicator_code == code))
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
    """:func:`summarise` from one narrow query: each answer's code, points and whether it has
    evidence — no answer, evidence or comment is loaded as an object."""
    has_evidence = (select(Evidence.id).where(Evidence.answer_id == Answer.id,
                                              Evidence.removed_at.is_(None)).exists())
    rows = session.execute(select(Answer.indicator_code, Answer.self_points, has_evidence)
                           .where(Answer.assessment_id == assessment_id)).all()
    return summarise(catalogue, {code: p for code, p, _ in rows},
                     frozenset(code for code, _, ev in rows if ev))


def answer_extras(session: Session, answer_id: int) -> tuple[list[Evidence], int]:
    """One answer's evidence (oldest first) and its number of comments."""
    files = list(session.scalars(select(Evidence).where(Evidence.answer_id == answer_id,
                                                        Evidence.removed_at.is_(None))
                                 .order_by(Evidence.id)))
    comments = session.scalar(select(func.count()).select_from(Comment)
                              .where(Comment.answer_id == answer_id))
    return files, comments or 0
