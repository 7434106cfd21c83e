"""The public pages on the real shipped editions: ranking, profile, compare, method, their
``.json``/``.csv`` twins, languages, errors, and drafts kept out of every route."""

from __future__ import annotations

import csv
import dataclasses
import inspect
import io
import re
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from dti.editions import edition_ids, load_edition
from dti.units import load_unit_set
from dti.web import create_app
from dti.web.snapshot import Catalogue

E2022 = "dti-province-2022"
DRAFT = "dti-province-2025"
NEVER = "dti-province-1999"
MIDLANDS = "Trung du và miền núi phía Bắc"


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


# ---------------------------------------------------------------- parsing helpers


class Tables(HTMLParser):
    """Body rows of every ``<table>`` keyed by id (else class): cells as text, plus links."""

    def __init__(self, html: str):
        super().__init__()
        self.tables: dict[str, list[dict]] = {}
        self.heads: dict[str, list[str]] = {}
        self.links: list[dict[str, str]] = []
        self.lang = ""
        self._table = self._row = self._cell = None
        self._in_head = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang", "")
        elif tag == "table":
            self._table = a.get("id") or a.get("class")
            self.tables[self._table], self.heads[self._table] = [], []
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr" and self._table:
            self._row = {"attrs": a, "cells": [], "links": []}
        elif tag in ("td", "th") and self._row is not None:
            self._cell = {"text": "", "attrs": a}
        elif tag == "a":
            self.links.append(a)
            if self._row is not None:
                self._row["links"].append(a.get("href", ""))

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._cell["text"] = " ".join(self._cell["text"].split())
            self._row["cells"].append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._in_head:
                self.heads[self._table] = [c["text"] for c in self._row["cells"]]
            else:
                self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "thead":
            self._in_head = False
        elif tag == "table":
            self._table = None


def page(client: TestClient, url: str) -> Tables:
    response = client.get(url)
    assert response.status_code == 200, (url, response.text[:300])
    assert response.headers["content-type"].startswith("text/html")
    return Tables(response.text)


def ranking_codes(tables: Tables) -> list[str]:
    return [re.search(r"/provinces/(\w+)", row["links"][0]).group(1) for row in tables.tables["ranking"]]


def twin(client: TestClient, url: str, fmt: str):
    path, _, query = url.partition("?")
    response = client.get(f"{path}.{fmt}" + (f"?{query}" if query else ""))
    assert response.status_code == 200, (url, fmt, response.text[:300])
    if fmt == "json":
        assert response.headers["content-type"].startswith("application/json")
        return response.json()
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))


def published_ranks() -> dict[str, int]:
    return dict(load_edition(E2022).results().ranks["DTI"])


# ---------------------------------------------------------------- the 2022 ranking


def test_2022_ranking_lists_all_63_provinces_with_exactly_the_published_ranks(client):
    tables = page(client, f"/editions/{E2022}")
    rows = tables.tables["ranking"]
    shown = {code: int(row["cells"][0]["text"]) for code, row in zip(ranking_codes(tables), rows)}
    assert len(rows) == 63
    assert shown == published_ranks()
    ranks = [int(row["cells"][0]["text"]) for row in rows]
    assert ranks == sorted(ranks)
    # ties as published: two provinces share 15, the next is 17 (competition ranking)
    assert ranks.count(15) == 2 and 16 not in ranks and 17 in ranks


def test_da_nang_total_in_each_language(client):
    for url, expected, other in ((f"/editions/{E2022}", "0,8002", "0.8002"),
                                 (f"/en/editions/{E2022}", "0.8002", "0,8002")):
        tables = page(client, url)
        row = dict(zip(ranking_codes(tables), tables.tables["ranking"]))["48"]
        assert row["cells"][1]["text"] in ("Đà Nẵng", "Da Nang City")
        assert row["cells"][2]["text"] == expected
        assert other not in row["cells"][2]["text"]
        assert tables.lang == ("en" if url.startswith("/en/") else "vi")


