"""Every published figure with its sources (API, twins, pages), the rank map, the national PDF's
top ten by published rank, a province's story across editions, and the audit of the record."""

from __future__ import annotations

import io
import re

import pytest
from fastapi.testclient import TestClient

from dti.web import create_app
from test_browser import browser  # noqa: F401  (the suite's Chromium fixture)
from assessment_support import serving
from dti.web.reports import national_report
from dti.web.snapshot import Catalogue

E2020, E2021, E2022 = "dti-province-2020", "dti-province-2021", "dti-province-2022"


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def test_api_province_figures_carry_their_sources(client):
    j = client.get(f"/api/v1/editions/{E2021}/provinces/19").json()
    assert (j["rank"], j["value"], j["previous_rank"], j["change"]) == (8, 0.496, 12, 4)
    assert any(s["measure"] == "rank_change" and "4" in s["quote"] for s in j["change_sources"])
    figures = {f["code"]: f for f in j["figures"]}
    for code, value, rank in (("CQS", 0.5496, 9), ("KTS", 0.5364, 5), ("XHS", 0.5137, 8)):
        f = figures[code]
        assert (f["value"], f["rank"]) == (value, rank)
        chosen = {s["measure"]: s for s in f["sources"] if s["chosen"]}
        assert set(chosen) == {f"score_{code.lower()}", f"rank_{code.lower()}"}
        assert all(s["url"].startswith("https://dti.gov.vn") and s["source_class"] == "official"
                   and not s["third_party"] for s in chosen.values())


def test_api_2020_ranks_and_dated_names(client):
    r2020 = client.get(f"/api/v1/editions/{E2020}/results").json()
    assert sum(r["rank"] is not None for r in r2020["results"]) >= 14
    # a figure read from a third-party compilation says so
    hue = next(r for r in r2020["results"] if r["code"] == "46")
    assert any(s["third_party"] and s["source_class"] == "third_party"
               for s in hue["figures"]["DTI"]["sources"])
    r2022 = client.get(f"/api/v1/editions/{E2022}/results").json()
    assert next(r for r in r2022["results"] if r["code"] == "46")["name_vi"] == "Thừa Thiên Huế"
    assert "Thừa Thiên Huế" in client.get(f"/editions/{E2022}").text


def test_csv_twins_have_a_source_column(client):
    ranking = client.get(f"/editions/{E2021}.csv").text.splitlines()
    assert ranking[0].split(",")[-1] == "sources"
    thai_nguyen = next(line for line in ranking if line.startswith("19,"))
    assert "https://dti.gov.vn/ (official)" in thai_nguyen
    profile = client.get(f"/provinces/19.csv?edition={E2021}").text
    assert "sources" in profile.splitlines()[0] and "score_cqs: https://dti.gov.vn/" in profile


def _svg(html: str) -> str:
    return re.findall(r"<svg\b.*?</svg>", html, flags=re.S)[0]


def test_rank_map_colours_every_2022_province(client):
    page = client.get(f"/editions/{E2022}/map?show=rank")
    assert page.status_code == 200
    fills = dict(re.findall(r'href="/provinces/(\d+)\?[^"]*"[^>]*><path [^>]*fill="([^"]+)"', _svg(page.text)))
    assert len(fills) == 63 and "#b9b9b9" not in fills.values()   # none grey
    assert len(set(fills.values())) == 5 and fills["48"] == "#225aa5"  # rank 1 in the darkest class
    for label in ("1–12", "51–63"):
        assert f">{label}</text>" in page.text
    # the switch is a link; 2022 publishes more ranks than scores, so its map opens by rank
    score = client.get(f"/editions/{E2022}/map?show=score").text
    assert f'href="/editions/{E2022}/map?indicator=DTI"' in score
    assert "Theo hạng công bố" in score and "By published rank" in client.get(f"/en/editions/{E2022}/map").text
    assert client.get(f"/editions/{E2022}/map?show=nonsense").status_code == 404


def test_national_pdf_top_ten_by_published_rank():
    pypdf = pytest.importorskip("pypdf", reason="pypdf reads the PDF's text")
    pdf = national_report(Catalogue.shipped(only=(E2021, E2022)), E2022, "vi")
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    top = text[text.index("10 tỉnh, thành phố dẫn đầu"):text.index("Bảng xếp hạng đầy đủ")]
    for province in ("Lạng Sơn", "Bắc Ninh", "Thái Nguyên", "Bắc Giang", "Nam Định"):
        assert province in top
    assert "Trà Vinh" not in top
    assert "51–63" in text   # the map's colour legend is drawn


