"""``dti demo``: the illustrative edition with simulated answers for every province, in various
workflow states, and one demo user per role — labelled as simulated everywhere.

The answers are drawn (seeded) so that each province's main-indicator values land near the
synthetic demo data of :mod:`dti.editions.demo`, which follows the published 2022 ranks.  They are
*not* real answers of any province.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import select

from dti.clock import now
from dti.editions.demo import demo_dataset
from dti.scoring import ScoringCatalogue, SubIndicator, illustrative_catalogue
from dti.services.edition_setup import create_edition
from dti.store import audit
from dti.store.accounts import Actor, create_user
from dti.store.db import Store
from dti.store.models import Answer, Assessment, EditionRow, User
from dti.workflow import Role, State

EDITION = "dti-2022-minh-hoa"
PASSWORD = "demo-dti-2026"
SEED = 2022
# Provinces with demo log-ins; their assessments stay in draft so the demo can be walked through.
DEMO_PROVINCES = {"48": "danang", "19": "thainguyen", "01": "hanoi", "92": "cantho"}
STATE_PLAN = ((State.DRAFT, 10), (State.SUBMITTED, 9), (State.IN_REVIEW, 8), (State.RETURNED, 5),
              (State.APPRAISED, 6))   # the rest: approved


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    province: str | None


def seed(store: Store, seed: int = SEED) -> list[DemoLogin]:
    """Create (once) the demo users and the illustrative edition; the log-ins either way."""
    logins = _logins()
    with store.transaction() as session:
        if session.scalar(select(EditionRow).where(EditionRow.code == EDITION)) is not None:
            return logins
        users = {}
        for login in logins:
            users[login.username] = create_user(session, login.username, login.password, login.role,
                                                login.province, _display(login))
        admin = Actor.of(users["admin"])
        catalogue = illustrative_catalogue()
        t = now()
        edition = create_edition(session, admin, catalogue, EDITION, 2022,
                                 "DTI cấp tỉnh 2022 — bản minh hoạ (số liệu mô phỏng)",
                                 "Provincial DTI 2022 — illustrative edition (simulated data)",
                                 opens_at=t - timedelta(days=30), closes_at=t + timedelta(days=90))
        session.flush()
        _simulate(session, edition, catalogue, users, np.random.default_rng(seed))
        audit.write(session, admin, "demo.seed", edition=EDITION,
                    after={"seed": seed, "note": "simulated answers, not real data"})
    return logins


def _logins() -> list[DemoLogin]:
    out = [DemoLogin("admin", PASSWORD, Role.ADMIN.value, None),
           DemoLogin("thamdinh1", PASSWORD, Role.REVIEWER.value, None),
           DemoLogin("thamdinh2", PASSWORD, Role.REVIEWER.value, None)]
    for code, slug in DEMO_PROVINCES.items():
        out.append(DemoLogin(f"{slug}.nhaplieu", PASSWORD, Role.EDITOR.value, code))
        out.append(DemoLogin(f"{slug}.pheduyet", PASSWORD, Role.APPROVER.value, code))
    return out


def _display(login: DemoLogin) -> str:
    names = {"admin": "Quản trị (demo)", "thamdinh1": "Thẩm định viên 1 (demo)",
             "thamdinh2": "Thẩm định viên 2 (demo)"}
    if login.username in names:
        return names[login.username]
    kind = "nhập liệu" if login.role == Role.EDITOR.value else "phê duyệt"
    return f"Cán bộ {kind} {login.province} (demo)"


def answer_for(item: SubIndicator, quality: float, rng: np.random.Generator) -> dict[str, Any]:
    """A simulated answer whose points come near ``quality`` × max points."""
    quality = quality if np.isfinite(quality) else 0.5
    q = float(np.clip(quality + rng.normal(0, 0.12), 0, 1))
    out: dict[str, Any] = {}
    for field in item.rule.fields:
        if field.kind == "yesno":
            out[field.name] = bool(rng.random() < q)
        elif field.kind == "choice":
            best = min(field.options, key=lambda o: abs(o.fraction - q))
            out[field.name] = best.key
        else:
            out[field.name] = None
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


def _simulate(session, edition: EditionRow, catalogue: ScoringCatalogue, users: dict[str, User],
              rng: np.random.Generator) -> None:
    data = demo_dataset()
    assessments = list(session.scalars(select(Assessment).where(Assessment.edition_id == edition.id)
                                       .order_by(Assessment.province_code)))
    states = _state_plan([a.province_code for a in assessments], rng)
    approver = {u.province_code: u for u in users.values() if u.role == Role.APPROVER.value}
    reviewer = users["thamdinh1"]
    t = now()
    for a in assessments:
        row = data.units.index(a.province_code)
        quality = {c: float(data.values[row, data.columns.index(c)]) for c in data.columns}
        state = states[a.province_code]
        partial = state is State.DRAFT and a.province_code not in DEMO_PROVINCES
        answers = {x.indicator_code: x for x in session.scalars(
            select(Answer).where(Answer.assessment_id == a.id))}
        for item in catalogue.items:
            if partial and rng.random() < 0.4:
                continue
            if a.province_code in DEMO_PROVINCES and rng.random() < 0.5:
                continue   # half left for the demo user to fill in
            value = answer_for(item, quality.get(item.main_code, 0.5), rng)
            points = item.points(value) if item.scored else None
            x = answers[item.code]
            x.self_value, x.self_points, x.final_points = value, points, points
            x.version, x.updated_at = 1, t
            if state in (State.APPRAISED, State.APPROVED):
                x.appraised_value, x.appraised_points = value, points
                x.review_status, x.reviewed_version, x.reviewed_value = "accepted", 1, value
        if state is State.RETURNED:
            x = answers[catalogue.items[int(rng.integers(len(catalogue.items)))].code]
            x.review_status = "returned"
            x.return_reason = "Minh chứng chưa khớp với số liệu kê khai (mô phỏng)."
            x.reviewed_version, x.reviewed_value = x.version, x.self_value
            a.return_reason = "Một số chỉ số chưa có minh chứng phù hợp (mô phỏng)."
        a.state, a.simulated, a.updated_at = state.value, True, t
        if state is not State.DRAFT:
            submitter = approver.get(a.province_code)
            a.submitted_by = submitter.id if submitter else None
            a.submitted_at = t
        if state in (State.IN_REVIEW, State.RETURNED, State.APPRAISED, State.APPROVED):
            a.reviewed_by = reviewer.id
        if state is State.APPROVED:
            a.approved_by, a.approved_at = reviewer.id, t


def _state_plan(codes: list[str], rng: np.random.Generator) -> dict[str, State]:
    others = [c for c in codes if c not in DEMO_PROVINCES]
    order = list(rng.permutation(others))
    plan = {c: State.DRAFT for c in DEMO_PROVINCES if c in codes}
    i = 0
    for state, n in STATE_PLAN:
        for c in order[i:i + n]:
            plan[c] = state
        i += n
    for c in order[i:]:
        plan[c] = State.APPROVED
    return plan
