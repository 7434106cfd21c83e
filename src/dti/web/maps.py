"""Choropleth maps of the provinces, drawn on the server as inline SVG.

The Vega runtime is too heavy for the page budget, so a Vega-Lite ``geoshape`` spec over the
simplified TopoJSON in ``geo/`` is rendered once per (basis, indicator, language, values) by
vl-convert, offline (no data URL is allowed), and kept in memory.  Every province is an ``<a>``
to its profile with a ``<title>`` tooltip; units without a published value are grey, with their
own legend entry.  Hoàng Sa and Trường Sa are drawn (they lie inside the Đà Nẵng and Khánh Hòa
features of the boundary files) and labelled.  See ``geo/SOURCES.md``.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from dti.web.i18n import name, number
from dti.web.snapshot import Ranking

GEO = Path(__file__).parent / "geo"
FILES = {"provinces-63": "provinces_63.topo.json", "provinces-34": "provinces_34.topo.json"}
SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
MISSING_COLOUR = "#b9b9b9"
SCHEME = "yellowgreenblue"
# The archipelagos' names, written just south of Hoàng Sa (islets 15.7–17.1° N, about 112° E)
# and just north of Trường Sa (7.2–11.5° N, about 114° E); the islets themselves are drawn from
# the Đà Nẵng and Khánh Hòa features of the boundary files and marked by dots.
ISLANDS = ({"lon": 112.0, "lat": 15.55, "baseline": "top", "vi": "Quần đảo Hoàng Sa (Việt Nam)",
            "en": "Hoàng Sa Archipelago (Viet Nam)"},
           {"lon": 114.3, "lat": 11.9, "baseline": "bottom", "vi": "Quần đảo Trường Sa (Việt Nam)",
            "en": "Trường Sa Archipelago (Viet Nam)"})
LABELS = {
    "vi": {"not_published": "chưa công bố", "rank": "hạng", "total": "Chỉ số tổng hợp",
           "pillar": "Trụ cột", "main": "Chỉ số chính", "show": "Hiển thị", "both": "cả hai cơ sở",
           "values": "Giá trị trên bản đồ",
           "geo": {"provinces-63": "Ranh giới 63 tỉnh: Open Development Vietnam «Địa phận tỉnh», "
                                   "qua TaliaCao/Vietnam-Shape-Map (MIT); đã đơn giản hoá.",
                   "provinces-34": "Ranh giới 34 tỉnh: bản đồ tham chiếu sapnhap.bando.com.vn, qua "
                                   "thanglequoc/vietnamese-provinces-database (MIT); đã đơn giản hoá."}},
    "en": {"not_published": "not published", "rank": "rank", "total": "Overall index",
           "pillar": "Pillars", "main": "Main indicators", "show": "Show", "both": "both bases",
           "values": "Values on the map",
           "geo": {"provinces-63": "63-province boundaries: Open Development Vietnam “Địa phận "
                                   "tỉnh”, via TaliaCao/Vietnam-Shape-Map (MIT); simplified.",
                   "provinces-34": "34-province boundaries: the sapnhap.bando.com.vn reference map, "
                                   "via thanglequoc/vietnamese-provinces-database (MIT); simplified."}},
}
NUMBER_LOCALE = {"vi": {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["", "\u00a0₫"]},
                 "en": {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["", ""]}}


def labels(lang: str) -> dict[str, Any]:
    return LABELS["en" if lang == "en" else "vi"]


def has_map(basis: str) -> bool:
    return basis in FILES


@lru_cache(maxsize=None)
def topology(basis: str) -> dict[str, Any]:
    """The simplified TopoJSON of a basis (object ``provinces``, feature ``id`` = GSO code)."""
    return json.loads((GEO / FILES[basis]).read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def islet_markers(basis: str) -> tuple[dict[str, float], ...]:
    """Where the islets of Hoàng Sa and Trường Sa lie (one marker per 0.2° cell, see build.py)."""
    topo = topology(basis)
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    return tuple({"lon": round(x * sx + tx, 4), "lat": round(y * sy + ty, 4)}
                 for g in topo["objects"]["islands"]["geometries"] for x, y in g["coordinates"])


def indicator_name(column: dict[str, Any], lang: str) -> str:
    return (column.get("name_en") or column["short"]) if lang == "en" else column["short"]


def map_rows(ranking: Ranking, indicator: str, lang: str) -> list[dict[str, Any]]:
    """One row per unit: the value drawn, its rank, the profile link and the tooltip text."""
    column = next(c for c in ranking.columns if c["code"] == indicator)
    prefix = "/en" if lang == "en" else ""
    t = labels(lang)
    out = []
    for r in ranking.rows:
        figure = r["figures"][indicator]
        shown = number(figure["value"], lang) if figure["value"] is not None else t["not_published"]
        tip = f"{name(r, lang)} — {indicator_name(column, lang)}: {shown}"
        if figure["rank"] is not None:
            tip += f" ({t['rank']} {figure['rank']})"
        out.append({"code": r["code"], "name": name(r, lang), "value": figure["value"],
                    "rank": figure["rank"], "source": figure["source"],
                    "href": f"{prefix}/provinces/{r['code']}?edition={ranking.edition.id}"
                    + (f"&basis={ranking.basis}" if ranking.basis != ranking.edition.unit_set else ""), "tip": tip})
    return out


def map_svg(ranking: Ranking, indicator: str, lang: str, rows: list[dict[str, Any]] | None = None) -> str:
    """The map of one edition on one basis for one shown node, as inline SVG (cached)."""
    rows = rows if rows is not None else map_rows(ranking, indicator, lang)
    column = next(c for c in ranking.columns if c["code"] == indicator)
    key = tuple((r["code"], r["value"], r["href"], r["tip"]) for r in rows)
    return render(ranking.basis, indicator_name(column, lang), "en" if lang == "en" else "vi", key)


@lru_cache(maxsize=256)
def render(basis: str, title: str, lang: str, rows: tuple[tuple[Any, ...], ...]) -> str:
    """Render once per distinct (basis, title, language, values); later calls hit the cache."""
    from dti.web import vega  # drawn in a helper process: vl-convert holds the GIL

    spec = map_spec(basis, title, lang, [dict(zip(("code", "value", "href", "tip"), r)) for r in rows])
    return tidy_svg(vega.to_svg(spec, NUMBER_LOCALE[lang]))


def map_spec(basis: str, title: str, lang: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    t = labels(lang)
    shape = {"type": "geoshape", "stroke": "#ffffff", "strokeWidth": 0.4}
    links = {"href": {"field": "href"}, "description": {"field": "tip"}}
    layers = []
    if any(r["value"] is not None for r in rows):
        layers.append({
            "transform": [{"filter": "datum.value != null"}], "mark": shape,
            "encoding": {**links, "color": {
                "field": "value", "type": "quantitative", "title": title,
                "scale": {"scheme": SCHEME},
                "legend": {"orient": "top-right", "format": ".2f", "gradientLength": 100,
                           "direction": "vertical"}}}})
    if any(r["value"] is None for r in rows):
        layers.append({
            "transform": [{"filter": "datum.value == null"}], "mark": shape,
            "encoding": {**links, "fill": {
                "datum": t["not_published"], "type": "nominal", "title": None,
                "scale": {"range": [MISSING_COLOUR]},
                "legend": {"symbolType": "square", "orient": "top-right", "title": None,
                           "direction": "vertical"}}}})
    # The islets are drawn by the shapes above but are too small to see: mark and name them.
    layers.append({
        "data": {"values": list(islet_markers(basis))},
        "mark": {"type": "circle", "size": 4, "color": "#44515e", "opacity": 1, "aria": False},
        "encoding": {"longitude": {"field": "lon", "type": "quantitative"},
                     "latitude": {"field": "lat", "type": "quantitative"}}})
    layers.extend({
        "data": {"values": [{"lon": i["lon"], "lat": i["lat"], "label": i[lang],
                             "lines": i[lang].replace(" (", "\n(")}]},
        "mark": {"type": "text", "fontSize": 9, "fontStyle": "italic", "lineBreak": "\n",
                 "color": "#44515e", "baseline": i["baseline"]},
        "encoding": {"longitude": {"field": "lon", "type": "quantitative"},
                     "latitude": {"field": "lat", "type": "quantitative"},
                     "text": {"field": "lines"}, "description": {"field": "label"}}} for i in ISLANDS)
    return {
        "$schema": SCHEMA, "width": 380, "height": 410, "padding": 4,
        "projection": {"type": "mercator"},
        "data": {"values": topology(basis), "format": {"type": "topojson", "feature": "provinces"}},
        "transform": [{"lookup": "id", "from": {"data": {"values": rows}, "key": "code",
                                                "fields": ["value", "href", "tip"]}}],
        "layer": layers,
        "config": {"view": {"stroke": None},
                   "legend": {"labelFontSize": 10, "titleFontSize": 11, "titleLimit": 170,
                              "labelLimit": 170,
                              "layout": {"top-right": {"direction": "vertical", "margin": 6}}}},
    }


_NUMBER = re.compile(r"-?\d+\.\d+")
# Vega resolves an href against its loader's base URL; ours are site paths, so keep only those.
_LINK = re.compile(r'xlink:href="[^"]*?(/(?:en/)?provinces/[^"]*)"')


def _round(match: re.Match) -> str:
    text = f"{float(match.group()):.1f}".removesuffix(".0")
    return "0" if text == "-0" else text


def tidy_svg(svg: str) -> str:
    """Make vl-convert's SVG fit for inlining: links relative to the site, no namespace URLs,
    path coordinates to 0.1 px, and a ``<title>`` (the browser's own tooltip) in every labelled
    shape."""
    svg = _LINK.sub(r'href="\1"', svg)
    svg = svg.replace(' xmlns="http://www.w3.org/2000/svg"', "")
    svg = svg.replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', "")
    svg = svg.replace(' transform="translate(0,0)"', "")
    svg = re.sub(r' (d|transform)="([^"]*)"',
                 lambda m: f' {m.group(1)}="' + _NUMBER.sub(_round, m.group(2)) + '"', svg)
    return re.sub(r'<path aria-label="([^"]*)"([^>]*?)/>',
                  r'<path aria-label="\1"\2><title>\1</title></path>', svg)