def test_story_of_thai_nguyen(client):
    page = client.get("/provinces/19/story")
    assert page.status_code == 200
    data = client.get("/provinces/19/story.json").json()
    ranks = {(e["year"], e["basis"]): e["figures"][0]["rank"] for e in data["entries"]}
    assert ranks[2020, "provinces-63"] == 12 and ranks[2021, "provinces-63"] == 8
    assert ranks[2022, "provinces-63"] == 8
    y2021 = next(e for e in data["entries"] if e["year"] == 2021)
    assert [(f["code"], f["rank"]) for f in y2021["figures"]] == [("DTI", 8), ("CQS", 9), ("KTS", 5), ("XHS", 8)]
    assert all(f["sources"] for f in y2021["figures"])
    assert "thainguyentv.vn" in page.text and 'href="https://dti.gov.vn/"' in page.text
    assert "Digital transformation story" in client.get("/en/provinces/19/story").text
    assert client.get("/provinces/19/story.csv").text.lstrip("\ufeff").startswith("year,")
    assert client.get("/provinces/99/story").status_code == 404
    # a rank the record derives from a stated change is shown as derived, with its source
    bac_kan = client.get("/provinces/06/story.json").json()["entries"][0]
    assert bac_kan["year"] == 2020 and bac_kan["figures"][0]["rank"] == 59
    assert "tăng 8 bậc" in bac_kan["figures"][0]["derived"]
    assert [s["kind"] for s in bac_kan["figures"][0]["sources"]] == ["derived_from_change"]
    assert "suy ra từ" in client.get("/provinces/06/story").text


def test_record_page_lists_the_failing_checks_with_sources(client):
    page = client.get("/record")
    assert page.status_code == 200
    failing = page.text[page.text.index("Không đạt</h2>"):page.text.index("Đạt</h2>")]
    assert "Yên Bái" in failing and "Tuyên Quang" in failing
    assert "yenbai.gov.vn" in failing and "tuyenquang.gov.vn" in failing
    data = client.get("/record.json").json()
    fails = {(f["check"], f["year"], tuple(f["names"])) for f in data["findings"] if not f["holds"]}
    assert fails == {("rank_change", 2021, ("Yên Bái",)), ("foundation", 2023, ("Tuyên Quang",))}
    assert all(f["sources"] for f in data["findings"])
    assert "Audit of the published record" in client.get("/en/record").text


def test_record_page_is_linked_from_every_page(client):
    assert 'href="/record"' in client.get(f"/editions/{E2022}").text
    assert 'href="/en/record"' in client.get(f"/en/editions/{E2022}").text


def test_static_export_keeps_the_rank_map_apart():
    from dti.web.export import Scheme

    scheme = Scheme(Catalogue.shipped(only=(E2022,)))
    rank, _, _ = scheme.split(f"http://x/editions/{E2022}/map?indicator=DTI&show=rank")
    score, _, _ = scheme.split(f"http://x/editions/{E2022}/map?indicator=DTI&show=score")
    plain, _, _ = scheme.split(f"http://x/editions/{E2022}/map")
    assert rank == plain != score   # 2022's map opens by rank (more ranks than scores published)
    assert Scheme.file(score, "text/html") == f"editions/{E2022}/map/by-score/index.html"


def test_new_pages_in_chromium_break_no_policy_and_link_through(browser):  # noqa: F811
    """Real Chromium: the story, the record and the rank map load under the strict policy, the
    story's chart is drawn, and the record's province links reach the story."""
    with serving(create_app()) as base:
        context = browser.new_context(viewport={"width": 375, "height": 800})
        tab = context.new_page()
        refused: list[str] = []
        tab.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
        for path in ("/provinces/19/story", "/en/record", f"/editions/{E2022}/map?show=rank"):
            assert tab.goto(base + path).status == 200
        tab.goto(base + "/record")
        tab.click("text=Yên Bái")
        assert tab.url.endswith("/provinces/15/story")
        assert tab.locator("figure.chart svg").count() == 1
        context.close()
    assert refused == []
