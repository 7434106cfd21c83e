"""The demo made through the workflow (issue #14): every simulated province reaches its state
through the real actions — saves, submission, review, returns with a reason, appraisal, approval —
so the audit trail holds every transition and save, every returned answer has its reason, the
chain verifies, the clock is given back, and the same seed makes the same demo.

One seeded demo (SQLite) is shared by the read-only tests of this module: seeding plays ~9,500
actions through the services."""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from assessment_support import fresh_store
from sqlalchemy import func, select

from dti import clock
from dti.services import demo
from dti.store.audit_chain import verify_chain
from dti.store.models import Answer, Assessment, AuditEntry, Comment, EditionRow, User
from dti.workflow import Action, Role, State, decide

# The shortest path to each state; a province may have taken a longer one (a return and its answer).
SHORTEST = {State.DRAFT: [], State.SUBMITTED: ["submit"],
            State.IN_REVIEW: ["submit", "start_review"],
            State.RETURNED: ["submit", "start_review", "return"],
            State.APPRAISED: ["submit", "start_review", "finish_appraisal"],
            State.APPROVED: ["submit", "start_review", "finish_appraisal", "approve"]}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    store = fresh_store("sqlite", tmp_path_factory.mktemp("demo"))
    source = clock.source
    demo.seed(store)
    assert clock.source is source            # the one clock is given back as it was
    yield store
    store.close()


def _read(store, query):
    with store.reading() as session:
        return session.execute(query).all()


def _lines(store, prefix: str):
    return _read(store, select(AuditEntry).where(AuditEntry.action.like(prefix + "%"))
                 .order_by(AuditEntry.id))


def _users(store) -> dict[int, User]:
    with store.reading() as session:
        return {u.id: u for u in session.scalars(select(User))}


def _subsequence(short: list[str], long: list[str]) -> bool:
    rest = iter(long)
    return all(step in rest for step in short)


def test_every_transition_of_every_province_is_in_the_audit_trail(seeded):
    """Replayed from draft through the workflow's table, each province's assessment.* lines are
    each allowed to whoever took them, follow on from each other and end in the stored state."""
    users = _users(seeded)
    assessments = {a.province_code: a for (a,) in _read(seeded, select(Assessment))}
    by_province = defaultdict(list)
    for (line,) in _lines(seeded, "assessment."):
        by_province[line.province_code].append(line)
    for code, assessment in assessments.items():
        state, actions = State.DRAFT, []
        for line in by_province[code]:
            action, who = Action(line.action.removeprefix("assessment.")), users[line.user_id]
            decision = decide(action, who.role, state, own=who.province_code == code)
            assert decision, (code, line.action, state)
            assert (line.before["state"], line.after["state"]) == (state, decision.to)
            assert line.reason or not decision.needs_reason
            state = decision.to
            actions.append(action.value)
        assert state == assessment.state, code
        assert len(actions) == assessment.version - 1           # each transition counts one
        assert _subsequence(SHORTEST[State(assessment.state)], actions), (code, actions)
    for plan, demo_units, units in ((demo.STATE_PLAN, demo.DEMO_PROVINCES, 63),
                                    (demo.MINISTRY_STATE_PLAN, demo.DEMO_BODIES, 17)):
        # province codes are digits, body codes letters: the two editions' units never collide
        reached = Counter(a.state for c, a in assessments.items()
                          if c.isdigit() == next(iter(demo_units)).isdigit())
        planned = Counter({s.value: n for s, n in plan})
        planned[State.DRAFT.value] += len(demo_units)
        planned[State.APPROVED.value] = units - sum(planned.values())
        assert reached == planned
    returned_then_answered = [c for c, a in assessments.items() if a.state != State.RETURNED
                              and "assessment.return" in {x.action for x in by_province[c]}]
    assert returned_then_answered                              # some provinces answered a return


def test_the_demo_provinces_stay_in_draft_with_their_editors_saves(seeded):
    users = {u.username: u for u in _users(seeded).values()}
    for code, slug in demo.DEMO_PROVINCES.items():
        (state,) = _read(seeded, select(Assessment.state).where(Assessment.province_code == code))[0]
        assert state == State.DRAFT
        savers = {line.user_id for (line,) in _lines(seeded, "answer.save")
                  if line.province_code == code}
        assert savers == {users[f"{slug}.nhaplieu"].id}


