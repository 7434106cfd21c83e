"""The choropleth map page: server-drawn SVG, profile links, tooltips, islands, weight, no CDN."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient

from dti.units import load_unit_set
from dti.web import create_app, maps

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
    ranking = client.app.state.catalogue.ranking(E2022)
    valued = [r["code"] for r in ranking.rows if r["value"] is not None]
    assert len(valued) >= 6
    assert {c: drawn[c]["href"] for c in valued} == {c: f"/provinces/{c}?edition={E2022}" for c in valued}
    assert set(drawn) == {u.code for u in load_unit_set("provinces-63")}  # every unit is a link
    for code in ("48", "84", "01"):  # the click-through reaches the profile
        assert client.get(drawn[code]["href"]).status_code == 200


def test_tooltips_and_colour_order(client):
    (svg,) = svgs(client.get(f"/editions/{E2022}/map").text)
    drawn = shapes(svg)
    da_nang, tra_vinh, ha_noi = drawn["48"], drawn["84"], drawn["01"]
    assert da_nang["title"] == "Đà Nẵng — Chỉ số DTI cấp tỉnh: 0,8002 (hạng 1)" == da_nang["label"]
    assert "0,6077" in tra_vinh["title"]
    assert darkness(da_nang["fill"]) > darkness(tra_vinh["fill"])  # higher score, darker shade
    # published rank but no published score: grey, said so, never 0
    assert ha_noi["fill"] == maps.MISSING_COLOUR and "chưa công bố (hạng 24)" in ha_noi["title"]
    assert ">chưa công bố</text>" in ET.tostring(svg, encoding="unicode")  # its legend entry
    english = shapes(svgs(client.get(f"/en/editions/{E2022}/map").text)[0])
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
    latest = client.app.state.catalogue.latest.id
    assert f'href="/editions/{latest}/map"' in html
