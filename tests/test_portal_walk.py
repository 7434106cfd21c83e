"""A portal a reader can walk: a home page offering every edition, a year switcher on every
edition page that keeps the kind of page, rank changes read as words as well as arrows, a legend
for "(8)" and for recomputed values, method pages in English on /en, and no page wider than a
375 px screen (Chromium)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from dti.editions import edition_ids, load_edition
from dti.web import create_app
from dti.web.snapshot import Catalogue
from test_browser import SHOTS, browser, live_app  # noqa: F401  (Chromium and the served portal)

E2020, E2021, E2022, E2024 = (f"dti-province-{y}" for y in (2020, 2021, 2022, 2024))
YEARS = [load_edition(e).year for e in edition_ids()]
VIETNAMESE = re.compile("[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]",
                        re.IGNORECASE)


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


class Links(HTMLParser):
    """The links of a page, and those of its year switcher (with the current one)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.links: list[str] = []
        self.years: dict[str, str] = {}
        self.current: str | None = None
        self._in_years = False
        self._href: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "nav" and "years" in (a.get("class") or ""):
            self._in_years = True
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
            if self._in_years:
                self._href = a["href"]
                if a.get("aria-current") == "page":
                    self.current = a["href"]

    def handle_data(self, data):
        if self._href and data.strip():
            self.years[data.strip()] = self._href
            self._href = None

    def handle_endtag(self, tag):
        if tag == "nav":
            self._in_years = False


def _main(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.split("<main>", 1)[1].split("</main>")[0]))


# ---------------------------------------------------------------- the home page


@pytest.mark.parametrize("url, lang", [("/", "vi"), ("/en/", "en")])
def test_home_says_what_the_dti_is_and_links_every_edition(client, url, lang):
    response = client.get(url, follow_redirects=False)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    prefix = "/en" if lang == "en" else ""
    links = Links(response.text).links
    for year in YEARS:
        e = f"dti-province-{year}"
        for page in ("", "/map", "/method"):
            assert f"{prefix}/editions/{e}{page}" in links, (year, page)
        assert f"{prefix}/reports/editions/{e}.pdf" in links
    text = _main(response.text)
    assert ("Chỉ số chuyển đổi số cấp tỉnh (DTI) đo mức độ" in text if lang == "vi"
            else "measures how far each province" in text)
    # the timeline states the framework and how many ranks each basis has published
    assert ("21/63 hạng đã công bố" if lang == "vi" else "21 of 63 ranks published") in text
    assert "922/QĐ-BTTTT" in text and "405/QĐ-BKHCN" in text
    # the latest edition's leaders, on its own basis
    latest = Catalogue.shipped().ranking(max(edition_ids()))
    first = next(r for r in latest.rows if r.rank == 1)
    assert (first.name_en if lang == "en" else first.name_vi) in text


def test_the_static_export_starts_at_the_home_page_and_holds_every_edition(tmp_path):
    from dti.cli import main

    out = tmp_path / "site"
    assert main(["export-site", "--out", str(out), "--all"]) == 0
    home = (out / "index.html").read_text(encoding="utf-8")
    assert 'http-equiv="refresh"' not in home
    for year in YEARS:
        assert f'href="editions/dti-province-{year}/index.html"' in home, year
        assert (out / f"editions/dti-province-{year}/index.html").is_file()
    english = (out / "en/index.html").read_text(encoding="utf-8")
    for year in YEARS:
        assert f'href="editions/dti-province-{year}/method/index.html"' in english, year
        assert (out / f"en/editions/dti-province-{year}/method/index.html").is_file()


# ---------------------------------------------------------------- the year switcher


def _switch(client, url):
    page = Links(client.get(url).text)
    assert sorted(page.years) == [str(y) for y in YEARS], url
    return page


