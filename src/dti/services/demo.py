"""``dti demo``: the illustrative edition with simulated answers for every province, in various
workflow states, and one demo user per role — labelled as simulated everywhere.

The answers are drawn (seeded) so that each province's main-indicator values land near the
synthetic demo data of :mod:`dti.editions.demo`, which follows the published 2022 ranks.  They are
*not* real answers of any province.  Each state is reached through the real workflow — saves,
submission, review, returns, appraisal, approval — by simulated officials of each province (no
log-in) and the demo reviewers, over the weeks before the demo is made
(:mod:`dti.services.demo_year`), so the audit trail holds every step.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Callable

import numpy as np
from sqlalchemy import select, update

from dti.clock import now
from dti.editions.demo import demo_dataset
from dti.scoring import ScoringCatalogue, illustrative_catalogue
from dti.services.demo_year import Cast, Province, VIETNAM, answer_for, moving_clock, plan, play
from dti.services.edition_setup import create_edition
from dti.store import audit
from dti.store.accounts import Actor, create_user, hash_password
from dti.store.db import Store
from dti.store.models import Assessment, EditionRow, User
from dti.units import Unit, load_unit_set
from dti.units.bodies import body, is_body_code
from dti.workflow import Role, State

EDITION = "dti-2022-minh-hoa"
PASSWORD = "demo-dti-2026"
SEED = 2022
# Provinces with demo log-ins; their assessments stay in draft so the demo can be walked through.
DEMO_PROVINCES = {"48": "danang", "19": "thainguyen", "01": "hanoi", "92": "cantho"}
OPENED = timedelta(days=75)     # the window opened this long before the demo is made …
CLOSES_IN = timedelta(days=90)  # … and closes this long after: the demo provinces can still fill in
STATE_PLAN = ((State.DRAFT, 10), (State.SUBMITTED, 9), (State.IN_REVIEW, 8), (State.RETURNED, 5),
              (State.APPRAISED, 6))   # the rest: approved
# The ministry level: an edition of the bodies of 2025 on the illustrative ministry method, where
# Bộ Tài chính has demo log-ins (its assessment stays in draft) and the other bodies are simulated.
MINISTRY_EDITION = "dti-bo-2025-minh-hoa"
MINISTRY_BASE = "bo-minh-hoa"
DEMO_BODIES = {"BTC": "btc"}
MINISTRY_STATE_PLAN = ((State.DRAFT, 3), (State.SUBMITTED, 3), (State.IN_REVIEW, 3),
                       (State.RETURNED, 2), (State.APPRAISED, 2))   # the rest: approved
DEMO_UNITS = {**DEMO_PROVINCES, **DEMO_BODIES}


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    province: str | None


def seed(store: Store, seed: int = SEED) -> list[DemoLogin]:
    """Create (once) the demo users and the two illustrative editions — the provinces' and the
    ministries' — and take every simulated unit through its year, both editions on one calendar
    so the audit trail reads in time order; the log-ins either way.  One transaction: the demo
    is there whole or not at all."""
    logins = _logins()
    today = now()
    with store.transaction() as session:
        if _exists(session, EDITION):
            return logins
        with moving_clock(today - OPENED - timedelta(days=1)) as moment:   # set up the day before
            users = {login.username: create_user(session, login.username, login.password,
                                                 login.role, login.province, _display(login))
                     for login in logins}
            admin = Actor.of(users["admin"])
            first_day = (today - OPENED + VIETNAM).replace(hour=0, minute=0, second=0, microsecond=0)
            steps = {EDITION: _provincial_year(session, admin, users, today, first_day, seed),
                     MINISTRY_EDITION: _ministry_year(session, admin, users, today, first_day, seed)}
            play(session, steps, {name: Actor.of(u) for name, u in users.items()}, moment)
        for code in steps:
            audit.write(session, admin, "demo.seed", edition=code,
                        after={"seed": seed, "note": "simulated answers, not real data"})
    return logins


def _exists(session, code: str) -> bool:
    return session.scalar(select(EditionRow.id).where(EditionRow.code == code)) is not None


def _provincial_year(session, admin: Actor, users: dict[str, User], today, first_day,
                     seed: int) -> list:
    """The provincial edition, and every province's steps through its year."""
    catalogue = illustrative_catalogue()
    edition = create_edition(session, admin, catalogue, EDITION, 2022,
                             "DTI cấp tỉnh 2022 — bản minh hoạ (số liệu mô phỏng)",
                             "Provincial DTI 2022 — illustrative edition (simulated data)",
                             opens_at=today - OPENED, closes_at=today + CLOSES_IN)
    session.flush()
    provinces = _provinces(session, edition, catalogue, users, np.random.default_rng(seed))
    year = np.random.default_rng([seed, 1])   # the year's own stream: answers stay as drawn
    return [step for p in provinces for step in plan(p, catalogue, first_day, year)]


