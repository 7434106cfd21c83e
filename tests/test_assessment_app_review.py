"""The ministry's side through HTTP: the review queue, the appraisal screen, a full review cycle
ending in publication, and the audit trail — against the real app and a real database."""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from assessment_support import EDITION, OTHER, OWN, PASSWORD
from assessment_support import signed_in as client

from dti.services import assessments as changes
from dti.services import publication
from dti.store import edition_rows
from dti.store.models import Answer, Assessment, EditionRow

JSON = {"Accept": "application/json"}


def save(world, username: str, code: str, raw: dict[str, str], province: str = OWN) -> None:
    """The province's side of the cycle, through the store (the entry pages are tested elsewhere)."""
    with world.store.transaction() as session:
        row = session.scalar(select(Answer).join(Assessment, Answer.assessment_id == Assessment.id)
                             .join(EditionRow).where(EditionRow.code == EDITION,
                                                     Assessment.province_code == province,
                                                     Answer.indicator_code == code))
        changes.save_answer(session, world.actors[username], EDITION, province, code, raw,
                                row.version)


def move(app, world, http: tuple[TestClient, str], username: str, action: str,
         reason: str = "", province: str = OWN):
    """A state change through ``/app/{edition}/{province}/transition`` (or the store when that
    route is not installed)."""
    has_route = any(getattr(r, "path", "").endswith("/transition") and "review" not in r.path
                    for r in app.routes)
    if not has_route:
        with world.store.transaction() as session:
            changes.transition(session, world.actors[username], EDITION, province, action,
                                   reason or None)
        return
    c, csrf = http
    r = c.post(f"/app/{EDITION}/{province}/transition", headers=JSON,
               data={"csrf": csrf, "action": action, "reason": reason})
    assert r.status_code == 200, r.text


def answer(world, code: str, province: str = OWN) -> Answer:
    with world.store.reading() as session:
        return session.scalar(select(Answer).join(Assessment, Answer.assessment_id == Assessment.id)
                              .where(Assessment.province_code == province,
                                     Answer.indicator_code == code))


def state(world, province: str = OWN) -> str:
    with world.store.reading() as session:
        return session.scalar(select(Assessment.state).where(Assessment.province_code == province))


def test_queue_lists_every_province_for_a_reviewer_and_refuses_province_users(app, world):
    c, _ = client(app, "reviewer")
    assert c.get("/app/", follow_redirects=False).headers["location"] == f"/app/review/{EDITION}"
    page = c.get(f"/app/review/{EDITION}")
    assert page.status_code == 200
    assert len(re.findall(r'<tr data-province="\d\d"', page.text)) == 63
    assert f'href="/app/review/{EDITION}/{OWN}"' in page.text
    data = c.get(f"/app/review/{EDITION}", headers=JSON).json()
    assert len(data["rows"]) == 63 and data["counts"] == {"draft": 63}
    assert c.get(f"/app/review/{EDITION}?state=submitted", headers=JSON).json()["rows"] == []

    editor, _ = client(app, "editor")
    assert editor.get(f"/app/review/{EDITION}").status_code == 403
    assert editor.get(f"/app/review/{EDITION}", headers=JSON).json()["error"]["status"] == 403
    assert editor.get(f"/app/review/{EDITION}/{OTHER}").status_code == 403
    assert TestClient(app).get(f"/app/review/{EDITION}", headers=JSON).status_code == 401