@pytest.mark.parametrize("prefix, label", [("", "chưa công bố"), ("/en", "not published")])
def test_an_empty_published_cell_says_not_published_never_zero(client, prefix, label):
    tables = page(client, f"{prefix}/editions/{E2022}")
    data = twin(client, f"{prefix}/editions/{E2022}", "json")
    flat = twin(client, f"{prefix}/editions/{E2022}", "csv")
    columns = [c["code"] for c in data["columns"]]
    empty = 0
    for row, result, line in zip(tables.tables["ranking"], data["results"], flat):
        for cell, code in zip(row["cells"][2:], columns):
            figure = result["figures"][code]
            if figure["value"] is None:
                empty += 1
                # the label, or the published rank alone when only the rank was published
                assert cell["text"] == label or re.fullmatch(r"\(\d+\)", cell["text"]), cell
                assert line[code] == ""
    assert empty > 300
    thai_nguyen = dict(zip(ranking_codes(tables), tables.tables["ranking"]))["19"]
    assert [c["text"] for c in thai_nguyen["cells"][3:14]] == [label] * 11


# ---------------------------------------------------------------- twins, filters, search, sort

RANKING_VIEWS = [
    f"/editions/{E2022}",
    f"/en/editions/{E2022}",
    f"/editions/{E2022}?" + urlencode({"region": MIDLANDS}),
    f"/editions/{E2022}?q=thai+nguyen",
    f"/en/editions/{E2022}?q=thai+nguyen",
    f"/editions/{E2022}?sort=CQS&order=desc",
    f"/editions/{E2022}?sort=NTS&order=asc",
    "/editions/dti-province-2024",
    "/editions/dti-province-2024?basis=provinces-63",
]


@pytest.mark.parametrize("url", RANKING_VIEWS)
def test_ranking_twins_hold_the_same_rows_as_the_page(client, url):
    codes = ranking_codes(page(client, url))
    assert codes
    assert [r["code"] for r in twin(client, url, "json")["results"]] == codes
    assert [r["code"] for r in twin(client, url, "csv")] == codes


def test_region_filter(client):
    url = f"/editions/{E2022}?" + urlencode({"region": MIDLANDS})
    expected = {u.code for u in load_unit_set("provinces-63") if u.region == MIDLANDS}
    tables = page(client, url)
    assert set(ranking_codes(tables)) == expected
    assert {row["attrs"]["data-region"] for row in tables.tables["ranking"]} == {MIDLANDS}
    assert {r["region"] for r in twin(client, url, "json")["results"]} == {MIDLANDS}


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_search_finds_thai_nguyen_without_accents(client, prefix):
    url = f"{prefix}/editions/{E2022}?q=thai nguyen"
    assert ranking_codes(page(client, url)) == ["19"]
    assert [r["code"] for r in twin(client, url, "csv")] == ["19"]


def test_sort_by_a_pillar_descending_puts_not_published_last(client):
    url = f"/editions/{E2022}?sort=CQS&order=desc"
    tables = page(client, url)
    cqs = [c["code"] for c in twin(client, url, "json")["columns"]].index("CQS") + 2
    values = [row["cells"][cqs]["attrs"]["data-value"] for row in tables.tables["ranking"]]
    present = [float(v) for v in values if v]
    assert len(present) >= 5 and present == sorted(present, reverse=True)
    assert values == [v for v in values if v] + [v for v in values if not v]
    flat = twin(client, url, "csv")
    assert [float(r["CQS"]) for r in flat if r["CQS"]] == present


# ---------------------------------------------------------------- profile, compare, method


def test_thai_nguyen_profile_2022_shows_rank_8_and_its_history(client):
    url = f"/provinces/19?edition={E2022}"
    tables = page(client, url)
    figures = tables.tables["figures"]
    assert figures[0]["cells"][0]["text"] == "Chỉ số DTI cấp tỉnh"
    assert figures[0]["cells"][1]["text"] == "chưa công bố"
    assert figures[0]["cells"][2]["text"] == "8"
    history = {(r["cells"][0]["text"], r["cells"][1]["text"]): r["cells"][4]["text"]
               for r in tables.tables["history"]}
    assert history[("2021", "63 tỉnh, thành phố")] == "8/63"
    assert history[("2022", "63 tỉnh, thành phố")] == "8/63"
    assert {year for year, _ in history} == {"2020", "2021", "2022", "2023", "2024"}
    data = twin(client, "/provinces/19?edition=" + E2022, "json")
    assert data["code"] == "19" and data["figures"][0]["rank"] == 8
    assert [h["rank"] for h in data["history"] if h["edition"] == E2022] == [8]
    assert len(data["history"]) == len(tables.tables["history"])
    names = [f["name_vi"] for f in data["figures"]]
    assert [r["cells"][0]["text"] for r in figures] == names
    assert [r["code"] for r in twin(client, url, "csv")] == [f["code"] for f in data["figures"]]