def _ministry_year(session, admin: Actor, users: dict[str, User], today, first_day,
                   seed: int) -> list:
    """The ministry-level edition on the illustrative ministry method, and every body's steps
    through its year; Bộ Tài chính stays in draft for the demo log-ins."""
    from dti.scoring import illustrative_ministry_catalogue

    catalogue = illustrative_ministry_catalogue()
    edition = create_edition(session, admin, catalogue, MINISTRY_EDITION, 2025,
                             "DTI cấp bộ 2025 — bản minh hoạ (số liệu mô phỏng)",
                             "Ministry DTI 2025 — illustrative edition (simulated data)",
                             MINISTRY_BASE, opens_at=today - OPENED, closes_at=today + CLOSES_IN)
    session.flush()
    bodies = _units_in(session, edition, catalogue, users, np.random.default_rng([seed, 2]))
    year = np.random.default_rng([seed, 3])
    return [step for b in bodies for step in plan(b, catalogue, first_day, year)]


def _logins() -> list[DemoLogin]:
    out = [DemoLogin("admin", PASSWORD, Role.ADMIN.value, None),
           DemoLogin("thamdinh1", PASSWORD, Role.REVIEWER.value, None),
           DemoLogin("thamdinh2", PASSWORD, Role.REVIEWER.value, None)]
    for code, slug in DEMO_UNITS.items():
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


def _provinces(session, edition: EditionRow, catalogue: ScoringCatalogue, users: dict[str, User],
               rng: np.random.Generator) -> list[Province]:
    """Each province's final state, drawn answers and officials (the simulated provinces' are
    added to ``users``), in province-code order; every assessment is labelled simulated.  Each
    main indicator's level follows the synthetic demo data (the published 2022 ranks)."""
    data = demo_dataset()

    def quality(code: str) -> dict[str, float]:
        row = data.units.index(code)
        return {c: float(data.values[row, data.columns.index(c)]) for c in data.columns}

    return _simulated(session, edition, catalogue, users, rng, STATE_PLAN, quality)


def _units_in(session, edition: EditionRow, catalogue: ScoringCatalogue, users: dict[str, User],
              rng: np.random.Generator) -> list[Province]:
    """The bodies as :func:`_provinces` the provinces; with no published scores of the bodies to
    follow, each main indicator's level is drawn between 0.3 and 0.9."""
    return _simulated(session, edition, catalogue, users, rng, MINISTRY_STATE_PLAN,
                      lambda _code: {m.code: float(rng.uniform(0.3, 0.9)) for m in catalogue.mains})


