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
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from dti.messages import bilingual
from dti.web.i18n import name, number
from dti.web.snapshot import Catalogue, Ranking, ShownNode, Sources

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
LABELS = bilingual("portal.maps")
NUMBER_LOCALE = bilingual("portal.number_locale")


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


def indicator_name(column: ShownNode, lang: str) -> str:
    return (column.name_en or column.short) if lang == "en" else column.short


SHOWS = ("score", "rank")
RANK_CLASSES = 5
# Five steps of the score map's scheme (yellowgreenblue), darkest first: rank 1 is the darkest.
RANK_COLOURS = ("#225aa5", "#258bbb", "#45b4c2", "#86d0bb", "#c7e9b5")


def page_rankings(catalogue: Catalogue, edition_id: str, basis: str = "") -> list[Ranking]:
    """The maps of one map page: the basis asked for, or every basis of the edition that has
    boundaries (side by side); empty when there is nothing to draw."""
    edition = catalogue.edition(edition_id)
    if edition is None:
        return []
    bases = [basis] if basis else list(edition.bases)
    found = [catalogue.ranking(edition.id, b) for b in bases if has_map(b)]
    return [r for r in found if r is not None]


def default_show(rankings: Sequence[Ranking], indicator: str) -> str:
    """The view that colours the most units over the maps of a page: by published rank when fewer
    units have a published score than a published rank (DTI 2022: 6 scores, 63 ranks), else by
    score.  Shared by the page, its static export and the national PDF so that they agree."""
    figures = [r.figures[indicator] for ranking in rankings for r in ranking.rows]
    scored = sum(f.value is not None for f in figures)
    ranked = sum(f.rank is not None for f in figures)
    return "rank" if ranked > scored else "score"


@dataclass(frozen=True, slots=True)
class MapRow:
    """One unit of a map: the value drawn (``drawn``: the score, or the published rank when the
    map shows ranks), score, rank, source, sources, the profile link and the tooltip text."""

    code: str
    name: str
    value: float | None
    drawn: float | None
    rank: int | None
    source: str
    sources: Sources
    href: str
    tip: str

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "value": self.value, "drawn": self.drawn,
                "rank": self.rank, "source": self.source, "sources": self.sources,
                "href": self.href, "tip": self.tip}

    def summary(self) -> dict[str, Any]:
        """What the map page's JSON twin lists per unit (no drawing details, no sources)."""
        return {"code": self.code, "name": self.name, "value": self.value, "rank": self.rank,
                "source": self.source, "href": self.href}


def map_rows(ranking: Ranking, indicator: str, lang: str, show: str = "score") -> list[MapRow]:
    """One row per unit of the ranking, on the shown node ``indicator``."""
    column = ranking.column(indicator)
    prefix = "/en" if lang == "en" else ""
    t = labels(lang)
    out = []
    for r in ranking.rows:
        figure = r.figures[indicator]
        shown = number(figure.value, lang) if figure.value is not None else t["not_published"]
        tip = f"{name(r, lang)} — {indicator_name(column, lang)}: {shown}"
        if figure.rank is not None:
            tip += f" ({t['rank']} {figure.rank})"
        href = (f"{prefix}/provinces/{r.code}?edition={ranking.edition.id}"
                + (f"&basis={ranking.basis}" if ranking.basis != ranking.edition.unit_set else ""))
        out.append(MapRow(r.code, name(r, lang), figure.value,
                          figure.rank if show == "rank" else figure.value, figure.rank,
                          figure.source, figure.sources, href, tip))
    return out


def map_svg(ranking: Ranking, indicator: str, lang: str, rows: list[MapRow] | None = None,
            show: str = "score") -> str:
    """The map of one edition on one basis for one shown node, as inline SVG (cached)."""
    rows = rows if rows is not None else map_rows(ranking, indicator, lang, show)
    column = ranking.column(indicator)
    key = tuple((r.code, r.drawn, r.href, r.tip) for r in rows)
    # The legend's title names the node, then what its colours stand for in this view.
    title = (indicator_name(column, lang), labels(lang)[f"{show}_legend"])
    return render(ranking.basis, title, "en" if lang == "en" else "vi", key, show)


@lru_cache(maxsize=256)
def render(basis: str, title: tuple[str, ...], lang: str, rows: tuple[tuple[Any, ...], ...],
           show: str = "score") -> str:
    """Render once per distinct (basis, title, language, values); later calls hit the cache."""
    from dti.web import vega  # drawn in a helper process: vl-convert holds the GIL

    spec = map_spec(basis, title, lang, [dict(zip(("code", "value", "href", "tip"), r)) for r in rows],
                    show)
    return tidy_svg(vega.to_svg(spec, NUMBER_LOCALE[lang]))


def rank_classes(ranks: list[float]) -> list[tuple[int, int, str]]:
    """Quintile classes of the published ranks, best first: (first rank, last rank, label "1–12");
    tied ranks stay in one class."""
    ordered = sorted(int(r) for r in ranks)
    starts = sorted({ordered[len(ordered) * i // RANK_CLASSES] for i in range(RANK_CLASSES)})
    ends = [s - 1 for s in starts[1:]] + [ordered[-1]]
    return [(a, b, f"{a}–{b}" if a != b else f"{a}") for a, b in zip(starts, ends)]


def map_spec(basis: str, title: str | Sequence[str], lang: str, rows: list[dict[str, Any]],
             show: str = "score") -> dict[str, Any]:
    """The Vega-Lite spec: a continuous scale of the score, or (``show="rank"``) quintile classes
    of the published rank, rank 1 darkest; units without a figure are grey.  A title given as
    lines is the legend's title on as many lines."""
    t = labels(lang)
    title = title if isinstance(title, str) else list(title)
    shape = {"type": "geoshape", "stroke": "#ffffff", "strokeWidth": 0.4}
    links = {"href": {"field": "href"}, "description": {"field": "tip"}}
    layers = []
    if any(r["value"] is not None for r in rows):
        if show == "rank":
            names = rank_classes([r["value"] for r in rows if r["value"] is not None])
            rows = [{**r, "class": next((n for lo, hi, n in names if lo <= r["value"] <= hi), None)
                     if r["value"] is not None else None} for r in rows]
            colour = {"field": "class", "type": "ordinal", "title": title,
                      "scale": {"domain": [n for _, _, n in names],
                                "range": list(RANK_COLOURS[:len(names)])},
                      "legend": {"orient": "top-right", "symbolType": "square", "direction": "vertical"}}
        else:
            colour = {"field": "value", "type": "quantitative", "title": title,
                      "scale": {"scheme": SCHEME},
                      "legend": {"orient": "top-right", "format": ".2f", "gradientLength": 100,
                                 "direction": "vertical"}}
        layers.append({
            "transform": [{"filter": "datum.value != null"}], "mark": shape,
            "encoding": {**links, "color": colour}})
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
                                                "fields": ["value", "href", "tip",
                                                           *(["class"] if show == "rank" else [])]}}],
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
