"""The choropleth map page: server-drawn SVG, profile links, tooltips, islands, weight, no CDN."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient

from dti.units import load_unit_set
from dti.web import create_app, maps
from dti.web.context import context_of

E2022, E2024 = "dti-province-2022", "dti-province-2024"
BUDGET = 600 * 1024


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(s) for s in re.findall(r"<svg\b.*?</svg>", html, flags=re.S)]


def shapes(svg: ET.Element) -> dict[str, dict[str, str]]:
    """Province code → the fill and tooltip of its linked shape."""
    out = {}
    for link in svg.iter("a"):
        code = re.match(r"/(?:en/)?provinces/(\d+)\?", link.get("href")).group(1)
        path = link.find("path")
        out[code] = {"fill": path.get("fill"), "title": path.findtext("title"),
                     "label": path.get("aria-label"), "href": link.get("href")}
    return out


def darkness(colour: str) -> float:
    r, g, b = (int(v) for v in re.findall(r"\d+", colour)) if colour.startswith("rgb") else \
        (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 255 - (0.2126 * r + 0.7152 * g + 0.0722 * b)


def page_weight(client: TestClient, url: str) -> int:
    """The page's bytes plus every static asset it references (stylesheets, scripts, images)."""
    page = client.get(url)
    assert page.status_code == 200
    assets = set(re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text))
    total = len(page.content)
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        total += len(response.content)
    return total


def test_2022_map_links_every_province_and_all_with_a_value(client):
    page = client.get(f"/editions/{E2022}/map")
    assert page.status_code == 200
    (svg,) = svgs(page.text)
    drawn = shapes(svg)
    ranking = context_of(client.app).catalogue.ranking(E2022)
    valued = [r.code for r in ranking.rows if r.value is not None]
    assert len(valued) >= 6
    assert {c: drawn[c]["href"] for c in valued} == {c: f"/provinces/{c}?edition={E2022}" for c in valued}
    assert set(drawn) == {u.code for u in load_unit_set("provinces-63")}  # every unit is a link
    for code in ("48", "84", "01"):  # the click-through reaches the profile
        assert client.get(drawn[code]["href"]).status_code == 200


def test_tooltips_and_colour_order(client):
    """The score view, asked for by name (2022 opens by rank): shades follow the score."""
    (svg,) = svgs(client.get(f"/editions/{E2022}/map?show=score").text)
    drawn = shapes(svg)
    da_nang, tra_vinh, ha_noi = drawn["48"], drawn["84"], drawn["01"]
    assert da_nang["title"] == "Đà Nẵng — Chỉ số DTI cấp tỉnh: 0,8002 (hạng 1)" == da_nang["label"]
    assert "0,6077" in tra_vinh["title"]
    assert darkness(da_nang["fill"]) > darkness(tra_vinh["fill"])  # higher score, darker shade
    # published rank but no published score: grey, said so, never 0
    assert ha_noi["fill"] == maps.MISSING_COLOUR and "chưa công bố (hạng 24)" in ha_noi["title"]
    assert ">chưa công bố</text>" in ET.tostring(svg, encoding="unicode")  # its legend entry
    english = shapes(svgs(client.get(f"/en/editions/{E2022}/map?show=score").text)[0])
    assert english["48"]["title"] == "Da Nang City — Provincial DTI: 0.8002 (rank 1)"
    assert english["48"]["href"] == f"/en/provinces/48?edition={E2022}"


