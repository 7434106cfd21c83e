"""PDF reports of a published edition: a national report and a profile per province.

Each report is an HTML page (``web/templates/report_*.html``, print CSS with ``@page``, set in
Noto Sans, which Debian's ``fonts-noto-core`` installs) turned into PDF by WeasyPrint.  The
charts are the portal's own: the choropleth SVG of :mod:`dti.web.maps` and a Vega-Lite bar chart
of the top ten rendered to SVG by vl-convert, offline.  The same catalogue gives the same bytes:
the document's dates are the edition's publication date, never the clock.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path
from typing import Any

from dti.messages import bilingual
from dti.web.i18n import date_text, name, number, region, text
from dti.web.report_sources import national_citations, province_citations
from dti.web.snapshot import Catalogue, Ranking, province_history

TEMPLATES = Path(__file__).resolve().parent / "templates"
SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
LABELS = bilingual("portal.reports")


class ReportNotFound(LookupError):
    """No published edition, basis or province by that name: the routes answer 404."""


def labels(lang: str) -> dict[str, str]:
    return LABELS["en" if lang == "en" else "vi"]


@lru_cache(maxsize=1)
def _env():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))
    env.globals.update(number=number, date_text=date_text, text=text, region_name=region, name=name)
    return env


def _ranking(catalogue: Catalogue, edition_id: str, basis: str | None) -> Ranking:
    ranking = catalogue.ranking(edition_id, basis or None)
    if ranking is None:
        raise ReportNotFound(f"no published edition {edition_id!r}" + (f" on {basis}" if basis else ""))
    return ranking


def _svg_uri(svg: str) -> str:
    """An SVG as a data URI for ``<img>``; the portal's inline SVGs drop their namespace."""
    if "xmlns=" not in svg.split(">", 1)[0]:
        svg = svg.replace("<svg", '<svg xmlns="http://www.w3.org/2000/svg" '
                          'xmlns:xlink="http://www.w3.org/1999/xlink"', 1)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def top_rows(ranking: Ranking, count: int = 10) -> list[dict[str, Any]]:
    """The ``count`` best units by published rank (ties included), with or without a published
    score: a unit whose score is not published keeps its place."""
    ranked = [r for r in ranking.rows if r.rank is not None]
    if len(ranked) <= count:
        return ranked
    last = ranked[count - 1].rank
    return [r for r in ranked if r.rank <= last]


def top_spec(ranking: Ranking, lang: str, count: int = 10) -> dict[str, Any]:
    """Vega-Lite bar chart of the overall index of the ``count`` best-ranked units, in rank order;
    a unit without a published score has no bar and says so."""
    t = text(lang)
    values = [{"unit": f"{r.rank}. {name(r, lang)}", "value": r.value, "x": r.value or 0,
               "label": number(r.value, lang) if r.value is not None else t["not_published"]}
              for r in top_rows(ranking, count)]
    y = {"field": "unit", "type": "nominal", "sort": None, "title": None}
    x = {"field": "value", "type": "quantitative", "title": t["score"], "scale": {"domain": [0, 1]}}
    return {"$schema": SCHEMA, "data": {"values": values},
            "width": 360, "height": {"step": 18},
            "config": {"font": "Noto Sans", "view": {"stroke": None}},
            "layer": [{"transform": [{"filter": "datum.value != null"}],
                       "mark": {"type": "bar", "color": "#2c7fb8"}, "encoding": {"y": y, "x": x}},
                      {"mark": {"type": "text", "align": "left", "dx": 3, "fontSize": 9},
                       "encoding": {"y": y, "x": {"field": "x", "type": "quantitative"},
                                    "text": {"field": "label", "type": "nominal"}}}]}


@lru_cache(maxsize=64)
def _chart_svg(spec_json: str, lang: str) -> str:
    import json

    from dti.web import vega  # drawn in a helper process: vl-convert holds the GIL
    from dti.web.maps import NUMBER_LOCALE

    return vega.to_svg(json.loads(spec_json), NUMBER_LOCALE["en" if lang == "en" else "vi"])


def chart_svg(spec: dict[str, Any], lang: str) -> str:
    import json

    return _chart_svg(json.dumps(spec, ensure_ascii=False, sort_keys=True), lang)


def _pdf(template: str, context: dict[str, Any], lang: str, date: str) -> bytes:
    from weasyprint import HTML  # imported here: only reports need it (and its system libraries)

    html = _env().get_template(template).render({**context, "lang": lang, "t": text(lang),
                                                 "r": labels(lang), "date": date})
    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf(uncompressed_pdf=False)


def national_report(catalogue: Catalogue, edition_id: str, lang: str = "vi",
                    basis: str | None = None) -> bytes:
    """Title, legal basis, the map, the top ten and the full ranking of one published edition,
    each row with the numbers of its sources, listed at the end."""
    from dti.web import maps

    ranking = _ranking(catalogue, edition_id, basis)
    edition = ranking.edition
    # The view the portal's map page of this edition (and basis) opens on: by published rank
    # when fewer scores than ranks are published.
    show = maps.default_show(maps.page_rankings(catalogue, edition.id, basis or "") or [ranking],
                             ranking.root)
    map_uri = (_svg_uri(maps.map_svg(ranking, ranking.root, lang, show=show))
               if maps.has_map(ranking.basis) else None)
    context = {"ranking": ranking, "edition": edition, "rows": ranking.rows,
               "map_uri": map_uri, "top_uri": _svg_uri(chart_svg(top_spec(ranking, lang), lang)),
               "top": top_rows(ranking), "map_show": show, "map_note": maps.labels(lang)[f"{show}_note"],
               "with_value": sum(r.value is not None for r in ranking.rows),
               "citations": national_citations(ranking, lang)}
    return _pdf("report_national.html", context, lang, edition.published_on)


def province_data(catalogue: Catalogue, edition_id: str, code: str, lang: str = "vi",
                  basis: str | None = None) -> dict[str, Any]:
    """What a province's profile shows: its figures against the mean and the best, its history
    (the same figures as the ``/provinces/{code}`` page)."""
    edition = catalogue.edition(edition_id)
    if edition is None:
        raise ReportNotFound(f"no published edition {edition_id!r}")
    ranking = catalogue.locate(edition.id, code, basis)
    if ranking is None:
        raise ReportNotFound(f"no province with code {code!r} in {edition.id}")
    chosen, row, comparison = ranking.basis, ranking.row(code), ranking.compared(code)
    return {"ranking": ranking, "row": row, "code": code, "display_name": name(row, lang),
            "region": row.region, "basis": chosen, "figures": comparison,
            "units": len(ranking.rows), "history": province_history(catalogue, code, chosen)}


def province_report(catalogue: Catalogue, edition_id: str, code: str, lang: str = "vi",
                    basis: str | None = None) -> bytes:
    """One province's profile: name, region, rank, figures against the mean and the best, history;
    every figure with the numbers of its sources, listed at the end."""
    data = province_data(catalogue, edition_id, code, lang, basis)
    edition = data["ranking"].edition
    return _pdf("report_province.html", {**data, "edition": edition,
                                         "citations": province_citations(catalogue, data, lang)},
                lang, edition.published_on)
