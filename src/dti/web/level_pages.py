"""The ministry-level and national DTI on the public portal: the ranking of ministries and
government bodies in their two groups, each body's profile across the 2025 restructuring, and the
national DTI over the years beside the group averages.

These levels carry only what was published (:mod:`dti.editions.levels`): a score or rank not
published is shown as such, never as 0.  The pages follow :mod:`dti.web.pages`: one context per
route, rendered by :func:`~dti.web.pages.respond` as HTML, JSON or CSV.  The only query parameter
is ``edition``, one the portal layer already keys its answers on.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from dti.editions.levels import LevelEdition, LevelFigure, LevelResult
from dti.messages import bilingual
from dti.units.bodies import Body, body, change_text, group_name, predecessors, successor
from dti.web import level_chart
from dti.web.context import app_context
from dti.web.i18n import text
from dti.web.pages import FORMATS, lang_of, respond, split_format
from dti.web.render_gate import offloaded
from dti.web.snapshot import Catalogue

router = APIRouter(include_in_schema=False)
LABELS = bilingual("portal.levels")
# The national page's series, in the order of its legend and table columns.
NATIONAL_SERIES = ("national", "with_public_services", "without_public_services", "provinces")


def labels(lang: str) -> dict[str, str]:
    return LABELS["en" if lang == "en" else "vi"]


def level_editions(catalogue: Catalogue, level: str) -> list[LevelEdition]:
    """The catalogue's editions of ``level``, oldest first."""
    return sorted((e for e in catalogue.levels if e.level == level), key=lambda e: e.year)


def default_ministry(catalogue: Catalogue) -> LevelEdition | None:
    """The ministry ranking a bare /levels/ministry shows: the latest one with published results
    (the latest edition may publish nothing yet, and an empty page is a poor first answer)."""
    editions = level_editions(catalogue, "ministry")
    with_results = [e for e in editions if e.results]
    return (with_results or editions or [None])[-1]


def year_links(editions: list[LevelEdition], chosen: str, prefix: str) -> list[dict[str, Any]]:
    """The year switcher of the ministry ranking: one link per edition, oldest first."""
    return [{"year": e.year, "edition": e.id, "current": e.id == chosen,
             "href": f"{prefix}/levels/ministry?edition={e.id}"} for e in editions]


def host(url: str) -> str:
    """A source's site as its link text (``hanoimoi.vn``)."""
    return urlsplit(url).netloc.removeprefix("www.") or url


def _sources(urls: tuple[str, ...], quote: str = "") -> list[dict[str, str]]:
    return [{"url": u, "host": host(u), "quote": quote} for u in urls]


def _result(r: LevelResult, lang: str) -> dict[str, Any]:
    return {"code": r.code, "name": r.name(lang), "name_vi": r.name_vi, "name_en": r.name_en,
            "group": r.group, "rank": r.rank, "value": r.score, "decimals": r.decimals,
            "note": r.note if lang == "en" else (r.note_vi or r.note),
            "sources": _sources(r.sources, r.quote)}


def _figure(f: LevelFigure) -> dict[str, Any]:
    return {"group": f.group, "measure": f.measure, "value": f.value,
            "sources": [{"url": u, "host": host(u), "quote": q} for u, q in f.sources]}


def _about(e: LevelEdition, lang: str) -> dict[str, Any]:
    en = lang == "en"
    return {"edition": e.id, "level": e.level, "year": e.year, "name": e.name(lang),
            "published_on": e.published_on, "legal_basis": e.legal_basis,
            "note": e.note_en if en else e.note,
            "not_published": e.not_published_en if en else e.not_published,
            "structure": dict(e.structure), "licence": text(lang)["licence"]}


def ministry_data(e: LevelEdition, lang: str) -> dict[str, Any]:
    """The ministry ranking of one edition: each group's bodies in published order, its figures
    (averages as published) and the figures of every ministry together."""
    groups = []
    for group in ("with_public_services", "without_public_services"):
        rows = sorted(e.in_group(group), key=lambda r: (r.rank or 10**6, -(r.score or 0)))
        groups.append({"group": group, "name": group_name(group, lang),
                       "results": [_result(r, lang) for r in rows],
                       "figures": [_figure(f) for f in e.figures if f.group == group]})
    return {**_about(e, lang), "groups": groups,
            "figures": [_figure(f) for f in e.figures if f.group == "all_ministries"]}


