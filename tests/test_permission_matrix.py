"""The permission matrix against the real app: every role × every action × own/other province ×
every state, over HTTP.

The expected table below is written out from the issue's rules, independently of
``dti.workflow.RULES`` — so a wrong line in the rules table fails here.  A refused request must
answer 403 (401 or a redirect to the log-in page for the public) and change nothing: the
assessment, its answers, evidence, comments, the audit log and the edition are compared before
and after.  An allowed mutating request must change something.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from assessment_support import (EDITION, MINISTRY_EDITION, OTHER, OTHER_BODY, OWN, OWN_BODY, PASSWORD,
                                fresh_store, login, pdf, populate, populate_ministries)

from dti.store.models import Answer, Assessment, AuditEntry, Comment, EditionRow, Evidence
from dti.web.app import create_app
from dti.web.settings import Settings

STATES = ("draft", "submitted", "in_review", "returned", "appraised", "approved", "published")
ROLES = ("admin", "reviewer", "editor", "approver", "public")
NOT_PUBLISHED = set(STATES) - {"published"}

# (action) -> {role: (own-only?, states where allowed)}; roles absent are never allowed.
EXPECTED = {
    "view": {"admin": (False, set(STATES)), "reviewer": (False, set(STATES)),
             "editor": (True, set(STATES)), "approver": (True, set(STATES))},
    "edit": {"editor": (True, {"draft", "returned"})},
    "upload": {"editor": (True, {"draft", "returned"})},
    "comment": {"editor": (True, NOT_PUBLISHED), "approver": (True, NOT_PUBLISHED),
                "reviewer": (False, NOT_PUBLISHED)},
    "submit": {"approver": (True, {"draft", "returned"})},
    "start_review": {"reviewer": (False, {"submitted"})},
    "appraise": {"reviewer": (False, {"in_review"})},
    "return": {"reviewer": (False, {"in_review"})},
    "finish_appraisal": {"reviewer": (False, {"in_review"})},
    "approve": {"reviewer": (False, {"appraised"})},
    "reopen": {"admin": (False, {"approved"})},
    "publish": {"admin": (False, {"approved"})},
    "view_audit": {"admin": (False, set(STATES)), "reviewer": (False, set(STATES)),
                   "editor": (True, set(STATES)), "approver": (True, set(STATES))},
}
USERNAME = {"admin": "admin", "reviewer": "reviewer", "editor": "editor", "approver": "approver",
            "ministry_editor": "bo_editor", "ministry_approver": "bo_approver"}
PDF = pdf()   # a real PDF: evidence must open as what it claims to be


def allowed(action: str, role: str, own: bool, state: str) -> bool:
    rule = EXPECTED[action].get(role)
    if rule is None:
        return False
    own_only, states = rule
    return (own or not own_only) and state in states


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory):
    import os

    if request.param == "postgresql" and not os.environ.get("DTI_TEST_DATABASE_URL"):
        if os.environ.get("CI"):
            pytest.fail("CI must run the matrix on PostgreSQL too (DTI_TEST_DATABASE_URL unset)")
        pytest.skip(reason="no PostgreSQL server configured (DTI_TEST_DATABASE_URL) outside CI")
    store = fresh_store(request.param, tmp_path_factory.mktemp("matrix"))
    populate_ministries(populate(store))
    app = create_app(Settings(), store=store)
    clients = {"public": (TestClient(app), "")}
    for role, username in USERNAME.items():
        client = TestClient(app)
        clients[role] = (client, login(client, username))
    item = _first_item(store)
    yield store, clients, item
    for client, _ in clients.values():
        client.close()
    store.close()


def _first_item(store, ministry: bool = False):
    from dti.scoring import illustrative_catalogue, illustrative_ministry_catalogue

    catalogue = illustrative_ministry_catalogue() if ministry else illustrative_catalogue()
    return next(i for i in catalogue.items if i.rule.kind == "ratio")


def _set_state(store, state: str, code: str = EDITION, units: tuple[str, str] = (OWN, OTHER)) -> None:
    """Every assessment of the edition to ``state``; the target units' answers to a baseline
    with one returned answer (so a 'return' is possible); the edition open unless published."""
    with store.transaction() as session:
        edition = session.scalar(select(EditionRow).where(EditionRow.code == code))
        session.execute(update(Assessment).where(Assessment.edition_id == edition.id).values(
            state=state, version=1, submitted_by=None, submitted_at=None, return_reason=None))
        edition.status = "published" if state == "published" else "open"
        ids = select(Assessment.id).where(Assessment.edition_id == edition.id,
                                          Assessment.province_code.in_(units))
        session.execute(update(Answer).where(Answer.assessment_id.in_(ids)).values(
            self_value=None, self_points=None, appraised_value=None,
            appraised_points=None, final_points=None, review_status="pending",
            return_reason=None, version=1, reviewed_version=0))
        session.execute(update(Answer).where(Answer.assessment_id.in_(ids),
                                             Answer.indicator_code == "NTS.02").values(
            review_status="returned", return_reason="thiếu minh chứng"))


def _fingerprint(store, province: str, code: str = EDITION):
    with store.reading() as session:
        a = session.scalar(select(Assessment).join(EditionRow).where(
            EditionRow.code == code, Assessment.province_code == province))
        answers = session.execute(select(Answer.indicator_code, Answer.version, Answer.self_points,
                                         Answer.appraised_points, Answer.review_status)
                                  .where(Answer.assessment_id == a.id)
                                  .order_by(Answer.indicator_code)).all()
        return (a.state, a.version, tuple(answers),
                session.scalar(select(func.count()).select_from(Evidence)),
                session.scalar(select(func.count()).select_from(Comment)),
                session.scalar(select(func.count()).select_from(AuditEntry)),
                session.scalar(select(EditionRow.status).where(EditionRow.code == code)))


def _request(client, csrf: str, action: str, province: str, item, edition: str = EDITION):
    EDITION = edition   # noqa: N806 (the paths below name the edition asked for)
    base = f"/app/{EDITION}/{province}"
    headers = {"accept": "application/json", "x-csrf-token": csrf}
    if action == "view":
        return client.get(base, headers={"accept": "application/json"}, follow_redirects=False)
    if action == "view_audit":
        return client.get(f"/app/audit/{EDITION}", params={"province": province},
                          headers={"accept": "application/json"}, follow_redirects=False)
    if action == "edit":
        return client.post(f"{base}/answers/{item.code}", headers=headers,
                           data={**{f"f_{f.name}": v for f, v in zip(item.rule.fields, ("15", "20"))},
                                 "version": "1"}, follow_redirects=False)
    if action == "upload":
        return client.post(f"{base}/answers/{item.code}/evidence", headers=headers,
                           files={"files": ("quyet-dinh.pdf", PDF, "application/pdf")},
                           follow_redirects=False)
    if action == "comment":
        return client.post(f"{base}/answers/{item.code}/comments", headers=headers,
                           data={"body": "Đã bổ sung minh chứng."}, follow_redirects=False)
    if action == "appraise":
        return client.post(f"/app/review/{EDITION}/{province}/answers/{item.code}", headers=headers,
                           data={"decision": "accept", "version": "1"}, follow_redirects=False)
    if action == "reopen":
        return client.post(f"/app/admin/editions/{EDITION}/{province}/reopen", headers=headers,
                           data={"reason": "Sai sót số liệu", "password": PASSWORD},
                           follow_redirects=False)
    if action == "publish":
        return client.post(f"/app/admin/editions/{EDITION}/publish", headers=headers,
                           data={"password": PASSWORD}, follow_redirects=False)
    return client.post(f"{base}/transition", headers=headers,
                       data={"action": action, "reason": "Cần bổ sung minh chứng", "version": "1"},
                       follow_redirects=False)


MUTATING = set(EXPECTED) - {"view", "view_audit"}


@pytest.mark.parametrize("action", sorted(EXPECTED))
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(world, role, action):
    store, clients, item = world
    client, csrf = clients[role]
    mismatches = []
    for state in STATES:
        for own in (True, False):
            province = OWN if own else OTHER
            _set_state(store, state)
            before = _fingerprint(store, province)
            response = _request(client, csrf, action, province, item)
            after = _fingerprint(store, province)
            expect = allowed(action, role, own, state)
            if role == "public":
                ok = response.status_code in (401, 303) and before == after
                if response.status_code == 303:
                    ok = ok and "/app/login" in response.headers["location"]
            elif expect:
                ok = response.status_code in (200, 303) and (action not in MUTATING or before != after)
            else:
                # the admin may publish, but only an edition whose provinces are all approved:
                # that refusal is a state conflict (409), not a permission one
                refusal = 409 if (action, role) == ("publish", "admin") else 403
                ok = response.status_code == refusal and before == after
            if not ok:
                mismatches.append((state, "own" if own else "other", response.status_code,
                                   "allowed" if expect else "refused",
                                   re.sub(r"\s+", " ", response.text[:160])))
    assert mismatches == []


# A ministry's users are a province's users of another unit: the same rows of the table, held to
# their own body.  Their own body's assessment is allowed as EXPECTED says for the editor and
# the approver; another body's, and every province's, never.
MINISTRY_ROLES = {"ministry_editor": "editor", "ministry_approver": "approver"}


@pytest.mark.parametrize("action", sorted(EXPECTED))
@pytest.mark.parametrize("role", sorted(MINISTRY_ROLES))
def test_permission_matrix_for_a_ministry(world, role, action):
    store, clients, _ = world
    client, csrf = clients[role]
    item = _first_item(store, ministry=True)
    mismatches = []
    for state in STATES:
        for own in (True, False):
            body = OWN_BODY if own else OTHER_BODY
            _set_state(store, state, MINISTRY_EDITION, (OWN_BODY, OTHER_BODY))
            before = _fingerprint(store, body, MINISTRY_EDITION)
            response = _request(client, csrf, action, body, item, MINISTRY_EDITION)
            after = _fingerprint(store, body, MINISTRY_EDITION)
            expect = allowed(action, MINISTRY_ROLES[role], own, state)
            if expect:
                ok = response.status_code in (200, 303) and (action not in MUTATING or before != after)
            else:
                ok = response.status_code == 403 and before == after
            if not ok:
                mismatches.append((state, body, response.status_code, "allowed" if expect else "refused",
                                   re.sub(r"\s+", " ", response.text[:160])))
    assert mismatches == []


@pytest.mark.parametrize("role", sorted(MINISTRY_ROLES))
def test_a_ministry_user_is_refused_every_province(world, role):
    """In the state where the role may act on its own unit (draft), every one of the 63 provinces
    is refused: reading, editing or submitting it, and its audit trail."""
    from dti.units import load_unit_set

    store, clients, _ = world
    client, csrf = clients[role]
    item = _first_item(store)
    _set_state(store, "draft")
    action = "edit" if role == "ministry_editor" else "submit"
    seen = []
    for province in load_unit_set("provinces-63").codes:
        for asked in ("view", "view_audit", action):
            before = _fingerprint(store, province)
            response = _request(client, csrf, asked, province, item)
            if response.status_code != 403 or _fingerprint(store, province) != before:
                seen.append((province, asked, response.status_code))
    assert seen == []


@pytest.mark.parametrize("role", ["editor", "approver"])
def test_a_province_user_is_refused_every_body(world, role):
    from dti.units import load_unit_set

    store, clients, _ = world
    client, csrf = clients[role]
    item = _first_item(store, ministry=True)
    _set_state(store, "draft", MINISTRY_EDITION, (OWN_BODY, OTHER_BODY))
    action = "edit" if role == "editor" else "submit"
    seen = []
    for body in load_unit_set("ministries-2025").codes:
        for asked in ("view", action):
            before = _fingerprint(store, body, MINISTRY_EDITION)
            response = _request(client, csrf, asked, body, item, MINISTRY_EDITION)
            if response.status_code != 403 or _fingerprint(store, body, MINISTRY_EDITION) != before:
                seen.append((body, asked, response.status_code))
    assert seen == []