def test_full_review_cycle_then_publication(app, world):
    """Editor answers, approver submits, reviewer returns one answer, the editor fixes it, the
    reviewer adjusts and approves, the admin publishes: the public ranking shows the appraised
    points, and the audit keeps the return with its reason."""
    save(world, "editor", "NTS.04", {"a": "3", "b": "4"})         # ratio a/b × 10 → 7,5
    save(world, "editor", "NTS.02", {"value": "có"})               # yes/no → 10
    approver, reviewer = client(app, "approver"), client(app, "reviewer")
    r, csrf = reviewer
    move(app, world, approver, "approver", "submit")
    move(app, world, reviewer, "reviewer", "start_review")
    assert state(world) == "in_review"

    url = f"/app/review/{EDITION}/{OWN}/answers/NTS.04"
    before = answer(world, "NTS.04")
    missing = r.post(url, data={"csrf": csrf, "decision": "return", "reason": " ",
                                "version": before.version})
    assert missing.status_code == 422 and "workflow.reason_required" in missing.text
    after = answer(world, "NTS.04")
    assert (after.version, after.review_status) == (before.version, "pending")

    returned = r.post(url, data={"csrf": csrf, "decision": "return", "version": before.version,
                                 "reason": "Thiếu danh sách cơ quan"}, follow_redirects=False)
    assert returned.status_code == 303
    assert answer(world, "NTS.04").review_status == "returned"
    accepted = r.post(f"/app/review/{EDITION}/{OWN}/answers/NTS.02", headers=JSON, data={
        "csrf": csrf, "decision": "accept", "version": answer(world, "NTS.02").version})
    assert accepted.json()["final_points"] == 10.0
    move(app, world, reviewer, "reviewer", "return", "Xem lại chỉ số NTS.04")
    assert state(world) == "returned"

    save(world, "editor", "NTS.04", {"a": "2", "b": "4"})          # fixed: 5 points
    move(app, world, approver, "approver", "submit")
    queue = r.get(f"/app/review/{EDITION}?changed=true", headers=JSON).json()["rows"]
    assert [(q["province_code"], q["changed"]) for q in queue] == [(OWN, 1)]
    move(app, world, reviewer, "reviewer", "start_review")

    screen = r.get(f"/app/review/{EDITION}/{OWN}")
    assert screen.status_code == 200
    diff = re.search(r'<p class="diff".*?<del>(.*?)</del> → <ins>(.*?)</ins>', screen.text, re.S)
    assert diff and ": 3;" in diff.group(1) and ": 2;" in diff.group(2)
    data = r.get(f"/app/review/{EDITION}/{OWN}", headers=JSON).json()
    changed = {a["code"]: a["diff"] for a in data["answers"] if a["diff"]}
    assert list(changed) == ["NTS.04"]

    # adjust to 1 of 4 agencies: 1/4 × 10 max points = 2,5 appraised, self-assessed stays 5
    adjusted = r.post(url, headers=JSON, data={
        "csrf": csrf, "decision": "adjust", "version": answer(world, "NTS.04").version,
        "f_a": "1", "f_b": "4", "reason": "Chỉ một cơ quan có minh chứng"})
    assert adjusted.status_code == 200, adjusted.text
    a = answer(world, "NTS.04")
    assert (a.self_points, a.appraised_points, a.final_points) == (5.0, 2.5, 2.5)
    totals = {t["code"]: t for t in r.get(f"/app/review/{EDITION}/{OWN}", headers=JSON)
              .json()["totals"]}
    assert (totals["NTS"]["self"], totals["NTS"]["final"]) == (15.0, 12.5)
    move(app, world, reviewer, "reviewer", "finish_appraisal")
    move(app, world, reviewer, "reviewer", "approve")
    assert state(world) == "approved"

    _publish_and_check_public(app, world)
    _check_audit(app)


def _publish_and_check_public(app, world) -> None:
    with world.store.transaction() as session:   # every other province approved quickly
        edition = edition_rows.get(session, EDITION)
        session.execute(update(Assessment).where(Assessment.edition_id == edition.id,
                                                 Assessment.province_code != OWN)
                        .values(state="approved"))
    assert TestClient(app).get(f"/editions/{EDITION}").status_code == 404
    admin, csrf = client(app, "admin")
    done = admin.post(f"/app/admin/editions/{EDITION}/publish", data={"csrf": csrf,
                                                                       "password": PASSWORD})
    assert done.status_code == 200, done.text
    with world.store.reading() as session:
        row = edition_rows.get(session, EDITION)
        assert row.status == "published" and row.snapshot_checksum
        assert publication.checksum(row.snapshot) == row.snapshot_checksum
    assert row.snapshot_checksum in done.text
    public = TestClient(app).get(f"/editions/{EDITION}")
    assert public.status_code == 200
    cells = re.search(r'href="/provinces/48\?edition=' + EDITION + r'">.*?data-value="([^"]+)"',
                      public.text, re.S)
    # DTI from the final points: NTS 12,5/100 → 0,0125 (self-assessed would be 15/100 → 0,015)
    assert cells and float(cells.group(1)) == pytest.approx(0.0125)
    assert "0,0125" in public.text


def _check_audit(app) -> None:
    reviewer, _ = client(app, "reviewer")
    page = reviewer.get(f"/app/audit/{EDITION}?province={OWN}&indicator=NTS.04")
    assert page.status_code == 200
    assert "answer.return" in page.text and "Thiếu danh sách cơ quan" in page.text
    export = reviewer.get(f"/app/audit/{EDITION}/export.csv?province={OWN}")
    assert export.status_code == 200
    assert export.headers["content-disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert any(r["action"] == "answer.return" and r["reason"] == "Thiếu danh sách cơ quan"
               for r in rows)
    assert any(r["action"] == "edition.publish" for r in
               csv.DictReader(io.StringIO(reviewer.get(f"/app/audit/{EDITION}/export.csv")
                                          .content.decode("utf-8-sig"))))


