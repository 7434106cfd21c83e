"""The demo's simulated assessment year: the steps each province's officials and the ministry's
reviewers take, on a calendar, played through the real services.

The demo reaches each province's state the way a real year does — its editor saves each answer,
its approver submits, a reviewer starts the review, returns answers with a reason or accepts and
adjusts them and finishes the appraisal, a second reviewer approves — so that its audit trail,
comments and returns read like a year's, and every rule of :mod:`dti.workflow` is applied to it.
:func:`plan` turns one province's drawn answers and final state into :class:`Step` values on a
calendar (seeded, no I/O); :func:`play` takes every province's steps in time order through
:mod:`dti.services.assessments`, with :data:`dti.clock.source` moved to each step's moment.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from dti import clock
from dti.scoring import ScoringCatalogue, SubIndicator
from dti.services.assessments import add_comment, appraise_answer, save_answer, transition
from dti.store.accounts import Actor
from dti.store.models import Answer, Assessment, EditionRow
from dti.workflow import Action, State

VIETNAM = timedelta(hours=7)   # officials keep Vietnam office hours; timestamps are stored in UTC
# Working days counted from the window's first day (about 53 in the 75 days before the demo is
# made): provinces submit in the fourth and fifth weeks, so the longest review path — a return,
# the province's answer, a second review and the approval — still ends before today.
SUBMIT_DAYS = (16, 25)
DRAFT_UNTIL = 46
RETURN_SHARE = 0.35     # share of the provinces past the review that had answers returned once
ADJUST_SHARE = 0.05     # share of the appraised answers the reviewer adjusts
SESSION = 30            # answers a reviewer appraises in one sitting

RETURN_REASONS = (
    "Minh chứng chưa khớp với số liệu kê khai; đề nghị đơn vị rà soát lại.",
    "Thiếu văn bản minh chứng có chữ ký và đóng dấu của cơ quan có thẩm quyền.",
    "Số liệu kê khai khác với báo cáo năm của đơn vị chuyên trách chuyển đổi số; đề nghị giải trình.",
    "Tử số và mẫu số chưa cùng kỳ báo cáo; đề nghị tính lại theo số liệu đến 31/12.",
)
SEND_BACK_REASONS = (
    "Đề nghị đơn vị hoàn thiện các chỉ số thành phần được trả lại và gửi lại hồ sơ.",
    "Một số chỉ số thành phần chưa có minh chứng phù hợp; đề nghị bổ sung và gửi lại.",
)
ADJUST_REASONS = (
    "Điều chỉnh theo minh chứng: số liệu được xác nhận thấp hơn số đơn vị kê khai.",
    "Điều chỉnh theo báo cáo của đơn vị chuyên trách chuyển đổi số gửi Bộ.",
)
CORRECTED_NOTE = "Đã rà soát lại số liệu và bổ sung minh chứng theo yêu cầu của thẩm định viên."
SOURCE_COMMENT = "Số liệu lấy từ báo cáo tổng kết năm của đơn vị chuyên trách chuyển đổi số."
UPDATED_COMMENT = "Đơn vị đã cập nhật số liệu theo góp ý; đề nghị thẩm định viên xem lại."
CHECKED_COMMENT = "Đã đối chiếu với báo cáo của đơn vị chuyên trách chuyển đổi số; số liệu khớp."
QUESTION_COMMENT = "Đề nghị đơn vị cho biết nguồn số liệu của chỉ tiêu này."


@dataclass(frozen=True)
class Step:
    """One action of one official at one moment: what the audit trail will show."""

    at: datetime                          # naive UTC, as every timestamp is stored
    province: str
    who: str                              # the user name of the official
    kind: str                             # save | appraise | comment | transition
    code: str | None = None               # the sub-indicator
    value: dict[str, Any] | None = None   # a saved answer, or a reviewer's adjusted one
    decision: str | None = None           # accept | adjust | return
    action: Action | None = None
    text: str | None = None               # a note, a reason or a comment's body


@dataclass(frozen=True)
class Cast:
    """Who acts on one province's assessment (user names)."""

    editor: str
    approver: str
    reviewer: str
    second_reviewer: str                  # approves what the reviewer appraised