def test_islands_are_drawn_and_labelled(client):
    for basis in ("provinces-63", "provinces-34"):
        topo = maps.topology(basis)
        coords = {g["id"]: g for g in topo["objects"]["provinces"]["geometries"]}
        assert set(coords) == {u.code for u in load_unit_set(basis)}
        (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
        markers = {g["id"]: [(x * sx + tx, y * sy + ty) for x, y in g["coordinates"]]
                   for g in topo["objects"]["islands"]["geometries"]}
        assert all(111 < x < 113.5 and 15.5 < y < 17.5 for x, y in markers["Hoàng Sa"])
        assert all(111 < x < 118 and 6.5 < y < 12 for x, y in markers["Trường Sa"])
        assert len(markers["Hoàng Sa"]) >= 5 and len(markers["Trường Sa"]) >= 20
    html = client.get(f"/editions/{E2022}/map").text
    for name in ("Quần đảo Hoàng Sa (Việt Nam)", "Quần đảo Trường Sa (Việt Nam)"):
        assert f'aria-label="{name}"' in html
    english = client.get(f"/en/editions/{E2022}/map").text
    assert "Hoàng Sa Archipelago (Viet Nam)" in english and "Trường Sa Archipelago (Viet Nam)" in english


def test_islets_belong_to_da_nang_and_khanh_hoa():
    """The archipelagos' polygons are in the Đà Nẵng (48) and Khánh Hòa (56) features."""
    for basis in ("provinces-63", "provinces-34"):
        topo = maps.topology(basis)
        (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
        arcs = []
        for arc in topo["arcs"]:
            x = y = 0
            points = []
            for dx, dy in arc:
                x, y = x + dx, y + dy
                points.append((x * sx + tx, y * sy + ty))
            arcs.append(points)

        east = {g["id"]: max(p[0] for poly in g["arcs"] for ring in poly for i in ring
                             for p in arcs[i if i >= 0 else ~i])
                for g in topo["objects"]["provinces"]["geometries"]}
        assert east.pop("48") > 112 and east.pop("56") > 114.5
        assert max(east.values()) < 110


def test_2024_shows_both_bases_side_by_side(client):
    page = client.get(f"/editions/{E2024}/map")
    assert page.status_code == 200
    maps_ = svgs(page.text)
    assert len(maps_) == 2
    assert [len(shapes(s)) for s in maps_] == [34, 63]
    assert "34 tỉnh, thành phố" in page.text and "63 tỉnh, thành phố" in page.text
    data = client.get(f"/editions/{E2024}/map.json").json()
    assert [(m["basis"], m["units"]) for m in data["maps"]] == [("provinces-34", 34), ("provinces-63", 63)]
    one = client.get(f"/editions/{E2024}/map?basis=provinces-63")
    assert len(svgs(one.text)) == 1 and len(shapes(svgs(one.text)[0])) == 63


def test_json_and_csv_twins_hold_the_values_drawn(client):
    data = client.get(f"/editions/{E2022}/map.json").json()
    assert data["indicator"]["code"] == "DTI" and data["maps"][0]["units_with_value"] == 6
    results = {r["code"]: r for r in data["maps"][0]["results"]}
    assert results["48"]["value"] == 0.8002 and results["48"]["rank"] == 1
    assert results["01"]["value"] is None and results["01"]["rank"] == 24
    assert {i["role"] for i in data["indicators"]} == {"total", "pillar", "main"}
    csv = client.get(f"/editions/{E2022}/map.csv?indicator=CQS")
    assert csv.status_code == 200 and "48,Đà Nẵng,CQS,0.8638" in csv.text


def test_indicator_selector_and_pillar_map(client):
    page = client.get(f"/editions/{E2022}/map?indicator=CQS")
    assert page.status_code == 200
    assert '<option value="CQS" selected>' in page.text and 'value="HDXHS"' in page.text
    drawn = shapes(svgs(page.text)[0])
    assert drawn["48"]["title"].startswith("Đà Nẵng — Trụ cột Chính quyền số: 0,8638")


@pytest.mark.parametrize("url", [f"/editions/{E2022}/map?indicator=NOPE",
                                 f"/editions/{E2022}/map.json?indicator=NOPE",
                                 f"/en/editions/{E2022}/map?indicator=NOPE",
                                 f"/editions/{E2022}/map?basis=provinces-34",
                                 f"/editions/{E2022}/map.xml",
                                 "/editions/no-such-edition/map"])
def test_unknown_indicator_basis_or_edition_is_404(client, url):
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url", [f"/editions/{E2024}/map", f"/en/editions/{E2024}/map?indicator=KTS",
                                 f"/editions/{E2022}/map"])
def test_page_weight_is_under_budget(client, url):
    assert page_weight(client, url) < BUDGET


@pytest.mark.parametrize("url", [f"/editions/{E2024}/map", f"/en/editions/{E2022}/map"])
def test_no_external_request(client, url):
    """No CDN, no tiles, no web fonts: no absolute URL at all in the page and its assets."""
    html = client.get(url).text
    fetched = re.sub(r"<a\b[^>]*>", "", html)   # a source a reader may follow is not a request
    assert re.findall(r"https?://", fetched) == []
    assert re.findall(r'<(?:script|link|img|image|iframe)\b[^>]*(?:src|href)="(?!/)', html) == []
    for asset in re.findall(r'(?:href|src)="(/static/[^"]+)"', html):
        text = client.get(asset).text   # an SVG's XML namespace names a standard, fetches nothing
        assert "http" not in re.sub(r'xmlns(?::\w+)?="http://www\.w3\.org/[^"]*"', "", text)


def test_rendering_is_cached(client):
    client.get(f"/editions/{E2022}/map?indicator=KTS")
    before = maps.render.cache_info()
    client.get(f"/editions/{E2022}/map?indicator=KTS")
    client.get(f"/editions/{E2022}/map?indicator=KTS&x=1")    # an unknown parameter: the same map
    after = maps.render.cache_info()
    assert after.misses == before.misses                      # drawn once, then answered as bytes