@pytest.mark.parametrize("url, year, expected", [
    (f"/editions/{E2022}", "2021", f"/editions/{E2021}"),
    (f"/en/editions/{E2022}/map", "2020", f"/en/editions/{E2020}/map"),
    (f"/editions/{E2022}/method", "2024", f"/editions/{E2024}/method"),
    (f"/editions/{E2022}/map?indicator=KTS", "2021", f"/editions/{E2021}/map?indicator=KTS"),
    (f"/editions/{E2022}/map?indicator=NTS", "2020", f"/editions/{E2020}/map"),
    (f"/editions/{E2022}/indicators/NTS", "2024", f"/editions/{E2024}/indicators/NTS"),
    # the 2020 framework has no NTS: its ranking instead
    (f"/editions/{E2022}/indicators/NTS", "2020", f"/editions/{E2020}"),
    (f"/provinces/19?edition={E2022}", "2021", f"/provinces/19?edition={E2021}"),
    # 2024 is published on 63 units too: Bắc Kạn (06) keeps its basis there
    (f"/provinces/06?edition={E2022}", "2024", f"/provinces/06?edition={E2024}&basis=provinces-63"),
    # Thái Nguyên of the 34 units (with Bắc Kạn since 2025): back to 63 units, the same code
    # from the 34 units back to 63: the same code first
    (f"/provinces/19?edition={E2024}", "2022", f"/provinces/19?edition={E2022}"),
    (f"/compare?edition={E2022}&units=01,48", "2021", f"/compare?units=01%2C48&edition={E2021}"),
])
def test_the_year_switcher_keeps_the_kind_of_page(client, url, year, expected):
    page = _switch(client, url)
    assert page.years[year] == expected
    assert client.get(expected).status_code == 200


def test_the_year_switcher_marks_the_year_shown(client):
    assert Links(client.get(f"/editions/{E2021}").text).current == f"/editions/{E2021}"
    assert Links(client.get(f"/en/editions/{E2022}/method").text).current == f"/en/editions/{E2022}/method"


def test_the_compare_form_keeps_its_edition(client):
    html = client.get(f"/compare?edition={E2022}").text
    form = html.split('<form method="get" class="filters">', 1)[1].split("</form>")[0]
    assert f'<input type="hidden" name="edition" value="{E2022}">' in form
    # what that form submits stays on 2022
    assert "năm 2022" in _main(client.get(f"/compare?edition={E2022}&units=01&units=48").text)


# ---------------------------------------------------------------- ranks, marks and legends


def test_rank_changes_are_shown_with_words_where_both_ranks_are_published(client):
    html = client.get(f"/editions/{E2021}").text
    row = html.split('data-name="thai nguyen"', 1)[1].split("</tr>", 1)[0]
    assert 'data-previous="12"' in row
    assert re.search(r'<span class="up" aria-hidden="true">▲4</span><span class="vh">tăng 4 bậc</span>', row)
    en = client.get(f"/en/editions/{E2021}").text.split('data-name="thai nguyen"', 1)[1].split("</tr>")[0]
    assert '<span class="vh">up 4 places</span>' in en
    # Cần Thơ: 7 → 15
    can_tho = html.split('data-name="can tho"', 1)[1].split("</tr>")[0]
    assert "▼8" in can_tho and "giảm 8 bậc" in can_tho
    # the profile and the comparison carry the same change
    assert "tăng 4 bậc" in client.get(f"/provinces/19?edition={E2021}").text
    assert "tăng 4 bậc" in client.get(f"/compare?edition={E2021}&units=19,48").text


@pytest.mark.parametrize("url", [f"/editions/{E2021}", f"/provinces/19?edition={E2021}",
                                 f"/compare?edition={E2021}&units=19,48"])
def test_the_ranking_profile_and_compare_pages_explain_their_marks(client, url):
    text = _main(client.get(url).text)
    assert "(8): hạng đã công bố khi điểm chưa được công bố" in text
    assert "*: giá trị tính lại từ các chỉ số đã công bố" in text
    en = _main(client.get("/en" + url).text)
    assert "(8): the published rank where the score is not published" in en


def test_recomputed_values_are_marked_in_words(client):
    ranking = Catalogue.shipped().ranking(E2022)
    row = next(r for r in ranking.rows if any(f.source == "computed" for f in r.figures.values()))
    html = client.get(f"/editions/{E2022}").text
    cells = html.split(f'data-name="{row.name_ascii.lower()}"', 1)[1].split("</tr>")[0]
    assert '<sup class="mark" aria-hidden="true">*</sup><span class="vh"> (tính lại)</span>' in cells


def test_a_value_recomputed_beside_its_published_rank_is_marked_too(client):
    ranking = Catalogue.shipped().ranking(E2022)
    code, row = next((c, r) for r in ranking.rows for c, f in r.figures.items()
                     if f.source == "published+computed")
    html = client.get(f"/provinces/{row.code}?edition={E2022}").text
    cells = [c for c in html.split("<td") if 'class="num published+computed"' in c]
    assert cells and all('<sup class="mark" aria-hidden="true">*</sup>' in c for c in cells), code


# ---------------------------------------------------------------- English pages