def test_audit_is_scoped_to_the_province(app, world):
    save(world, "editor", "NTS.02", {"value": "có"})
    save(world, "other_editor", "NTS.02", {"value": "không"}, province=OTHER)
    editor, _ = client(app, "editor")
    own = editor.get(f"/app/audit/{EDITION}", headers=JSON).json()["entries"]
    assert own and {e["province_code"] for e in own} == {OWN}
    assert editor.get(f"/app/audit/{EDITION}?province={OTHER}").status_code == 403
    assert editor.get(f"/app/audit/{EDITION}/export.csv?province={OTHER}").status_code == 403
    assert editor.get(f"/app/audit/{EDITION}?province={OWN}").status_code == 200
    assert editor.get("/app/audit/no-such-edition").status_code == 404


def test_reviewer_cannot_appraise_outside_review_and_stale_versions_are_refused(app, world):
    save(world, "editor", "NTS.02", {"value": "có"})
    r, csrf = client(app, "reviewer")
    url = f"/app/review/{EDITION}/{OWN}/answers/NTS.02"
    version = answer(world, "NTS.02").version
    draft = r.post(url, data={"csrf": csrf, "decision": "accept", "version": version})
    assert draft.status_code == 403                      # still a draft: nothing to appraise
    move(app, world, client(app, "approver"), "approver", "submit")
    move(app, world, (r, csrf), "reviewer", "start_review")
    stale = r.post(url, headers=JSON, data={"csrf": csrf, "decision": "accept",
                                            "version": version - 1})
    assert stale.status_code == 409
    assert answer(world, "NTS.02").review_status == "pending"
    no_csrf = r.post(url, data={"decision": "accept", "version": version})
    assert no_csrf.status_code == 403
    bad = r.post(url, headers=JSON, data={"csrf": csrf, "decision": "adjust", "version": version,
                                          "f_value": "maybe", "reason": "x"})
    assert bad.status_code == 422 and bad.json()["error"]["problems"][0]["code"] == "answer.not_yes_no"


def _shown_answers(html: str) -> list[str]:
    return re.findall(r'<article class="answer[^"]*" id="a-([^"]+)"', html)


def test_the_appraisal_screen_pages_by_main_indicator_and_filters_what_needs_a_look(app, world):
    """One main indicator per page by default; the filters gather, across every main indicator,
    the answers returned, those changed since the last review and those missing required
    evidence — and a plain verdict post comes back to the filter it was made from."""
    from dti.scoring import illustrative_catalogue

    catalogue = illustrative_catalogue()
    save(world, "editor", "NTS.04", {"a": "3", "b": "4"})
    approver, reviewer = client(app, "approver"), client(app, "reviewer")
    r, csrf = reviewer
    move(app, world, approver, "approver", "submit")
    move(app, world, reviewer, "reviewer", "start_review")
    page = f"/app/review/{EDITION}/{OWN}"

    first = r.get(page).text
    assert _shown_answers(first) == [i.code for i in catalogue.by_main()["NTS"]]
    assert _shown_answers(r.get(f"{page}?section=TCS").text) == [
        i.code for i in catalogue.by_main()["TCS"]]
    needing = [i.code for i in catalogue.items if i.evidence_required]
    assert needing and _shown_answers(r.get(f"{page}?show=missing_evidence").text) == needing

    returned = r.post(f"{page}/answers/NTS.04", follow_redirects=False, data={
        "csrf": csrf, "decision": "return", "version": answer(world, "NTS.04").version,
        "reason": "Thiếu minh chứng", "next": f"{page}?show=missing_evidence"})
    assert returned.headers["location"] == f"{page}?show=missing_evidence#a-NTS.04"
    elsewhere = r.post(f"{page}/answers/NTS.02", follow_redirects=False, data={
        "csrf": csrf, "decision": "accept", "version": answer(world, "NTS.02").version,
        "next": "https://example.org/"})
    assert elsewhere.headers["location"] == f"{page}?item=NTS.02#a-NTS.02"   # never off the app
    only_returned = r.get(f"{page}?show=returned").text
    assert _shown_answers(only_returned) == ["NTS.04"] and "(1)" in only_returned
    assert _shown_answers(r.get(f"{page}?show=changed").text) == []
    assert "Không có câu trả lời nào khớp bộ lọc này." in r.get(f"{page}?show=changed").text

    move(app, world, reviewer, "reviewer", "return", "Xem lại NTS.04")
    save(world, "editor", "NTS.04", {"a": "2", "b": "4"})
    move(app, world, approver, "approver", "submit")
    move(app, world, reviewer, "reviewer", "start_review")
    assert _shown_answers(r.get(f"{page}?show=changed").text) == ["NTS.04"]