@dataclass(frozen=True)
class Province:
    """One province's year as drawn: its final state, its answers in catalogue order, the quality
    its answers are drawn near (per main indicator), and its officials."""

    code: str
    state: State
    answers: dict[str, dict[str, Any]]
    quality: dict[str, float]
    cast: Cast


def answer_for(item: SubIndicator, quality: float, rng: np.random.Generator) -> dict[str, Any]:
    """A simulated answer whose points come near ``quality`` × max points."""
    quality = quality if np.isfinite(quality) else 0.5
    q = float(np.clip(quality + rng.normal(0, 0.12), 0, 1))
    out: dict[str, Any] = {}
    for f in item.rule.fields:
        if f.kind == "yesno":
            out[f.name] = bool(rng.random() < q)
        elif f.kind == "choice":
            out[f.name] = min(f.options, key=lambda o: abs(o.fraction - q)).key
        else:
            out[f.name] = None
    numbers = [f for f in item.rule.fields if f.kind == "number"]
    if item.rule.kind == "ratio" and len(numbers) == 2:
        total = int(rng.integers(20, 400))
        out[numbers[0].name], out[numbers[1].name] = int(round(q * total)), total
    elif item.rule.kind == "steps":
        out[numbers[0].name] = _steps_value(item, q)
    else:
        for f in numbers:
            out[f.name] = round(float(q * 100), 1)
    return out


def _steps_value(item: SubIndicator, q: float) -> float:
    """The smallest threshold whose points reach q × max (or 0)."""
    steps = sorted(getattr(item.rule, "steps", ()), key=lambda s: s.threshold)
    for step in steps:
        if step.points >= q * item.max_points:
            return step.threshold if step.strict is False else step.threshold + 1
    return steps[-1].threshold if steps else 0


# -- the calendar ---------------------------------------------------------------------------------

def working_day(first: datetime, n: int) -> datetime:
    """The ``n``-th working day (Monday to Friday) from ``first`` (day 0: ``first`` or the Monday
    after it)."""
    day, left = first, n
    while day.weekday() >= 5 or left > 0:
        if day.weekday() < 5:
            left -= 1
        day += timedelta(days=1)
    return day


class Calendar:
    """One province's moments through the year, in Vietnam office hours on working days; it only
    moves forward, so a province's steps keep their order when every province's are merged."""

    def __init__(self, first_day: datetime, rng: np.random.Generator) -> None:
        self.first_day, self.rng = first_day, rng
        self.day, self.local = 0, first_day

    def morning(self, day: int) -> None:
        """A morning (08:00–10:30) of working day ``day``; never earlier than the last moment."""
        start = working_day(self.first_day, day) + timedelta(minutes=480 + int(self.rng.integers(150)))
        self.day, self.local = max(day, self.day), max(start, self.local + timedelta(minutes=1))

    def later(self, low: int, high: int) -> None:
        """A morning ``low``..``high`` working days on (0: carry on the same day)."""
        self.morning(self.day + int(self.rng.integers(low, high + 1)))

    def minutes(self, low: int, high: int) -> datetime:
        """Move on ``low``..``high`` minutes (to the second); the new moment in UTC."""
        self.local += timedelta(seconds=int(self.rng.integers(low * 60, high * 60 + 1)))
        return self.local - VIETNAM


# -- planning one province's year -----------------------------------------------------------------