@pytest.mark.parametrize("edition", edition_ids())
def test_english_method_pages_are_in_english(client, edition):
    text = _main(client.get(f"/en/editions/{edition}/method").text)
    for vietnamese in ("Quyết định", "Công bố", "trung bình cộng", "chưa được công bố", "tỷ lệ",
                       "Mã /", "Bộ Thông tin", "Bộ Khoa học", "tỉnh"):
        assert vietnamese not in text, (edition, vietnamese)
    assert "Decision" in text and "Published" in text
    vietnamese_words = {w for w in text.split() if VIETNAMESE.search(w) and "QĐ-" not in w}
    assert vietnamese_words == set(), edition   # decision numbers (QĐ-BTTTT) are names
    data = client.get(f"/en/editions/{edition}/method.json").json()
    assert data["legal_basis"].startswith("Quyết định") and data["legal_basis_en"].startswith("Decision")


# ---------------------------------------------------------------- in Chromium


def test_a_reader_walks_from_home_to_the_2021_ranking(browser, live_app):  # noqa: F811
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(live_app + "/")
    page.get_by_role("link", name="Xếp hạng", exact=True).first.click()   # the latest (2024)
    page.wait_for_url(re.compile(r"/editions/dti-province-2024$"))
    page.get_by_role("navigation", name="Năm đánh giá").get_by_role("link", name="2021").click()
    page.wait_for_url(re.compile(r"/editions/dti-province-2021$"))
    cell = page.locator('tr[data-name="thai nguyen"] td.change')
    assert cell.locator('[aria-hidden="true"]').inner_text() == "▲4"   # what the eye reads
    assert cell.locator(".vh").text_content() == "tăng 4 bậc"          # what a screen reader says
    page.close()


PAGES = ["/", f"/editions/{E2022}", f"/editions/{E2024}", f"/editions/{E2022}/map",
         f"/editions/{E2024}/map", f"/provinces/19?edition={E2022}", f"/provinces/19?edition={E2024}",
         f"/compare?edition={E2022}&units=01,48,79,19", f"/editions/{E2022}/indicators/NTS",
         f"/editions/{E2022}/method", f"/editions/{E2024}/method", f"/provinces/92/plan?edition={E2022}",
         "/provinces/19/story", "/record", "/api/v1/docs"]


@pytest.mark.parametrize("lang", ["", "/en"])
def test_no_page_is_wider_than_a_375_px_screen(browser, live_app, lang):  # noqa: F811
    page = browser.new_page(viewport={"width": 375, "height": 800})
    wide = {}
    for url in PAGES:
        response = page.goto(live_app + lang + url)
        assert response.status == 200, url
        width, inner = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        if width > inner:
            wide[url] = width
    assert wide == {}, f"wider than 375 px: {wide}"
    # the ranking scrolls inside its own box, the province column staying in view
    page.goto(live_app + lang + f"/editions/{E2022}")
    box = page.locator(".scroll").first
    assert page.evaluate("el => el.scrollWidth > el.clientWidth", box.element_handle())
    box.evaluate("el => el.scrollLeft = 400")
    cell = page.locator('tr[data-name="thai nguyen"] td').nth(1)
    assert 0 <= cell.bounding_box()["x"] < 375
    page.close()


@pytest.mark.parametrize("width", [1366, 375])
@pytest.mark.parametrize("lang", ["", "/en"])
def test_screenshots_of_the_walk(browser, live_app, width, lang):  # noqa: F811
    page = browser.new_page(viewport={"width": width, "height": 900})
    SHOTS.mkdir(parents=True, exist_ok=True)
    tag = f"{width}{'-en' if lang else '-vi'}"
    for name, url in [("home", "/"), ("ranking-2021", f"/editions/{E2021}"),
                      ("profile", f"/provinces/19?edition={E2021}"),
                      ("compare", f"/compare?edition={E2022}&units=01,48,79"),
                      ("method-2024", f"/editions/{E2024}/method")]:
        assert page.goto(live_app + lang + url).status == 200
        page.screenshot(path=str(SHOTS / f"walk-{name}-{tag}.png"), full_page=False)
    page.close()


@pytest.mark.parametrize("url, docs", [("/editions/dti-province-2022", "/api/v1/docs"),
                                       ("/en/editions/dti-province-2022", "/en/api/v1/docs")])
def test_the_open_data_menu_leads_to_the_docs_in_the_page_s_language(client, url, docs):
    assert f'href="{docs}"' in client.get(url).text
    assert client.get(docs).status_code == 200