def test_every_answer_was_saved_by_its_province_and_reads_as_its_last_save(seeded):
    users = _users(seeded)
    last_save = {}
    for (line,) in _lines(seeded, "answer.save"):
        who = users[line.user_id]
        assert (who.role, who.province_code) == (Role.EDITOR, line.province_code)
        last_save[(line.province_code, line.indicator_code)] = line.after
    rows = _read(seeded, select(Assessment.province_code, Assessment.state, Answer.indicator_code,
                                Answer.self_value, Answer.self_points)
                 .join(Answer, Answer.assessment_id == Assessment.id))
    answered = {(p, c): (value, points) for p, _, c, value, points in rows if value is not None}
    assert set(answered) == set(last_save)
    for key, (value, points) in answered.items():
        assert (last_save[key]["self_value"], last_save[key]["self_points"]) == (value, points)
    per_province = Counter(p for p, _ in answered)
    items = Counter(p for p, *_ in rows)    # each unit's catalogue: provinces' and bodies' differ
    assert all(per_province[p] == items[p] for p, state, *_ in rows if state != State.DRAFT)
    assert all(0 < per_province[p] < items[p] for p, state, *_ in rows if state == State.DRAFT)


def test_every_returned_answer_and_assessment_has_its_reason_in_vietnamese(seeded):
    returns = _lines(seeded, "answer.return") + _lines(seeded, "assessment.return")
    adjusts = _lines(seeded, "answer.adjust")
    assert returns and adjusts
    for (line,) in returns + adjusts:
        assert line.reason and unicodedata.is_normalized("NFC", line.reason)
        assert not line.reason.isascii()                        # written with its diacritics
    still = _read(seeded, select(Assessment.province_code, Assessment.state,
                                 Assessment.return_reason, Answer.return_reason)
                  .join(Answer, Answer.assessment_id == Assessment.id)
                  .where(Answer.review_status == "returned"))
    assert still and all(state == State.RETURNED and why and reason for _, state, why, reason in still)
    returned = {p for p, *_ in _read(seeded, select(Assessment.province_code)
                                     .where(Assessment.state == State.RETURNED))}
    assert {p for p, *_ in still} == returned                  # each has its returned answers


def test_approved_provinces_were_appraised_answer_by_answer_and_approved_by_another_reviewer(seeded):
    users = _users(seeded)
    rows = _read(seeded, select(Assessment.province_code, Answer.review_status,
                                Answer.final_points, Answer.appraised_points)
                 .join(Answer, Answer.assessment_id == Assessment.id)
                 .where(Assessment.state == State.APPROVED))
    assert rows and all(status == "accepted" and final == appraised
                        for _, status, final, appraised in rows)
    finished = {line.province_code: line.user_id for (line,) in _lines(seeded, "assessment.finish")}
    for (line,) in _lines(seeded, "assessment.approve"):
        assert users[line.user_id].role == Role.REVIEWER
        assert line.user_id != finished[line.province_code]


def test_comments_come_from_editors_and_reviewers(seeded):
    authors = _read(seeded, select(User.role, Comment.body).join(Comment, Comment.author_id == User.id))
    assert {role for role, _ in authors} == {Role.EDITOR, Role.REVIEWER}
    assert all(unicodedata.is_normalized("NFC", body) for _, body in authors)
    assert len(_lines(seeded, "answer.comment")) == len(authors)


def test_the_simulated_officials_cannot_log_in(seeded):
    logins = {login.username for login in demo._logins()}
    users = _users(seeded).values()
    assert all(u.active for u in users if u.username in logins)
    officials = [u for u in users if u.username not in logins]
    assert officials and all(not u.active and "mô phỏng" in u.display_name for u in officials)
    assert {u.province_code for u in officials} == \
        {p for (p,) in _read(seeded, select(Assessment.province_code))} - set(demo.DEMO_UNITS)


def test_the_trail_reads_as_a_year_in_order_and_the_chain_verifies(seeded):
    with seeded.reading() as session:
        report = verify_chain(session)
        total = session.scalar(select(func.count()).select_from(AuditEntry))
        # both demo editions (provinces, ministries) share one window
        opens, closes = session.execute(select(EditionRow.opens_at, EditionRow.closes_at).distinct()).one()
    assert report.ok and report.lines == total
    moments = [line.at for (line,) in _lines(seeded, "")]
    assert moments == sorted(moments) and moments[-1] <= clock.now()
    first_submit = {}
    for (line,) in _lines(seeded, "assessment.submit"):
        first_submit.setdefault(line.province_code, line.at)
    saves = _lines(seeded, "answer.save")
    for (line,) in saves:
        assert opens <= line.at <= closes
        submitted = first_submit.get(line.province_code)
        assert submitted is None or line.at < submitted or line.after["note"]   # or a correction
    assert saves[-1][0].at - saves[0][0].at > timedelta(weeks=4)   # over weeks, not in a burst


def _outcome(store):
    return sorted(_read(store, select(Assessment.province_code, Assessment.state,
                                      Answer.indicator_code, Answer.self_points,
                                      Answer.final_points, Answer.review_status)
                        .join(Answer, Answer.assessment_id == Assessment.id)))


def test_the_same_seed_makes_the_same_demo(seeded, tmp_path):
    again = fresh_store("sqlite", tmp_path)
    try:
        demo.seed(again)
        assert _outcome(again) == _outcome(seeded)
        assert len(_lines(again, "")) == len(_lines(seeded, ""))
    finally:
        again.close()
