"""The ministry-level and national DTI on the portal: the ministry ranking by group with its year
switcher, each body's profile across the 2025 restructuring, the national page with its chart,
the level switch, the twins against the API, and the static export."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from dti.cli import main
from dti.web import create_app
from test_browser import browser, live_app  # noqa: F401  (Chromium and the served portal)

VIETNAMESE = re.compile("[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]",
                        re.IGNORECASE)
M2021 = "/levels/ministry?edition=dti-ministry-2021"
PAGES = [M2021, "/levels/ministry", "/levels/national", "/levels/ministry/BTC",
         "/levels/ministry/BKHDT", "/levels/ministry/BTTTT"]


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


class Page(HTMLParser):
    """A page's tables by id (body rows: cell texts and links), its visible text (without the
    other-language link, scripts and styles), and the links of its year switcher and level
    switch."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[dict]] = {}
        self.text: list[str] = []
        self.navs: dict[str, list[dict[str, str]]] = {}
        self._table = self._row = self._nav = None
        self._in_head = False
        self._hidden = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "style") or (tag == "a" and a.get("hreflang")):
            self._hidden += 1
        if tag == "nav" and a.get("class") in ("years", "levels"):
            self._nav = a["class"]
            self.navs[self._nav] = []
        elif tag == "table":
            self._table = a.get("id")
            self.tables[self._table] = []
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr" and self._table and not self._in_head:
            self._row = {"cells": [], "links": []}
            self.tables[self._table].append(self._row)
        elif tag == "td" and self._row is not None:
            self._row["cells"].append("")
        if tag == "a" and a.get("href"):
            if self._row is not None:
                self._row["links"].append(a["href"])
            if self._nav:
                self.navs[self._nav].append({"href": a["href"], "current": a.get("aria-current", "")})

    def handle_endtag(self, tag):
        if tag in ("script", "style") or (tag == "a" and self._hidden):
            self._hidden = max(self._hidden - 1, 0)
        if tag == "nav":
            self._nav = None
        elif tag == "thead":
            self._in_head = False
        elif tag == "tr":
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._hidden:
            return
        self.text.append(data)
        if self._row is not None and self._row["cells"]:
            self._row["cells"][-1] += data

    def rows(self, table: str) -> list[list[str]]:
        return [[" ".join(c.split()) for c in r["cells"]] for r in self.tables[table]]


def page(client: TestClient, url: str) -> Page:
    response = client.get(url)
    assert response.status_code == 200, (url, response.text[:300])
    return Page(response.text)


def api(client: TestClient, edition: str) -> dict:
    response = client.get(f"/api/v1/editions/{edition}/results")
    assert response.status_code == 200
    return response.json()


# -- the ministry ranking -------------------------------------------------------------------------

def test_ministry_2021_leads_each_group_as_published_in_vietnamese(client):
    shown = page(client, M2021)
    assert shown.rows("with_public_services")[0][:3] == ["1", "Bộ Tài chính", "0,6321"]
    assert shown.rows("without_public_services")[0][:3] == [
        "1", "Viện Hàn lâm Khoa học và Công nghệ Việt Nam", "0,4736"]
    text = " ".join(shown.text)
    assert "0,4595" in text and "0,2151" in text          # the group averages as published


def test_ministry_2021_in_english_names_every_body_in_english(client):
    shown = page(client, "/en" + M2021)
    assert shown.rows("with_public_services")[0][:3] == ["1", "Ministry of Finance", "0.6321"]
    assert shown.rows("without_public_services")[0][:3] == [
        "1", "Vietnam Academy of Science and Technology", "0.4736"]


def test_a_rank_without_a_published_score_shows_a_dash_never_zero(client):
    rows = page(client, M2021).rows("with_public_services")
    unscored = [r for r in rows if r[2] == "—"]
    assert unscored and all(r[0].isdigit() for r in unscored)
    assert not any(r[2] in ("0", "0,0000") for r in rows)