@dataclass
class _Year:
    """The steps of one province as they are planned, with what the reviewer has yet to accept."""

    province: Province
    catalogue: ScoringCatalogue
    calendar: Calendar
    rng: np.random.Generator
    steps: list[Step] = field(default_factory=list)
    current: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending: list[str] = field(default_factory=list)
    returned: list[str] = field(default_factory=list)

    def step(self, who: str, kind: str, low: int = 1, high: int = 4, **what: Any) -> None:
        self.steps.append(Step(self.calendar.minutes(low, high), self.province.code, who, kind,
                               **what))

    def fill(self, first: int, last: int) -> None:
        """The editor saves every drawn answer over a few sittings between two working days."""
        codes = list(self.province.answers)
        sittings = min(len(codes), int(self.rng.integers(3, 6)), last - first + 1)
        if not codes or sittings < 1:
            return
        days = sorted(int(d) for d in self.rng.choice(np.arange(first, last + 1), sittings,
                                                      replace=False))
        for day, chunk in zip(days, np.array_split(np.array(codes), sittings)):
            self.calendar.morning(day)
            for code in chunk:
                self.save(str(code), self.province.answers[str(code)])
            if self.rng.random() < 0.15:
                self.comment(self.province.cast.editor, str(chunk[-1]), SOURCE_COMMENT)
        self.pending = codes

    def save(self, code: str, value: dict[str, Any], note: str | None = None) -> None:
        self.current[code] = value
        self.step(self.province.cast.editor, "save", code=code, value=value, text=note)

    def comment(self, who: str, code: str, body: str) -> None:
        self.step(who, "comment", 2, 10, code=code, text=body)

    def move(self, who: str, action: Action, reason: str | None = None) -> None:
        self.step(who, "transition", 5, 60, action=action, text=reason)

    def appraise(self, share: float, returns: int = 0) -> None:
        """The reviewer goes through ``share`` of the answers not yet accepted, in catalogue
        order, returning ``returns`` of them with a reason and accepting or adjusting the rest."""
        reviewer = self.province.cast.reviewer
        todo = self.pending[:int(np.ceil(share * len(self.pending)))]
        scored = [c for c in todo if self.catalogue.item(c).scored]
        back = set(self.rng.choice(scored, min(returns, len(scored)), replace=False)) if returns else set()
        for n, code in enumerate(todo):
            if n and n % SESSION == 0:
                self.calendar.later(0, 1)
            if code in back:
                self.step(reviewer, "appraise", 2, 8, code=code, decision="return",
                          text=self._pick(RETURN_REASONS))
                if self.rng.random() < 0.5:
                    self.comment(reviewer, code, QUESTION_COMMENT)
                continue
            self._judge(reviewer, code)
        self.returned = [c for c in todo if c in back]
        self.pending = [c for c in self.pending if c not in todo or c in back]

    def _judge(self, reviewer: str, code: str) -> None:
        """Accept the answer, or — now and then — adjust it down to what the evidence supports."""
        item = self.catalogue.item(code)
        if item.scored and self.rng.random() < ADJUST_SHARE:
            lower = answer_for(item, self.province.quality.get(item.main_code, 0.5) - 0.3, self.rng)
            if (item.points(lower) or 0) < (item.points(self.current[code]) or 0):
                self.step(reviewer, "appraise", 2, 8, code=code, decision="adjust", value=lower,
                          text=self._pick(ADJUST_REASONS))
                return
        self.step(reviewer, "appraise", 1, 5, code=code, decision="accept")
        if self.rng.random() < 0.02:
            self.comment(reviewer, code, CHECKED_COMMENT)

    def send_back(self) -> None:
        self.move(self.province.cast.reviewer, Action.RETURN, self._pick(SEND_BACK_REASONS))

    def answer_return(self) -> None:
        """The editor corrects each returned answer a few days later; the approver resubmits."""
        self.calendar.later(2, 4)
        for code in self.returned:
            item = self.catalogue.item(code)
            corrected = answer_for(item, self.province.quality.get(item.main_code, 0.5) - 0.1, self.rng)
            self.save(code, corrected, CORRECTED_NOTE)
            if self.rng.random() < 0.5:
                self.comment(self.province.cast.editor, code, UPDATED_COMMENT)
        self.returned = []
        self.move(self.province.cast.approver, Action.SUBMIT)

    def _pick(self, texts: tuple[str, ...]) -> str:
        return texts[int(self.rng.integers(len(texts)))]


