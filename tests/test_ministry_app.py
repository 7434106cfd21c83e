"""The assessment app for ministries and government bodies: an edition opened on the ministry
unit set with its own catalogue, filled and submitted by a body's editor and approver, appraised
and approved by the reviewers, its ranking computed within the two groups, every page naming the
body and saying "bộ, cơ quan" where a provincial page says "tỉnh"."""

from __future__ import annotations

import re

import numpy as np
import pytest
from assessment_support import (EDITION, MINISTRY_EDITION, OTHER_BODY, OWN, OWN_BODY, PASSWORD,
                                populate_ministries)
from assessment_support import signed_in as client
from sqlalchemy import select

from dti.editions import base_ids, edition_ids, load_edition, method_ids
from dti.scoring import illustrative_ministry_catalogue
from dti.services import assessments as changes
from dti.services import publication
from dti.services.demo_year import answer_for
from dti.store import edition_rows
from dti.store.models import Assessment, EditionRow
from dti.units import load_unit_set
from dti.units.bodies import body

JSON = {"Accept": "application/json"}


@pytest.fixture
def bodies(world):
    return populate_ministries(world)


def _fill(world, unit: str, quality: float, seed: int) -> None:
    """Every sub-indicator of ``unit`` answered by its editor, through the service (a real save:
    authorised, scored, audited)."""
    rng = np.random.default_rng(seed)
    editor = world.actors["bo_editor" if unit == OWN_BODY else "bo_other_editor"]
    with world.store.transaction() as session:
        for item in illustrative_ministry_catalogue().items:
            changes.save_answer(session, editor, MINISTRY_EDITION, unit, item.code,
                                answer_for(item, quality, rng), 0)


def test_the_ministry_method_is_a_base_not_a_portal_edition():
    assert method_ids() == ("bo-minh-hoa",) and "bo-minh-hoa" in base_ids()
    assert "bo-minh-hoa" not in edition_ids()         # never listed on the portal
    method = load_edition("bo-minh-hoa")
    assert method.unit_set == "ministries-2025" and method.published == ()
    assert method.framework.id == illustrative_ministry_catalogue().framework_id
    assert method.recipe.rank.groups == ("group",)


def test_an_edition_on_the_ministry_method_assesses_every_body_of_2025(bodies):
    with bodies.store.reading() as session:
        row = edition_rows.get(session, MINISTRY_EDITION)
        units = sorted(session.scalars(select(Assessment.province_code).where(
            Assessment.edition_id == row.id)))
    assert row.unit_set == "ministries-2025" and row.illustrative
    assert units == sorted(load_unit_set("ministries-2025").codes)
    assert "BKHDT" not in units and "BNNMT" in units   # merged in March 2025; formed then


def test_a_body_is_filled_submitted_appraised_and_approved_as_a_province_is(app, bodies):
    _fill(bodies, OWN_BODY, 0.8, 1)
    item = illustrative_ministry_catalogue().items[0]
    editor, e_csrf = client(app, "bo_editor")
    page = editor.get(f"/app/{MINISTRY_EDITION}/{OWN_BODY}")
    assert page.status_code == 200 and "Bộ Tài chính" in page.text
    with bodies.store.reading() as session:
        version = session.scalar(select(Assessment.version).join(EditionRow).where(
            EditionRow.code == MINISTRY_EDITION, Assessment.province_code == OWN_BODY))
    approver, a_csrf = client(app, "bo_approver")
    submitted = approver.post(f"/app/{MINISTRY_EDITION}/{OWN_BODY}/transition", headers={
        **JSON, "x-csrf-token": a_csrf}, data={"action": "submit", "version": str(version)})
    assert submitted.status_code == 200 and submitted.json()["state"] == "submitted"
    # the editor can no longer change an answer of a submitted assessment
    assert editor.post(f"/app/{MINISTRY_EDITION}/{OWN_BODY}/answers/{item.code}", headers={
        **JSON, "x-csrf-token": e_csrf}, data={"version": "1"}).status_code == 403

    reviewer, r_csrf = client(app, "reviewer")
    queue = reviewer.get(f"/app/review/{MINISTRY_EDITION}", headers=JSON).json()
    assert {r["province_code"] for r in queue["rows"]} == set(load_unit_set("ministries-2025").codes)
    headers = {**JSON, "x-csrf-token": r_csrf}
    state = reviewer.post(f"/app/{MINISTRY_EDITION}/{OWN_BODY}/transition", headers=headers,
                          data={"action": "start_review"}).json()
    assert state["state"] == "in_review"
    with bodies.store.transaction() as session:
        for answer in illustrative_ministry_catalogue().items:
            changes.appraise_answer(session, bodies.actors["reviewer"], MINISTRY_EDITION, OWN_BODY,
                                    answer.code, 1, "accept")
    assert reviewer.post(f"/app/{MINISTRY_EDITION}/{OWN_BODY}/transition", headers=headers,
                         data={"action": "finish_appraisal"}).json()["state"] == "appraised"
    second, s_csrf = client(app, "reviewer2")
    approved = second.post(f"/app/{MINISTRY_EDITION}/{OWN_BODY}/transition",
                           headers={**JSON, "x-csrf-token": s_csrf}, data={"action": "approve"})
    assert approved.json()["state"] == "approved"
    # the body's trail, read by its own editor, holds the whole way
    trail = editor.get(f"/app/audit/{MINISTRY_EDITION}", headers=JSON).json()
    actions = [line["action"] for line in trail["entries"]]
    for step in ("assessment.submit", "assessment.start_review", "assessment.finish_appraisal",
                 "assessment.approve"):
        assert step in actions
    assert {line["province_code"] for line in trail["entries"]} == {OWN_BODY}