def test_a_year_without_results_says_what_was_not_published(client):
    text = " ".join(page(client, "/levels/ministry?edition=dti-ministry-2024").text)
    assert "Chưa công bố" in text and "chưa có hạng hay điểm" in text


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_the_year_switcher_goes_to_each_years_ranking(client, prefix):
    links = page(client, prefix + M2021).navs["years"]
    assert [link["current"] for link in links].count("page") == 1
    years = [re.search(r"dti-ministry-(\d{4})", link["href"]).group(1) for link in links]
    assert years == ["2020", "2021", "2022", "2023", "2024"]
    for link in links:
        assert link["href"].startswith(prefix + "/levels/ministry?")
        again = page(client, link["href"]).navs["years"]
        assert next(x["href"] for x in again if x["current"] == "page") == link["href"]


def test_an_unknown_or_national_edition_is_not_a_ministry_ranking(client):
    for edition in ("dti-ministry-1999", "dti-national-2024", "dti-province-2022"):
        assert client.get(f"/levels/ministry?edition={edition}").status_code == 404


# -- a body's profile ---------------------------------------------------------------------------

def test_a_body_profile_lists_its_published_ranks_and_what_it_took_over(client):
    html = client.get("/levels/ministry/BTC").text
    history = {r[0]: r for r in Page(html).rows("history")}
    # rank and score first (a phone shows them without scrolling), then the group
    assert history["2021"][1:4] == ["1", "0,6321", "Bộ, cơ quan có cung cấp dịch vụ công"]
    assert history["2020"][1:4] == ["1", "0,4944", "Bộ, cơ quan có cung cấp dịch vụ công"]
    assert history["2023"][1:3] == ["2", "—"] and "2022" not in history   # not named in 2022
    assert "hanoimoi.vn" in history["2021"][4]
    assert 'href="/levels/ministry/BKHDT"' in html and "từ ngày 1/3/2025" in html


def test_a_merged_body_links_to_what_it_became(client):
    html = client.get("/en/levels/ministry/BKHDT").text
    assert 'href="/en/levels/ministry/BTC"' in html and "Ministry of Finance" in html
    assert "1 March 2025" in html


def test_an_unknown_body_is_not_found(client):
    assert client.get("/levels/ministry/NOPE").status_code == 404
    assert client.get("/levels/ministry/NOPE.json").json()["error"]["status"] == 404


# -- the national page -----------------------------------------------------------------------------

def test_the_national_series_as_published(client):
    rows = {r[0]: r for r in page(client, "/levels/national").rows("national")}
    assert rows["2024"][1].startswith("0,7955") and rows["2023"][1].startswith("0,7326")
    assert rows["2022"][1].startswith("0,71 (như nguồn in)")
    assert rows["2020"][1] == rows["2021"][1] == "chưa công bố"
    assert rows["2021"][2:5] == ["0,4595", "0,2151", "0,4014"]
    assert rows["2024"][1] == "0,7955" and "dantri.com.vn" in rows["2024"][5]


def test_the_chart_is_inline_svg_with_no_mark_for_an_unpublished_year(client):
    html = client.get("/en/levels/national").text
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert "National index, 2024: 0.7955" in svg and "National index, 2023: 0.7326" in svg
    assert "National index, 2020" not in svg and "National index, 2021" not in svg
    assert set(re.findall(r'<script src="([^"]+)"', html)) == {"/static/site.js"}   # no CDN
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")


# -- both languages, the level switch --------------------------------------------------------------

@pytest.mark.parametrize("url", PAGES)
def test_english_pages_carry_no_vietnamese_label(client, url):
    text = " ".join(page(client, "/en" + url).text)
    words = {w for w in text.split() if VIETNAMESE.search(w) and "QĐ-" not in w}
    assert words == set()


@pytest.mark.parametrize("url", ["/", "/en/", "/editions/dti-province-2024", *PAGES])
def test_the_level_switch_leads_to_each_level(client, url):
    links = page(client, url).navs["levels"]
    assert len(links) == 3
    current = [link["href"] for link in links if link["current"]]
    if url.startswith("/levels/"):
        assert current == [next(x["href"] for x in links if url.startswith(x["href"]))]
    for link in links:
        assert client.get(link["href"]).status_code == 200


def test_the_home_page_offers_every_level(client):
    html = client.get("/").text
    home = html[html.index('class="levels-home"'):]
    assert 'href="/levels/ministry"' in home and 'href="/levels/national"' in home


# -- twins --------------------------------------------------------------------------------------