def test_navigation_links_to_the_map(client):
    html = client.get(f"/editions/{E2022}").text
    latest = context_of(client.app).catalogue.latest.id
    assert f'href="/editions/{latest}/map"' in html


# -- which view a map opens on: the one with the most published figures -------------------------

VIEWS = {"": {"rank": "Hạng công bố (ngũ phân vị)", "score": "Giá trị",
              "rank_note": "Màu theo nhóm ngũ phân vị của hạng công bố",
              "score_note": "Màu theo giá trị", "by_score": "Theo điểm", "by_rank": "Theo hạng công bố"},
         "/en": {"rank": "Published rank (quintiles)", "score": "Value",
                 "rank_note": "Colours by quintile class of the published rank",
                 "score_note": "Colours by value", "by_score": "By score", "by_rank": "By published rank"}}


def legend_title(svg: ET.Element) -> list[str]:
    """The lines of the colour legend's title (the first legend: the grey entry has none)."""
    group = next(g for g in svg.iter("g") if "role-legend-title" in (g.get("class") or ""))
    return [t.text for t in group.iter("tspan")] or [group.findtext("text")]


def coloured(svg: ET.Element) -> set[str]:
    return {code for code, s in shapes(svg).items() if s["fill"] != maps.MISSING_COLOUR}


def current_view(html: str) -> str:
    return re.search(r'<p class="meta switch">.*?<strong aria-current="page">([^<]+)</strong>', html).group(1)


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_2022_map_opens_by_rank_and_colours_all_63_provinces(client, prefix):
    words = VIEWS[prefix]
    ranking = context_of(client.app).catalogue.ranking(E2022)
    ranked = {r.code for r in ranking.rows if r.rank is not None}
    scored = {r.code for r in ranking.rows if r.value is not None}
    assert len(scored) < len(ranked) == 63                    # why the rank view is the default
    page = client.get(f"{prefix}/editions/{E2022}/map")
    (svg,) = svgs(page.text)
    assert coloured(svg) == ranked                            # no province left grey
    assert shapes(svg)["48"]["fill"] == maps.RANK_COLOURS[0]  # rank 1 in the darkest class
    assert legend_title(svg)[-1] == words["rank"]
    assert current_view(page.text) == words["by_rank"] and words["rank_note"] in page.text
    # the switch still names both views; the score view is asked for by name
    assert (f'<a href="{prefix}/editions/{E2022}/map?indicator=DTI&amp;show=score">'
            f'{words["by_score"]}</a>') in page.text
    assert 'name="show"' not in page.text    # the form lets each indicator open on its own default
    data = client.get(f"{prefix}/editions/{E2022}/map.json").json()
    assert (data["show"], data["default_show"]) == ("rank", "rank")


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_2022_score_view_asked_for_by_name_is_honoured(client, prefix):
    words = VIEWS[prefix]
    ranking = context_of(client.app).catalogue.ranking(E2022)
    scored = {r.code for r in ranking.rows if r.value is not None}
    page = client.get(f"{prefix}/editions/{E2022}/map?show=score")
    (svg,) = svgs(page.text)
    assert coloured(svg) == scored and len(scored) < 63       # the score view, greys and all
    assert legend_title(svg)[-1] == words["score"]
    assert current_view(page.text) == words["by_score"] and words["score_note"] in page.text
    # back to the default view without naming it; the indicator form keeps the view asked for
    assert f'<a href="{prefix}/editions/{E2022}/map?indicator=DTI">{words["by_rank"]}</a>' in page.text
    assert '<input type="hidden" name="show" value="score">' in page.text
    data = client.get(f"{prefix}/editions/{E2022}/map.json?show=score").json()
    assert (data["show"], data["default_show"]) == ("score", "rank")
    rank = client.get(f"{prefix}/editions/{E2022}/map?show=rank").text
    assert current_view(rank) == words["by_rank"]


def test_a_node_with_more_scores_than_ranks_opens_by_score(client):
    """The choice is per node shown: 2022's NTS has more published scores than ranks."""
    ranking = context_of(client.app).catalogue.ranking(E2022)
    figures = [r.figures["NTS"] for r in ranking.rows]
    assert sum(f.value is not None for f in figures) > sum(f.rank is not None for f in figures)
    page = client.get(f"/editions/{E2022}/map?indicator=NTS")
    assert current_view(page.text) == "Theo điểm"
    assert f'href="/editions/{E2022}/map?indicator=NTS&amp;show=rank"' in page.text