def test_bodies_are_ranked_within_their_group(app, bodies):
    """The computed ranking: by hand, each body's rank in its group is one plus the number of
    bodies of the same group with a higher score (at four decimals)."""
    for n, unit in enumerate((OWN_BODY, OTHER_BODY)):
        _fill(bodies, unit, (0.9, 0.4)[n], n)
    reviewer, _ = client(app, "reviewer")
    rows = reviewer.get(f"/app/admin/editions/{MINISTRY_EDITION}/results", headers=JSON).json()["rows"]
    assert len(rows) == 17
    for row in rows:
        assert row["group"] == body(row["province_code"]).group
        if not row["group"] or row["DTI"] is None:
            assert row["group_rank"] is None
            continue
        better = [r for r in rows if r["group"] == row["group"] and r["DTI"] is not None
                  and round(r["DTI"], 4) > round(row["DTI"], 4)]
        assert row["group_rank"] == 1 + len(better)
    scored = {r["province_code"]: r for r in rows if r["DTI"] is not None}
    # Bộ Tài chính and the State Bank are both with public services: the better one is first
    assert body(OWN_BODY).group == body(OTHER_BODY).group == "with_public_services"
    assert (scored[OWN_BODY]["group_rank"], scored[OTHER_BODY]["group_rank"]) == (1, 2)
    page = reviewer.get(f"/app/admin/editions/{MINISTRY_EDITION}/results").text
    assert "Hạng trong nhóm" in page and "Bộ, cơ quan có cung cấp dịch vụ công" in page


def test_a_ministry_edition_is_not_published_onto_the_provinces_pages(app, bodies):
    with bodies.store.transaction() as session:
        session.execute(Assessment.__table__.update().where(Assessment.edition_id == select(
            EditionRow.id).where(EditionRow.code == MINISTRY_EDITION).scalar_subquery()).values(
            state="approved"))
    admin, csrf = client(app, "admin")
    refused = admin.post(f"/app/admin/editions/{MINISTRY_EDITION}/publish", headers={
        **JSON, "x-csrf-token": csrf}, data={"password": PASSWORD})
    assert refused.status_code == 409 and "ministries" in refused.json()["error"]["message"]
    with bodies.store.reading() as session:
        assert edition_rows.get(session, MINISTRY_EDITION).status == "open"
        assert publication.published_editions(session) == []


def test_pages_name_the_body_and_say_bo_co_quan(app, bodies):
    editor, _ = client(app, "bo_editor")
    page = editor.get(f"/app/{MINISTRY_EDITION}/{OWN_BODY}").text
    header = re.search(r'<span class="who".*?</span></span>', page, re.S).group(0)
    assert "Cán bộ nhập liệu (bộ, cơ quan)" in header and "Bộ Tài chính" in header
    assert "Ghi chú của bộ, cơ quan" in page and "Dung lượng minh chứng của bộ, cơ quan" in page
    assert "Ghi chú của tỉnh" not in page and "của tỉnh" not in page
    english = editor.get("/app/lang/en", follow_redirects=False)
    assert english.status_code in (303, 307)
    page_en = editor.get(f"/app/{MINISTRY_EDITION}/{OWN_BODY}").text
    assert "Ministry of Finance" in page_en and "Ministry editor" in page_en
    assert "province" not in re.sub(r"<[^>]+>", " ", page_en).lower()
    # a provincial page keeps its words
    province, _ = client(app, "editor")
    own = province.get(f"/app/{EDITION}/{OWN}").text
    assert "Dung lượng minh chứng của tỉnh" in own and "Cán bộ nhập liệu (tỉnh)" in own
    assert "bộ, cơ quan" not in own