@pytest.mark.parametrize("edition", ["dti-ministry-2020", "dti-ministry-2021", "dti-ministry-2023"])
def test_ministry_twins_agree_with_the_api(client, edition):
    published = {(r["group"], r["code"]): (r["rank"], r["value"])
                 for r in api(client, edition)["results"]}
    twin = client.get(f"/levels/ministry.json?edition={edition}").json()
    assert {(g["group"], r["code"]): (r["rank"], r["value"])
            for g in twin["groups"] for r in g["results"]} == published
    rows = list(csv.DictReader(io.StringIO(
        client.get(f"/levels/ministry.csv?edition={edition}").text.lstrip("\ufeff"))))
    assert {(r["group"], r["code"]): (int(r["rank"]) if r["rank"] else None,
                                      float(r["score"]) if r["score"] else None)
            for r in rows} == published


def test_national_twins_agree_with_the_api(client):
    twin = client.get("/levels/national.json").json()
    rows = list(csv.DictReader(io.StringIO(client.get("/levels/national.csv").text.lstrip("\ufeff"))))
    for entry, row in zip(twin["years"], rows, strict=True):
        results = api(client, entry["edition"])["results"]
        value = results[0]["value"] if results else None
        assert entry["national"] == value
        assert (float(row["national"]) if row["national"] else None) == value
    assert [e["year"] for e in twin["years"]] == [2020, 2021, 2022, 2023, 2024]


def test_a_body_twin_agrees_with_the_api(client):
    twin = client.get("/levels/ministry/BTC.json").json()
    assert twin["took_over"][0]["code"] == "BKHDT"
    for entry in twin["history"]:
        published = next(r for r in api(client, entry["edition"])["results"] if r["code"] == "BTC")
        assert (entry["rank"], entry["score"]) == (published["rank"], published["value"])
    rows = list(csv.DictReader(io.StringIO(client.get("/levels/ministry/BTC.csv").text.lstrip("\ufeff"))))
    assert [r["edition"] for r in rows] == [e["edition"] for e in twin["history"]]


# -- the static export --------------------------------------------------------------------------

def test_the_static_export_holds_the_level_pages(tmp_path, capsys):
    out = tmp_path / "site"
    assert main(["export-site", "--edition", "dti-province-2021", "--out", str(out)]) == 0, \
        capsys.readouterr().err
    ranking = (out / "editions/dti-ministry-2021/levels/ministry/index.html").read_text("utf-8")
    assert "Bộ Tài chính" in ranking and "0,6321" in ranking
    assert (out / "en/editions/dti-ministry-2020/levels/ministry/index.html").exists()
    assert not (out / "editions/dti-ministry-2022").exists()      # not published by then
    national = json.loads((out / "levels/national.json").read_text("utf-8"))
    assert [y["year"] for y in national["years"]] == [2020, 2021]
    assert "0,6321" in (out / "levels/ministry/BTC/index.html").read_text("utf-8")
    assert (out / "en/levels/ministry/BKHDT.csv").exists()


# -- in Chromium ---------------------------------------------------------------------------------

def test_a_reader_walks_to_the_ministries_and_the_nation(browser, live_app):  # noqa: F811
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(live_app + "/")
    page.locator("nav.levels a", has_text="Bộ, cơ quan").click()
    page.locator("nav.years a", has_text="2021").click()
    first = page.locator("#with_public_services tbody tr").first
    assert first.locator("td").nth(1).inner_text() == "Bộ Tài chính"
    assert first.locator("td").nth(2).inner_text() == "0,6321"
    other = page.locator("#without_public_services tbody tr").first
    assert other.locator("td").nth(2).inner_text() == "0,4736"
    first.locator("a", has_text="Bộ Tài chính").click()
    assert page.locator("h1").inner_text() == "Bộ Tài chính"
    page.locator("nav.levels a", has_text="Quốc gia").click()
    national = page.locator("#national").inner_text()
    assert all(v in national for v in ("0,71", "0,7326", "0,7955"))
    page.close()


@pytest.mark.parametrize("lang", ["", "/en"])
def test_no_level_page_is_wider_than_a_375_px_screen(browser, live_app, lang):  # noqa: F811
    page = browser.new_page(viewport={"width": 375, "height": 800})
    wide = {}
    for url in PAGES:
        assert page.goto(live_app + lang + url).status == 200, url
        width, inner = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        if width > inner:
            wide[url] = width
    assert wide == {}, f"wider than 375 px: {wide}"
    page.close()