def _publish_illustrative(store) -> str:
    """Publish the assessment app's illustrative edition with every province scored (distinct totals)."""
    from sqlalchemy import update
    from assessment_support import EDITION, PASSWORD, populate

    from dti.services import publication
    from dti.store.models import Answer, Assessment

    world = populate(store)
    with store.transaction() as session:
        session.execute(update(Assessment).values(state="approved"))
        for n, a in enumerate(session.query(Assessment).order_by(Assessment.province_code)):
            session.execute(update(Answer).where(Answer.assessment_id == a.id,
                                                 Answer.indicator_code.in_(("NTS.04", "HDCQS.01")))
                            .values(final_points=float(n % 10)))
        publication.publish(session, world.actors["admin"], EDITION, PASSWORD)
    return EDITION


def test_an_edition_with_every_score_published_keeps_the_score_view(store):
    from dti.web.settings import Settings

    edition = _publish_illustrative(store)
    client = TestClient(create_app(Settings(), store=store))
    catalogue = context_of(client.app).catalogue
    assert catalogue.edition(edition).illustrative
    ranking = catalogue.ranking(edition)
    assert all(r.value is not None for r in ranking.rows)
    for prefix, words in VIEWS.items():
        page = client.get(f"{prefix}/editions/{edition}/map")
        (svg,) = svgs(page.text)
        assert coloured(svg) == {r.code for r in ranking.rows}
        assert legend_title(svg)[-1] == words["score"]
        assert current_view(page.text) == words["by_score"] and words["score_note"] in page.text
        assert f'href="{prefix}/editions/{edition}/map?indicator=DTI&amp;show=rank"' in page.text
        assert client.get(f"{prefix}/editions/{edition}/map.json").json()["show"] == "score"
        assert current_view(client.get(f"{prefix}/editions/{edition}/map?show=rank").text) == words["by_rank"]


def test_cached_answers_keep_the_default_and_each_named_view_apart(client):
    assert "show" in context_of(client.app).public.recognised     # a cache key keeps ?show
    url = f"/editions/{E2022}/map?indicator=KTS"
    plain = client.get(url)                    # kept first: a key without ?show would answer it
    by_score, by_rank, again = (client.get(url + "&show=score"), client.get(url + "&show=rank"),
                                client.get(url))
    assert current_view(by_score.text) == "Theo điểm" and current_view(plain.text) == "Theo hạng công bố"
    assert plain.content == again.content and plain.headers["etag"] == again.headers["etag"]
    # the same map as by rank (the page's other-language link keeps the query as sent)
    assert shapes(svgs(plain.text)[0]) == shapes(svgs(by_rank.text)[0]) != shapes(svgs(by_score.text)[0])


def test_static_export_files_the_default_view_as_the_map_itself():
    from dti.web.export import Scheme
    from dti.web.snapshot import Catalogue

    scheme = Scheme(Catalogue.shipped(only=(E2022,)))

    def key(query: str):
        return scheme.split(f"http://x/editions/{E2022}/map{query}")[0]

    assert key("") == key("?show=rank") == key("?indicator=DTI&show=rank") != key("?show=score")
    assert Scheme.file(key("?show=rank"), "text/html") == f"editions/{E2022}/map/index.html"
    assert Scheme.file(key("?show=score"), "text/html") == f"editions/{E2022}/map/by-score/index.html"
    assert key("?indicator=NTS") == key("?indicator=NTS&show=score") != key("?indicator=NTS&show=rank")
    assert Scheme.file(key("?indicator=NTS&show=rank"), "text/html") == \
        f"editions/{E2022}/map/indicators/NTS/by-rank/index.html"
    # what the indicator form may send from each page: the default page answers a named view too
    from dti.web.export import _aliases

    assert set(_aliases(key(""), scheme)) == {"", "indicator=DTI", "show=rank", "indicator=DTI&show=rank"}
    assert set(_aliases(key("?show=score"), scheme)) == {"show=score", "indicator=DTI&show=score"}


@pytest.mark.parametrize("lang, note, title", [
    ("vi", "Màu theo nhóm ngũ phân vị của hạng công bố", "Bản đồ theo hạng công bố"),
    ("en", "Colours by quintile class of the published rank", "Map by published rank")])
def test_national_pdf_map_takes_the_portals_default_view(lang, note, title):
    pypdf = pytest.importorskip("pypdf", reason="pypdf reads the PDF's text")
    import io

    from dti.web.reports import national_report
    from dti.web.snapshot import Catalogue

    pdf = national_report(Catalogue.shipped(only=(E2022,)), E2022, lang)
    text = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages).split())
    assert title in text and note in text
    assert VIEWS["" if lang == "vi" else "/en"]["rank"] in text and "51–63" in text   # the legend