def _simulated(session, edition: EditionRow, catalogue: ScoringCatalogue, users: dict[str, User],
               rng: np.random.Generator, state_plan: tuple[tuple[State, int], ...],
               quality: Callable[[str], dict[str, float]]) -> list[Province]:
    """Every unit of the edition, in code order: its final state from ``state_plan``, its level
    per main indicator from ``quality``, its drawn answers and its officials (the simulated
    units' are added to ``users``); every assessment is labelled simulated."""
    codes = list(session.scalars(select(Assessment.province_code)
                                 .where(Assessment.edition_id == edition.id)
                                 .order_by(Assessment.province_code)))
    session.execute(update(Assessment).where(Assessment.edition_id == edition.id)
                    .values(simulated=True))
    states = _state_plan(codes, rng, state_plan)
    users.update(_officials(session, {c: s for c, s in states.items() if c not in DEMO_UNITS}))
    out = []
    for n, code in enumerate(codes):
        level = quality(code)
        out.append(Province(code, states[code], _answers(catalogue, level, code, states[code], rng),
                            level, _cast(code, n)))
    return out


def _answers(catalogue: ScoringCatalogue, quality: dict[str, float], code: str, state: State,
             rng: np.random.Generator) -> dict[str, dict]:
    """The answers the province's editor will save: all of them once it submits; about 60 % in a
    simulated draft; half in a demo province's draft, the rest left for the visitor."""
    partial = state is State.DRAFT and code not in DEMO_UNITS
    out = {}
    for item in catalogue.items:
        if partial and rng.random() < 0.4:
            continue
        if code in DEMO_UNITS and rng.random() < 0.5:
            continue
        out[item.code] = answer_for(item, quality.get(item.main_code, 0.5), rng)
    return out


def _officials(session, states: dict[str, State]) -> dict[str, User]:
    """A simulated province's editor, and its approver once it submits.  They act in the
    simulated year but cannot log in: inactive, with the hash of a password nobody was told (one
    Argon2 hash for all of them: each takes a good part of a second, on purpose)."""
    hashed = hash_password(secrets.token_urlsafe(32))
    out = {}
    for code, state in states.items():
        for role in (Role.EDITOR, Role.APPROVER)[:1 if state is State.DRAFT else 2]:
            kind = "nhập liệu" if role is Role.EDITOR else "phê duyệt"
            user = User(username=_username(code, role), password_hash=hashed, role=role.value,
                        display_name=f"Cán bộ {kind} — {_unit_name(code)} (mô phỏng)",
                        province_code=code, active=False, created_at=now())
            session.add(user)
            out[user.username] = user
    session.flush()
    return out


def _cast(code: str, n: int) -> Cast:
    """The province's editor and approver; the two demo reviewers take turns, one appraising
    and the other approving."""
    first, second = ("thamdinh1", "thamdinh2")[::1 if n % 2 == 0 else -1]
    return Cast(_username(code, Role.EDITOR), _username(code, Role.APPROVER), first, second)


def _username(code: str, role: Role) -> str:
    """``danang.nhaplieu``, ``hagiang.pheduyet``: the province's name without diacritics;
    ``nhnn.nhaplieu``: a body's code."""
    slug = DEMO_UNITS.get(code) or (code.lower() if is_body_code(code) else re.sub(
        r"[^a-z]", "", re.sub(r" (province|city)$", "", _units()[code].name_en.lower())))
    return f"{slug}.{'nhaplieu' if role is Role.EDITOR else 'pheduyet'}"


@cache
def _units() -> dict[str, Unit]:
    return {u.code: u for u in load_unit_set("provinces-63").units}


def _unit_name(code: str) -> str:
    return body(code).name_vi if is_body_code(code) else _units()[code].name_vi


def _state_plan(codes: list[str], rng: np.random.Generator,
                state_plan: tuple[tuple[State, int], ...] = STATE_PLAN) -> dict[str, State]:
    others = [c for c in codes if c not in DEMO_UNITS]
    order = list(rng.permutation(others))
    states = {c: State.DRAFT for c in DEMO_UNITS if c in codes}
    i = 0
    for state, n in state_plan:
        for c in order[i:i + n]:
            states[c] = state
        i += n
    for c in order[i:]:
        states[c] = State.APPROVED
    return states