def ministry_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The CSV twin: one row per body, its group first."""
    return [{"edition": data["edition"], "group": g["group"], "rank": r["rank"], "code": r["code"],
             "name": r["name"], "score": r["value"], "note": r["note"],
             "sources": " ; ".join(s["url"] for s in r["sources"])}
            for g in data["groups"] for r in g["results"]]


def national_data(editions: list[LevelEdition], lang: str) -> dict[str, Any]:
    """The national DTI and the group averages, one entry per year (None: not published)."""
    years = []
    for e in editions:
        nation = next(iter(e.in_group("national")), None)
        averages = {g: (f.value if (f := e.figure(g, "average_score")) else None)
                    for g in NATIONAL_SERIES[1:]}
        years.append({**_about(e, lang), "national": nation.score if nation else None,
                      "decimals": nation.decimals if nation else 4,
                      "as_printed": bool(nation and nation.decimals < 4),
                      "national_sources": _sources(nation.sources, nation.quote) if nation else [],
                      "national_note": (nation.note if lang == "en" else nation.note_vi or nation.note)
                      if nation else "",
                      "averages": averages,
                      "figures": [_figure(f) for f in e.figures]})
    return {"level": "national", "years": years, "licence": text(lang)["licence"]}


def national_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"year": y["year"], "edition": y["edition"], "national": y["national"],
             **y["averages"]} for y in data["years"]]


def national_chart(data: dict[str, Any], lang: str) -> str:
    t = labels(lang)
    series = tuple(level_chart.Series(key, t[f"series_{key}"], tuple(
        (y["year"], y["national"] if key == "national" else y["averages"][key])
        for y in data["years"])) for key in NATIONAL_SERIES)
    return level_chart.national_svg(series, t["chart"], lang)


def body_results(code: str, catalogue: Catalogue, lang: str) -> list[dict[str, Any]]:
    """A body's published rank and score in each ministry edition of the catalogue that names it,
    oldest first, each with its sources."""
    out = []
    for e in level_editions(catalogue, "ministry"):
        for r in e.results:
            if r.code == code:
                shown = _result(r, lang)
                out.append({"edition": e.id, "year": e.year, "group": r.group, "rank": r.rank,
                            "score": r.score, "decimals": r.decimals, "note": shown["note"],
                            "sources": shown["sources"]})
    return out


def body_data(of: Body, catalogue: Catalogue, lang: str) -> dict[str, Any]:
    """A body's names, group, dates, its published ranks and scores by year, and what it became
    in the 2025 restructuring or took over then."""
    after = successor(of)
    return {"code": of.code, "name": of.name(lang), "name_vi": of.name_vi, "name_en": of.name_en,
            "also_known_as": list(of.also_known_as), "group": of.group,
            "group_name": group_name(of.group, lang), "valid_from": of.valid_from or None,
            "valid_to": of.valid_to or None,
            "became": {"code": after.code, "name": after.name(lang),
                       "change": change_text(of, lang)} if after else None,
            "took_over": [{"code": b.code, "name": b.name(lang), "change": change_text(b, lang)}
                          for b in predecessors(of)],
            "history": body_results(of.code, catalogue, lang),
            "licence": text(lang)["licence"]}


# -- routes ----------------------------------------------------------------------------------------

def _catalogue(request: Request) -> Catalogue:
    return app_context(request).catalogue


def _prefix(request: Request) -> str:
    return "/en" if lang_of(request) == "en" else ""


def _format(fmt: str) -> str:
    if fmt not in ("html", *FORMATS):
        raise HTTPException(404, "no such page")
    return fmt


@router.get("/levels/ministry")
@router.get("/levels/ministry.{fmt}")
@offloaded("pages")
def ministry_page(request: Request, edition: str = "", fmt: str = "html") -> Response:
    """Ministries and government bodies ranked within their two groups, for one year."""
    catalogue, lang = _catalogue(request), lang_of(request)
    chosen = catalogue.level(edition) if edition else default_ministry(catalogue)
    if chosen is None or chosen.level != "ministry":
        raise HTTPException(404, f"no published ministry-level edition {edition!r}")
    data = ministry_data(chosen, lang)
    years = year_links(level_editions(catalogue, "ministry"), chosen.id, _prefix(request))
    return respond(request, "level_ministry.html", {"data": data, "years": years,
                                                    "lv": labels(lang)}, _format(fmt),
                   ministry_rows(data))


@router.get("/levels/national")
@router.get("/levels/national.{fmt}")
@offloaded("pages")
def national_page(request: Request, fmt: str = "html") -> Response:
    """The national DTI over the years, with the group averages, as a chart and a table."""
    lang = lang_of(request)
    data = national_data(level_editions(_catalogue(request), "national"), lang)
    chart = national_chart(data, lang) if fmt == "html" else ""
    swatches = {k: level_chart.swatch(k) for k in NATIONAL_SERIES}
    return respond(request, "level_national.html", {"data": data, "chart": chart,
                                                    "swatches": swatches, "series": NATIONAL_SERIES,
                                                    "lv": labels(lang)}, _format(fmt),
                   national_rows(data))


@router.get("/levels/ministry/{code}")
@offloaded("pages")
def body_page(request: Request, code: str) -> Response:
    """One ministry or government body: names, group, dates, published results, 2025 changes."""
    code, fmt = split_format(code)
    try:
        of = body(code)
    except KeyError:
        raise HTTPException(404, f"no ministry or government body with code {code!r}") from None
    lang = lang_of(request)
    data = body_data(of, _catalogue(request), lang)
    groups = {g: group_name(g, lang) for g in ("with_public_services", "without_public_services")}
    return respond(request, "level_body.html", {"data": data, "lv": labels(lang),
                                                "group_names": groups}, fmt,
                   [{"code": of.code, "name": data["name"], **h,
                     "sources": " ; ".join(s["url"] for s in h["sources"])} for h in data["history"]])
