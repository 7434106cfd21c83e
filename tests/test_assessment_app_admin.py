"""Admin pages through HTTP: who may use them, editions (catalogue upload, window, download),
publication guarded by the password and by every province's approval, lock exceptions, users,
and the ranking computed from the current final points."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from assessment_support import EDITION, OTHER, OWN, PASSWORD
from assessment_support import signed_in as client

from dti.services import assessments as changes
from dti.errors import Conflict
from dti.scoring import CatalogueInfo, catalogue_csv, catalogue_from_bytes, illustrative_catalogue
from dti.clock import now
from dti.store import edition_rows
from dti.store.models import (Assessment, AuditEntry, EditionRow, LockException, SecurityEvent,
                              User)

JSON = {"Accept": "application/json"}


def set_state(world, state: str, province: str | None = None) -> None:
    """Test set-up: put assessments in a state directly (the workflow itself is tested elsewhere)."""
    with world.store.transaction() as session:
        edition = edition_rows.get(session, EDITION)
        query = update(Assessment).where(Assessment.edition_id == edition.id)
        if province:
            query = query.where(Assessment.province_code == province)
        session.execute(query.values(state=state))


def state(world, province: str = OWN) -> str:
    with world.store.reading() as session:
        return session.scalar(select(Assessment.state).where(Assessment.province_code == province))


def test_admin_pages_are_for_admins(app, world):
    for username in ("reviewer", "editor", "approver"):
        c, csrf = client(app, username)
        assert c.get("/app/admin").status_code == 403
        assert c.get(f"/app/admin/editions/{EDITION}/catalogue.xlsx").status_code == 403
        for path, data in ((f"/app/admin/editions/{EDITION}/publish", {"password": PASSWORD}),
                           (f"/app/admin/editions/{EDITION}/window", {"closes_at": ""}),
                           (f"/app/admin/editions/{EDITION}/{OWN}/reopen",
                            {"reason": "x", "password": PASSWORD}),
                           ("/app/admin/users/new", {"username": "x", "password": "p" * 10,
                                                     "role": "admin"}),
                           ("/app/admin/users/editor/active", {"active": "false"}),
                           ("/app/admin/editions/new", {"code": "x", "year": "2023",
                                                         "name_vi": "x"})):
            assert c.post(path, data={"csrf": csrf, **data}).status_code == 403, (username, path)
        expected = 200 if username == "reviewer" else 403
        assert c.get(f"/app/admin/editions/{EDITION}/results").status_code == expected
    with world.store.reading() as session:
        assert session.scalar(select(func.count()).select_from(EditionRow)) == 1
        assert session.scalar(select(User.active).where(User.username == "editor"))
    admin, _ = client(app, "admin")
    page = admin.get("/app/admin")
    assert page.status_code == 200 and EDITION in page.text
    data = admin.get("/app/admin", headers=JSON).json()
    assert data["editions"][0]["counts"] == {"draft": 63}
    assert {u["username"] for u in data["users"]} >= {"admin", "editor", "other_approver"}


def test_publication_needs_the_password_and_every_province_approved(app, world):
    set_state(world, "approved", OWN)
    admin, csrf = client(app, "admin")
    url = f"/app/admin/editions/{EDITION}/publish"
    wrong = admin.post(url, data={"csrf": csrf, "password": "not-the-password"})
    assert wrong.status_code == 403 and "password you re-entered is wrong" in wrong.text
    with world.store.reading() as session:
        assert edition_rows.get(session, EDITION).status == "open"
        assert session.scalar(select(func.count()).select_from(SecurityEvent).where(
            SecurityEvent.kind == "reauth_failed")) == 1   # the refusal is kept as a security event

    pending = admin.post(url, data={"csrf": csrf, "password": PASSWORD})
    assert pending.status_code == 409
    listed = re.findall(r'<li data-province="(\d\d)"', pending.text)
    assert len(listed) == 62 and OWN not in listed and OTHER in listed
    as_json = admin.post(url, headers=JSON, data={"csrf": csrf, "password": PASSWORD})
    assert as_json.status_code == 409 and len(as_json.json()["error"]["pending"]) == 62
    assert state(world, OTHER) == "draft"
    with world.store.reading() as session:
        assert edition_rows.get(session, EDITION).snapshot_checksum is None

    set_state(world, "approved")
    done = admin.post(url, headers=JSON, data={"csrf": csrf, "password": PASSWORD})
    assert done.status_code == 200
    with world.store.reading() as session:
        assert done.json()["checksum"] == edition_rows.get(session, EDITION).snapshot_checksum
    assert state(world) == "published"
    assert TestClient(app).get(f"/editions/{EDITION}").status_code == 200   # at once
    again = admin.post(url, headers=JSON, data={"csrf": csrf, "password": PASSWORD})
    assert again.status_code == 409


def test_lock_exception_reopens_with_reason_and_password(app, world):
    set_state(world, "approved", OWN)
    admin, csrf = client(app, "admin")
    url = f"/app/admin/editions/{EDITION}/{OWN}/reopen"
    assert admin.post(url, data={"csrf": csrf, "reason": "", "password": PASSWORD}
                      ).status_code == 422
    assert admin.post(url, data={"csrf": csrf, "reason": "Sai số liệu",
                                 "password": "wrong-password"}).status_code == 403
    assert state(world) == "approved"
    done = admin.post(url, data={"csrf": csrf, "reason": "Sai số liệu NTS.04",
                                 "password": PASSWORD}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/app/review/{EDITION}/{OWN}"
    assert state(world) == "in_review"
    with world.store.reading() as session:
        line = session.scalar(select(AuditEntry).where(AuditEntry.action == "assessment.reopen"))
        assert line.reason == "Sai số liệu NTS.04" and line.province_code == OWN
        assert line.before["state"] == "approved" and line.after["state"] == "in_review"
        assert session.scalar(select(func.count()).select_from(LockException)) == 1
    # the admin page's form names the province in a field; a draft cannot be reopened
    other = admin.post(f"/app/admin/editions/{EDITION}/reopen", data={
        "csrf": csrf, "province": OTHER, "reason": "x", "password": PASSWORD})
    assert other.status_code == 403 and state(world, OTHER) == "draft"


def _upload(admin, csrf, code: str, name: str, content: bytes, mime: str):
    return admin.post("/app/admin/editions/new", data={
        "csrf": csrf, "code": code, "year": "2023", "name_vi": "Kỳ 2023", "name_en": "2023",
        "source": "upload"}, files={"catalogue": (name, content, mime)}, follow_redirects=False)


def test_catalogue_upload_lists_every_problem_and_creates_nothing(app, world):
    rows = list(csv.reader(io.StringIO(catalogue_csv(illustrative_catalogue()))))
    rows[2][2] = "mười"                         # NTS.01's max points: not a number
    rows[3][3] = "[[bogus rule]]"                # NTS.02's rule: unreadable
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    admin, csrf = client(app, "admin")
    broken = _upload(admin, csrf, "dti-2023", "catalogue.csv", out.getvalue().encode(), "text/csv")
    assert broken.status_code == 422
    items = re.findall(r"<li>.*?</li>", broken.text, re.S)
    assert len(items) >= 2 and "mười" in broken.text
    problems = _upload(admin, csrf, "dti-2023", "catalogue.csv", out.getvalue().encode(), "text/csv")
    assert problems.status_code == 422
    with world.store.reading() as session:
        assert session.scalar(select(func.count()).select_from(EditionRow)) == 1
    bad_form = admin.post("/app/admin/editions/new", headers=JSON, data={
        "csrf": csrf, "code": "", "year": "20x3", "name_vi": "", "opens_at": "tomorrow",
        "source": "upload"})
    codes = [p["code"] for p in bad_form.json()["error"]["problems"]]
    assert bad_form.status_code == 422
    assert {"admin.missing_field", "admin.bad_year", "admin.bad_date",
            "admin.no_catalogue_file"} <= set(codes)

    # the edition's own catalogue, downloaded as XLSX, uploads back into a new edition
    xlsx = admin.get(f"/app/admin/editions/{EDITION}/catalogue.xlsx")
    assert xlsx.status_code == 200 and xlsx.headers["content-disposition"].startswith("attachment")
    good = _upload(admin, csrf, "dti-2023", "catalogue.xlsx", xlsx.content,
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert good.status_code == 303, good.text
    with world.store.reading() as session:
        row = edition_rows.get(session, "dti-2023")
        assert row.illustrative is False and len(row.catalogue["items"]) == 98
        assert session.scalar(select(func.count()).select_from(Assessment).where(
            Assessment.edition_id == row.id)) == 63
    again = catalogue_from_bytes(xlsx.content, "x.xlsx", CatalogueInfo("x", "x", "x", "qd-922-btttt"))
    assert [i.rule.text for i in again.items] == [i.rule.text for i in illustrative_catalogue().items]


def test_illustrative_edition_and_window(app, world):
    admin, csrf = client(app, "admin")
    made = admin.post("/app/admin/editions/new", data={
        "csrf": csrf, "code": "dti-2024-thu", "year": "2024", "name_vi": "Thử 2024",
        "source": "illustrative", "opens_at": "2024-01-01T00:00"}, follow_redirects=False)
    assert made.status_code == 303
    with world.store.reading() as session:
        assert edition_rows.get(session, "dti-2024-thu").illustrative is True

    past = (now() - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    closed = admin.post(f"/app/admin/editions/{EDITION}/window", data={
        "csrf": csrf, "opens_at": "", "closes_at": past}, follow_redirects=False)
    assert closed.status_code == 303
    with world.store.transaction() as session, pytest.raises(Conflict, match="closed"):
        changes.save_answer(session, world.actors["editor"], EDITION, OWN, "NTS.02",
                                {"value": "có"}, 0)
    assert admin.post(f"/app/admin/editions/{EDITION}/window", data={
        "csrf": csrf, "opens_at": "2026-02-01T00:00", "closes_at": "2026-01-01T00:00"}
    ).status_code == 409
    reopened = admin.post(f"/app/admin/editions/{EDITION}/window", headers=JSON, data={
        "csrf": csrf, "opens_at": "", "closes_at": ""})
    assert reopened.json()["closes_at"] is None
    with world.store.transaction() as session:
        changes.save_answer(session, world.actors["editor"], EDITION, OWN, "NTS.02",
                                {"value": "có"}, 0)


def test_users_are_created_deactivated_and_reactivated(app, world):
    admin, csrf = client(app, "admin")
    made = admin.post("/app/admin/users/new", data={
        "csrf": csrf, "username": "hue_editor", "password": "mat-khau-dai-1", "role":
        "province_editor", "province_code": "46", "display_name": "Cán bộ Huế"},
        follow_redirects=False)
    assert made.status_code == 303
    assert "hue_editor" in admin.get("/app/admin").text
    assert admin.post("/app/admin/users/new", data={
        "csrf": csrf, "username": "x", "password": "mat-khau-dai-1", "role": "province_editor"}
    ).status_code == 409                          # a province user needs a province
    new, _ = client(app, "hue_editor", "mat-khau-dai-1")
    assert new.get("/app/admin").status_code == 403

    off = admin.post("/app/admin/users/hue_editor/active", data={"csrf": csrf, "active": "false"},
                     follow_redirects=False)
    assert off.status_code == 303
    assert new.get(f"/app/audit/{EDITION}", headers=JSON).status_code == 401  # session closed
    refused = TestClient(app)
    page = refused.get("/app/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    assert refused.post("/app/login", data={"username": "hue_editor", "password": "mat-khau-dai-1",
                                            "csrf": token}).status_code == 401
    admin.post("/app/admin/users/hue_editor/active", data={"csrf": csrf, "active": "true"})
    client(app, "hue_editor", "mat-khau-dai-1")
    assert admin.post("/app/admin/users/admin/active", data={"csrf": csrf, "active": "false"}
                      ).status_code == 409      # not one's own account
    with world.store.reading() as session:
        actions = list(session.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("user.%")).order_by(AuditEntry.id)))
    assert actions == ["user.create", "user.deactivate", "user.activate"]


def test_computed_results_are_labelled_unpublished(app, world):
    with world.store.transaction() as session:
        changes.save_answer(session, world.actors["editor"], EDITION, OWN, "NTS.04",
                                {"a": "3", "b": "4"}, 0)     # 7,5 of NTS's 100 → NTS 0,075
    reviewer, _ = client(app, "reviewer")
    page = reviewer.get(f"/app/admin/editions/{EDITION}/results")
    assert page.status_code == 200 and "chưa công bố" in page.text
    row = re.search(r'<tr data-province="48">(.*?)</tr>', page.text, re.S).group(1)
    assert "0,0750" in row and "0,0075" in row             # vi-VN numbers: NTS, then DTI
    data = reviewer.get(f"/app/admin/editions/{EDITION}/results", headers=JSON).json()
    assert data["published"] is False and len(data["rows"]) == 63
    first = data["rows"][0]
    assert first["province_code"] == OWN and first["rank"] == 1
    assert first["NTS"] == pytest.approx(0.075) and first["DTI"] == pytest.approx(0.0075)