def plan(province: Province, catalogue: ScoringCatalogue, first_day: datetime,
         rng: np.random.Generator) -> list[Step]:
    """The steps that take ``province`` from an empty draft to its final state, on a calendar
    whose working day 0 is ``first_day`` (local midnight of the window's first day)."""
    year = _Year(province, catalogue, Calendar(first_day, rng), rng)
    state, cast = province.state, province.cast
    if state is State.DRAFT:
        year.fill(2, DRAFT_UNTIL)
        return year.steps
    submit = int(rng.integers(*SUBMIT_DAYS))
    year.fill(2, submit - 1)
    year.calendar.morning(submit)
    year.move(cast.approver, Action.SUBMIT)
    returned_once = state is State.RETURNED or rng.random() < RETURN_SHARE
    if state is State.SUBMITTED and not returned_once:
        return year.steps
    _review(year)
    if returned_once:
        year.appraise(float(rng.uniform(0.3, 0.9)), returns=int(rng.integers(1, 4)))
        year.send_back()
        if state is State.RETURNED:
            return year.steps
        year.answer_return()
        if state is State.SUBMITTED:
            return year.steps
        _review(year)
    final = state in (State.APPRAISED, State.APPROVED)
    year.appraise(1.0 if final else float(rng.uniform(0.2, 0.8)))
    if final:
        year.move(cast.reviewer, Action.FINISH_APPRAISAL)
    if state is State.APPROVED:
        year.calendar.later(1, 3)
        year.move(cast.second_reviewer, Action.APPROVE)
    return year.steps


def _review(year: _Year) -> None:
    year.calendar.later(1, 3)
    year.move(year.province.cast.reviewer, Action.START_REVIEW)


# -- playing the year ------------------------------------------------------------------------------

class Moment:
    """A stand-in for :data:`dti.clock.source` that reads the time set by the one who holds it."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@contextmanager
def moving_clock(start: datetime) -> Iterator[Moment]:
    """Every layer's clock at ``start`` until moved, and back as it was at the end, whatever
    happens (the clock is the process's: nothing else should run meanwhile)."""
    original = clock.source
    moment = Moment(start)
    clock.source = moment
    try:
        yield moment
    finally:
        clock.source = original


def play(session: Session, steps: dict[str, list[Step]], actors: dict[str, Actor],
         moment: Moment) -> None:
    """Take every step of every edition (edition code → its steps) in time order, each at its
    moment, through the services, which authorise, score and audit each; a unit's own steps keep
    their order.

    Without autoflush: each action touches its assessment's ``updated_at``, and flushing that
    before the next action's first query would cost an UPDATE per action; the transitions flush
    what they change, and the commit flushes the rest.  Nothing reads the assessments meanwhile."""
    versions = {code: _versions(session, code) for code in steps}
    timeline = sorted(((step, code) for code, own in steps.items() for step in own),
                      key=lambda pair: pair[0].at)
    with session.no_autoflush:
        for step, code in timeline:
            moment.at = step.at
            _take(session, code, step, actors[step.who], versions[code])


def _take(session: Session, edition_code: str, step: Step, actor: Actor,
          versions: dict[tuple[str, str | None], int]) -> None:
    key = (step.province, step.code)
    if step.kind == "save":
        versions[key] = save_answer(session, actor, edition_code, step.province, step.code,
                                    step.value, versions[key], note=step.text).answer.version
    elif step.kind == "appraise":
        versions[key] = appraise_answer(session, actor, edition_code, step.province, step.code,
                                        versions[key], step.decision, raw=step.value,
                                        reason=step.text).version
    elif step.kind == "comment":
        add_comment(session, actor, edition_code, step.province, step.code, step.text)
    else:
        transition(session, actor, edition_code, step.province, step.action, reason=step.text)


def _versions(session: Session, edition_code: str) -> dict[tuple[str, str | None], int]:
    """Each answer's version, by (province, sub-indicator): a save or appraisal names the
    version it changes, as the form does."""
    rows = session.execute(select(Assessment.province_code, Answer.indicator_code, Answer.version)
                           .join(Answer, Answer.assessment_id == Assessment.id)
                           .join(EditionRow, EditionRow.id == Assessment.edition_id)
                           .where(EditionRow.code == edition_code))
    return {(province, code): version for province, code, version in rows}
