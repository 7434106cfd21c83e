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
from assessment_support import EDITION, OTHER, OWN, PASSWORD, fresh_store, login, pdf, populate

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
USERNAME = {"admin": "admin", "reviewer": "reviewer", "editor": "editor", "approver": "approver"}
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
    populate(store)
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


def _first_item(store):
    from dti.scoring import illustrative_catalogue

    return next(i for i in illustrative_catalogue().items if i.rule.kind == "ratio")


def _set_state(store, state: str) -> None:
    """Every assessment of the edition to ``state``; the target province's answers to a baseline
    with one returned answer (so a 'return' is possible); the edition open unless published."""
    with store.transaction() as session:
        edition = session.scalar(select(EditionRow).where(EditionRow.code == EDITION))
        session.execute(update(Assessment).where(Assessment.edition_id == edition.id).values(
            state=state, version=1, submitted_by=None, submitted_at=None, return_reason=None))
        edition.status = "published" if state == "published" else "open"
        ids = select(Assessment.id).where(Assessment.edition_id == edition.id,
                                          Assessment.province_code.in_((OWN, OTHER)))
        session.execute(update(Answer).where(Answer.assessment_id.in_(ids)).values(
            self_value=None, self_points=None, appraised_value=None,
            appraised_points=None, final_points=None, review_status="pending",
            return_reason=None, version=1, reviewed_version=0))
        session.execute(update(Answer).where(Answer.assessment_id.in_(ids),
                                             Answer.indicator_code == "NTS.02").values(
            review_status="returned", return_reason="thiếu minh chứng"))


def _fingerprint(store, province: str):
    with store.reading() as session:
        a = session.scalar(select(Assessment).join(EditionRow).where(
            EditionRow.code == EDITION, Assessment.province_code == province))
        answers = session.execute(select(Answer.indicator_code, Answer.version, Answer.self_points,
                                         Answer.appraised_points, Answer.review_status)
                                  .where(Answer.assessment_id == a.id)
                                  .order_by(Answer.indicator_code)).all()
        return (a.state, a.version, tuple(answers),
                session.scalar(select(func.count()).select_from(Evidence)),
                session.scalar(select(func.count()).select_from(Comment)),
                session.scalar(select(func.count()).select_from(AuditEntry)),
                session.scalar(select(EditionRow.status).where(EditionRow.code == EDITION)))


def _request(client, csrf: str, action: str, province: str, item):
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
