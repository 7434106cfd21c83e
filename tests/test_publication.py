"""Publication freezes an edition: framework and recipe as data, the inputs, the results and one
checksum; recomputing from the snapshot alone gives the same bytes, and a changed number is
caught."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import update
from assessment_support import EDITION, OWN, PASSWORD, populate

from dti.services import assessments as changes
from dti.errors import Conflict, NotAllowed
from dti.scoring import illustrative_catalogue
from dti.services import publication
from dti.services.edition_setup import create_edition
from dti.store import edition_rows
from dti.store.models import Assessment, EditionRow

CAT = illustrative_catalogue()


def _approve_all(store):
    with store.transaction() as session:
        session.execute(update(Assessment).values(state="approved"))


def test_publication_freezes_and_recomputes_to_the_same_checksum(store):
    world = populate(store)
    yesno = next(i for i in CAT.items if i.rule.kind == "yesno")
    with store.transaction() as session:
        changes.save_answer(session, world.actors["editor"], EDITION, OWN, yesno.code,
                                {"value": "có"}, 0)
    _approve_all(store)
    with store.transaction() as session:
        row = publication.publish(session, world.actors["admin"], EDITION, PASSWORD)
        snapshot, stored = row.snapshot, row.snapshot_checksum
    with store.reading() as session:
        row = edition_rows.get(session, EDITION)
        assert row.status == "published" and row.snapshot_checksum == stored
        assert publication.verify(row.snapshot, stored)
        frozen = publication.published_editions(session)[0]
    assert snapshot["framework"]["id"] == "qd-922-btttt"
    assert snapshot["values"][OWN][yesno.main_code] == pytest.approx(
        yesno.max_points / next(m.max_points for m in CAT.mains if m.code == yesno.main_code))
    assert snapshot["scores"]["DTI"][OWN] == pytest.approx(yesno.max_points / 1000)
    assert frozen.results().score("DTI", OWN) == pytest.approx(yesno.max_points / 1000)
    assert frozen.illustrative and "MINH HOẠ" in frozen.note

    tampered = copy.deepcopy(row.snapshot)
    tampered["scores"]["DTI"][OWN] = 0.9
    assert not publication.verify(tampered, stored)
    inputs_changed = copy.deepcopy(row.snapshot)
    inputs_changed["values"][OWN][yesno.main_code] = 1.0
    assert not publication.verify(inputs_changed, publication.checksum(inputs_changed))


def test_publication_refuses_an_edition_with_provinces_not_approved_and_changes_nothing(store):
    world = populate(store)
    with store.transaction() as session:
        session.execute(update(Assessment).where(Assessment.province_code != OWN)
                        .values(state="approved"))
    with pytest.raises(Conflict) as refused:
        with store.transaction() as session:
            publication.publish(session, world.actors["admin"], EDITION, PASSWORD)
    assert refused.value.context["pending"] == [OWN]
    with pytest.raises(NotAllowed):
        with store.transaction() as session:
            publication.publish(session, world.actors["reviewer"], EDITION, PASSWORD)
    with store.reading() as session:
        row = session.query(EditionRow).one()
        assert row.status == "open" and row.snapshot is None


def test_a_published_edition_carries_its_uncertainty_analysis_to_the_profile_page(store):
    from fastapi.testclient import TestClient

    from dti.web.app import create_app
    from dti.web.settings import Settings

    world = populate(store)
    with store.transaction() as session:   # distinct totals: province i earns i points on NTS.04
        from dti.store.models import Answer
        session.execute(update(Assessment).values(state="approved"))
        for n, a in enumerate(session.query(Assessment).order_by(Assessment.province_code)):
            session.execute(update(Answer).where(Answer.assessment_id == a.id,
                                                 Answer.indicator_code.in_(("NTS.04", "HDCQS.01")))
                            .values(final_points=float(n % 10)))
        publication.publish(session, world.actors["admin"], EDITION, PASSWORD)
    with store.reading() as session:
        snapshot = edition_rows.get(session, EDITION).snapshot
    analysis = snapshot["uncertainty"]
    assert analysis["runs"] == 1000 and analysis["spec"]["seed"] == 2022
    for unit in analysis["units"].values():
        assert 1 <= unit["p05"] <= unit["median"] <= unit["p95"] <= 63
    own = analysis["units"][OWN]
    page = TestClient(create_app(Settings(), store=store)).get(f"/provinces/{OWN}?edition={EDITION}")
    assert page.status_code == 200
    assert f'data-p05="{own["p05"]}"' in page.text and "Khoảng hạng (5–95 %)" in page.text
    assert "±25 %" in page.text and "1.000 lần chạy" in page.text


def test_an_edition_compared_with_the_previous_one_explains_what_moved_the_score(store):
    """Edition B names A as its previous edition: the profile shows the rank change and, per main
    indicator, what its change added to the total — Δ points ÷ 1000, summing to Δ total."""
    from fastapi.testclient import TestClient

    from dti.store.models import Answer
    from dti.web.app import create_app
    from dti.web.settings import Settings

    world = populate(store)
    admin = world.actors["admin"]

    def publish(code: str, points: dict[str, float]) -> None:
        with store.transaction() as session:
            edition = edition_rows.get(session, code)
            ids = [a.id for a in session.query(Assessment).filter_by(edition_id=edition.id)]
            session.execute(update(Assessment).where(Assessment.id.in_(ids)).values(state="approved"))
            for n, a in enumerate(session.query(Assessment).filter_by(edition_id=edition.id)
                                  .order_by(Assessment.province_code)):
                session.execute(update(Answer).where(Answer.assessment_id == a.id,
                                                     Answer.indicator_code == "TCS.01")
                                .values(final_points=float(n % 7)))
                if a.province_code == OWN:
                    for code_, value in points.items():
                        session.execute(update(Answer).where(Answer.assessment_id == a.id,
                                                             Answer.indicator_code == code_)
                                        .values(final_points=value))
            publication.publish(session, admin, code, PASSWORD)

    publish(EDITION, {"NTS.04": 5.0})
    with store.transaction() as session:
        create_edition(session, admin, CAT, "dti-test-2023", 2023, "Kỳ thử nghiệm 2023",
                                "Test edition 2023", previous=EDITION)
    publish("dti-test-2023", {"NTS.04": 10.0, "HDCQS.01": 2.0})
    client = TestClient(create_app(Settings(), store=store))
    body = client.get(f"/provinces/{OWN}.json?edition=dti-test-2023").json()
    moved = {row["code"]: row["contribution"] for row in body["score_change"]}
    assert moved["NTS"] == pytest.approx(0.005) and moved["HDCQS"] == pytest.approx(0.002)
    assert sum(moved.values()) == pytest.approx(0.007)
    assert body["previous_edition"] == EDITION and body["change"] is not None
    html = client.get(f"/provinces/{OWN}?edition=dti-test-2023").text
    assert "Điều gì làm điểm thay đổi so với kỳ trước" in html and "+0,0050" in html
    with pytest.raises(Conflict):
        with store.transaction() as session:
            create_edition(session, admin, CAT, "dti-test-2024", 2024, "x", "x",
                                    previous="no-such-edition")


def test_the_static_export_carries_an_edition_published_from_the_store(store, tmp_path):
    from dti.web.export import export_site

    world = populate(store)
    _approve_all(store)
    with store.transaction() as session:
        publication.publish(session, world.actors["admin"], EDITION, PASSWORD)
    report = export_site(tmp_path / "site", EDITION, database_url=store.url)
    assert EDITION in report.editions and not report.broken
    pages = list((tmp_path / "site").rglob("*.html"))
    ranking = next(p for p in pages if EDITION in str(p) and p.name == "index.html"
                   and p.parent.name == EDITION)
    assert "MINH HOẠ" in ranking.read_text(encoding="utf-8")
    assert any(p.name == "48.json" or "48" in p.parts for p in (tmp_path / "site").rglob("*"))