def test_each_user_starts_in_an_edition_of_their_own_level(app, bodies):
    """The ministry edition is the newest (2025); a province's editor still lands on theirs."""
    for user, target in (("editor", f"/app/{EDITION}/{OWN}"),
                         ("bo_editor", f"/app/{MINISTRY_EDITION}/{OWN_BODY}")):
        c, _ = client(app, user)
        assert c.get("/app/", follow_redirects=False).headers["location"] == target
    reviewer, _ = client(app, "reviewer")
    home = reviewer.get("/app/", follow_redirects=False).headers["location"]
    queue = reviewer.get(home).text
    other = EDITION if home == f"/app/review/{MINISTRY_EDITION}" else MINISTRY_EDITION
    with bodies.store.reading() as session:
        name = edition_rows.get(session, other).name_vi
    assert f'href="/app/review/{other}"' in queue and name in queue   # the other edition, linked


def test_the_admin_opens_a_ministry_edition_and_adds_its_users(app, world):
    admin, csrf = client(app, "admin")
    form = admin.get("/app/admin").text
    assert '<option value="bo-minh-hoa">' in form
    made = admin.post("/app/admin/editions/new", data={
        "csrf": csrf, "code": "dti-bo-2026", "year": "2026", "name_vi": "DTI cấp bộ 2026",
        "base_edition": "bo-minh-hoa", "source": "illustrative"}, follow_redirects=False)
    assert made.status_code == 303, made.text
    with world.store.reading() as session:
        row = edition_rows.get(session, "dti-bo-2026")
        assert row.catalogue["id"] == "dti-bo-minh-hoa" and row.unit_set == "ministries-2025"
    unknown = admin.post("/app/admin/editions/new", headers=JSON, data={
        "csrf": csrf, "code": "dti-x", "year": "2026", "name_vi": "X", "base_edition": "dti-bo-9999",
        "source": "illustrative"})
    assert unknown.status_code == 422
    assert [p["code"] for p in unknown.json()["error"]["problems"]] == ["admin.unknown_base"]
    no_catalogue = admin.post("/app/admin/editions/new", headers=JSON, data={
        "csrf": csrf, "code": "dti-x", "year": "2024", "name_vi": "X",
        "base_edition": "dti-province-2024", "source": "illustrative"})
    assert [p["code"] for p in no_catalogue.json()["error"]["problems"]] == ["admin.no_illustrative"]
    added = admin.post("/app/admin/users/new", data={
        "csrf": csrf, "username": "vast_editor", "password": "mat-khau-dai-1",
        "role": "province_editor", "province_code": "VAST"}, follow_redirects=False)
    assert added.status_code == 303
    listing = admin.get("/app/admin").text
    row = re.search(r'<tr data-user="vast_editor">.*?</tr>', listing, re.S).group(0)
    assert "Cán bộ nhập liệu (bộ, cơ quan)" in row and "Viện Hàn lâm Khoa học và Công nghệ Việt Nam" in row
    wrong = admin.post("/app/admin/users/new", headers=JSON, data={
        "csrf": csrf, "username": "x_editor", "password": "mat-khau-dai-1",
        "role": "province_editor", "province_code": "XYZ"})
    assert wrong.status_code == 409 and "XYZ" in wrong.json()["error"]["message"]


def test_a_body_round_trips_its_answers_through_excel(app, bodies):
    """The body's workbook names the body and the ministry level; filled in and imported, the
    answers land in the body's assessment, and a province's workbook is refused there."""
    import io

    import openpyxl
    from test_assessment_app_import import fill, sample_values, upload

    from dti.io.assessment_xlsx import COVER

    editor, csrf = client(app, "bo_editor")
    base = f"/app/{MINISTRY_EDITION}/{OWN_BODY}"
    template = editor.get(f"{base}/template.xlsx")
    cover = openpyxl.load_workbook(io.BytesIO(template.content))[COVER]
    assert "cấp bộ" in cover["A1"].value
    assert (cover["A5"].value, cover["B5"].value, cover["B6"].value) == (
        "Mã bộ, cơ quan / Body code", OWN_BODY, "Bộ Tài chính")
    items = illustrative_ministry_catalogue().items[:4]
    data = fill(template.content, {i.code: sample_values(i) for i in items})
    preview = upload(editor, csrf, data, json_reply=True, base=base)
    assert preview.status_code == 200, preview.text
    applied = editor.post(f"{base}/import/apply", data={"csrf": csrf, "sha256": preview.json()["sha256"],
                                                        "filename": "phieu.xlsx"}, follow_redirects=False)
    assert applied.status_code == 303
    from dti.store.access import find
    from dti.store.models import Answer

    with bodies.store.reading() as session:
        _, assessment = find(session, MINISTRY_EDITION, OWN_BODY)
        answered = set(session.scalars(select(Answer.indicator_code).where(
            Answer.assessment_id == assessment.id, Answer.self_value.is_not(None))))
    assert answered == {i.code for i in items}
    province, _ = client(app, "editor")
    theirs = province.get(f"/app/{EDITION}/{OWN}/template.xlsx").content
    refused = upload(editor, csrf, theirs, json_reply=True, base=base)
    assert refused.status_code == 422
    assert {p["code"] for p in refused.json()["error"]["problems"]} >= {"import.wrong_edition"}