def test_compare_three_provinces(client):
    url = f"/compare?units=48,79,19&edition={E2022}"
    tables = page(client, url)
    assert tables.heads["compare"][1:] == ["Đà Nẵng", "TP. Hồ Chí Minh", "Thái Nguyên"]
    rows = tables.tables["compare"]
    assert rows[0]["cells"][1]["text"] == "0,8002 (1)"
    assert rows[0]["cells"][3]["text"] == "chưa công bố (8)"
    data = client.get(f"/compare.json?units=48,79,19&edition={E2022}").json()
    assert [p["code"] for p in data["provinces"]] == ["48", "79", "19"]
    flat = list(csv.DictReader(io.StringIO(
        client.get(f"/compare.csv?units=48,79,19&edition={E2022}").text.lstrip("\ufeff"))))
    assert [r["code"] for r in flat] == ["48", "79", "19"]
    assert len(rows) == len(data["provinces"][0]["figures"])


MAIN_POINTS_2022 = {"NTS": 100, "TCS": 100, "HTS": 100, "NLS": 100, "ATTT": 100, "DTTM": 0,
                    "HDCQS": 200, "HDKTS": 150, "HDXHS": 150}


def test_method_page_lists_the_nine_main_indicators_with_their_points(client):
    url = f"/editions/{E2022}/method"
    rows = {r["cells"][0]["text"]: r["cells"] for r in page(client, url).tables["method"]}
    data = twin(client, url, "json")
    main = {n["code"]: n["max_points"] for n in data["nodes"] if n["role"] == "main"}
    assert main == MAIN_POINTS_2022
    for code, points in MAIN_POINTS_2022.items():
        assert rows[code][2]["text"] == str(points)
    assert "không tính điểm" in rows["DTTM"][1]["text"]
    assert rows["DTI"][2]["text"] == "1.000"   # vi-VN thousands separator
    assert [r["code"] for r in twin(client, url, "csv")] == list(rows)


# ---------------------------------------------------------------- language switch, errors

SWITCHES = [
    (f"/editions/{E2022}", f"/en/editions/{E2022}"),
    (f"/editions/{E2022}?region=x&q=y", f"/en/editions/{E2022}?region=x&q=y"),
    (f"/provinces/19?edition={E2022}", f"/en/provinces/19?edition={E2022}"),
    (f"/compare?units=48,79&edition={E2022}", f"/en/compare?units=48,79&edition={E2022}"),
    (f"/editions/{E2022}/method", f"/en/editions/{E2022}/method"),
]


@pytest.mark.parametrize("vi, en", SWITCHES)
def test_language_switch_points_to_the_same_page_in_the_other_language(client, vi, en):
    for here, there, lang in ((vi, en, "vi"), (en, vi, "en")):
        tables = page(client, here)
        assert tables.lang == lang
        switch = [a["href"] for a in tables.links if "lang" in (a.get("class") or "").split()]
        assert [s.replace("&amp;", "&") for s in switch] == [there]
        assert page(client, there).lang != lang


@pytest.mark.parametrize("url", ["/editions/nope.json", "/en/editions/nope.json",
                                 "/provinces/48.json?edition=nope", "/compare.json?edition=nope",
                                 "/editions/nope/method.json", "/api/v1/editions/nope",
                                 "/api/v1/editions/nope/results", "/api/v1/no-such-route"])
def test_unknown_edition_answers_the_json_error_envelope(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "message"}
    assert body["error"]["status"] == 404 and body["error"]["message"]


@pytest.mark.parametrize("url, lang", [("/editions/nope", "vi"), ("/en/editions/nope", "en"),
                                       ("/editions/nope/method", "vi"), ("/no-such-page", "vi"),
                                       ("/en/provinces/99?edition=" + E2022, "en")])
def test_unknown_page_answers_an_html_404(client, url, lang):
    response = client.get(url)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert Tables(response.text).lang == lang
    assert ("<h1>Page not found</h1>" if lang == "en" else "<h1>Không tìm thấy trang</h1>") in response.text


def test_home_is_a_page_that_leads_to_the_latest_edition(client):
    latest = max(edition_ids())
    for prefix in ("", "/en"):
        response = client.get(prefix + "/", follow_redirects=False)
        assert response.status_code == 200
        assert f'href="{prefix}/editions/{latest}"' in response.text


# ---------------------------------------------------------------- drafts are unreachable


def _catalogue_with_draft(draft_id: str) -> Catalogue:
    """The shipped editions plus a draft: a new 2025 edition, or 2023 withdrawn to draft (so the
    published 2024 names a draft as its previous edition)."""
    editions = [load_edition(e) for e in edition_ids() if e != draft_id]
    if draft_id == DRAFT:
        draft = dataclasses.replace(load_edition(E2022), id=DRAFT, year=2025, status="draft",
                                    previous="dti-province-2024")
    else:
        draft = dataclasses.replace(load_edition(draft_id), status="draft")
    return Catalogue.build(editions + [draft])


def _get_routes(app):
    """(path, takes an edition) of every GET route, the included routers' ones too."""
    for route in iter_route_contexts(app.routes):
        if route.path and route.methods and "GET" in route.methods and not route.path.startswith("/static"):
            endpoint = route.endpoint
            yield route.path, endpoint is not None and "edition" in inspect.signature(endpoint).parameters


def _urls_for_draft(path: str, draft: str) -> list[str]:
    """Every concrete URL of a route pointing at the draft: in the path, as twin, or as ?edition=."""
    code = "BTC" if "/levels/" in path else "48"     # a ministry's profile, else a province's
    paths = [path.replace("{code}", code).replace("{fmt}", f) for f in ("json", "csv", "html")]
    urls = []
    for filled in dict.fromkeys(paths):
        if "{edition}" in filled:
            urls.append(filled.replace("{edition}", draft))
            if filled.endswith("{edition}") and not filled.startswith("/api/"):   # page twins
                urls += [filled.replace("{edition}", draft + s) for s in (".json", ".csv")]
        else:
            urls.append(filled + "?" + urlencode({"edition": draft}))
    return urls


@pytest.mark.parametrize("draft", [DRAFT, "dti-province-2023"])
def test_draft_editions_are_unreachable_from_every_route(draft):
    app = create_app(catalogue=_catalogue_with_draft(draft))
    client = TestClient(app)
    public = [e for e in edition_ids() if e != draft]
    checked, listed = [], []
    for path, takes_edition in _get_routes(app):
        for url in _urls_for_draft(path, draft):
            response = client.get(url, follow_redirects=True)
            if takes_edition:   # exactly the answer for an edition that never existed
                assert response.status_code == 404, url
                never = client.get(url.replace(draft, NEVER))
                assert response.text.replace(draft, "?") == never.text.replace(NEVER, "?"), url
                assert response.headers["content-type"] == never.headers["content-type"], url
                checked.append(url)
            else:   # a listing, or a page without an edition: it must not mention the draft
                assert response.status_code == 200, url
                assert draft not in response.text, url
                listed.append(url)
    assert len(checked) >= 20
    assert {"/api/v1/editions?edition=" + draft, "/?edition=" + draft} <= set(listed)
    for edition in public:   # no ranking, navigation, twin or API answer links to the draft
        for url in (f"/editions/{edition}", f"/en/editions/{edition}.json", f"/editions/{edition}/method",
                    f"/api/v1/editions/{edition}", f"/api/v1/editions/{edition}/results",
                    f"/provinces/48?edition={edition}", "/api/v1/provinces/48/history"):
            response = client.get(url)
            assert response.status_code == 200 and draft not in response.text, url
    assert [e["id"] for e in client.get("/api/v1/editions").json()["editions"]] == public
