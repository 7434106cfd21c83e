"""Public pages.  Each route builds one context; :func:`respond` renders it as HTML, JSON or CSV
depending on the path's suffix, so a page and its twins can never disagree.

Every route is ``async`` and does its work on a pool of its own (:func:`offloaded`, PDF reports on
the report shelf): the event loop only answers, and the answer is kept by the portal layer
(:mod:`dti.web.portal_http`) under the path and the parameters the routes read, so a page is
rendered once per catalogue whatever else its URL carries.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from dti.io.export import to_csv, to_json, workbook_bytes
from dti.web import planner_api, portal_nav
from dti.web.context import app_context
from dti.web.i18n import name, text
from dti.web.public_cache import kept_query
from dti.web.render_gate import offloaded
from dti.web.snapshot import Catalogue, Ranking, RankingRow, province_history, score_change

router = APIRouter(include_in_schema=False)
FORMATS = ("json", "csv", "xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Pages that read no query parameter: their other-language link carries none.
UNSELECTED = ("home.html", "level_national.html", "level_body.html")


def lang_of(request: Request) -> str:
    path = request.url.path
    return "en" if path == "/en" or path.startswith("/en/") else "vi"


def split_format(name_: str) -> tuple[str, str]:
    for fmt in FORMATS:
        if name_.endswith(f".{fmt}"):
            return name_[: -len(fmt) - 1], fmt
    return name_, "html"


def respond(request: Request, template: str, context: dict[str, Any], fmt: str,
            rows: list[dict[str, Any]] | None = None) -> Response:
    """The same context as HTML (template), JSON (the data) or CSV (``rows``).

    Published editions are frozen: the portal layer keeps the answer (bytes, gzip, ETag), so
    publication-day traffic is served from memory, never recomputed.
    """
    body, media = _render(request, template, context, fmt, rows)
    return Response(body, media_type=media)


def _render(request: Request, template: str, context: dict[str, Any], fmt: str,
            rows: list[dict[str, Any]] | None) -> tuple[bytes, str]:
    shared = app_context(request)
    data = context.get("data", {})
    shown = context.get("edition")
    if not hasattr(shown, "illustrative"):
        shown = shared.catalogue.edition(str(data.get("edition") or ""))
    illustrative = bool(shown is not None and shown.illustrative)
    if illustrative:   # simulated data is labelled in every form the page takes
        data = {"illustrative": True, "illustrative_note": shown.note, **data}
    if fmt == "json":
        return to_json(data).encode("utf-8"), "application/json; charset=utf-8"
    if fmt == "csv":
        return ("\ufeff" + to_csv(rows or [])).encode("utf-8"), "text/csv; charset=utf-8"
    if fmt == "xlsx":  # the rows, with the licence and source on a sheet of their own
        about = [{"key": k, "value": v if isinstance(v, (str, int, float)) or v is None
                  else to_json(v)} for k, v in data.items() if not isinstance(v, list)]
        return workbook_bytes({"results": rows or [], "about": about}), XLSX
    lang = lang_of(request)
    base = request.url.path.removeprefix("/en") or "/"
    switch = base if lang == "en" else "/en" + (base if base != "/" else "/")
    page = shared.templates.get_template(template).render({
        **context, "request": request, "lang": lang, "t": text(lang),
        "prefix": "/en" if lang == "en" else "", "switch": switch,
        "settings": shared.settings,
        # the other language's link keeps what selects within the page (some pages have none)
        "query": kept_query(request.scope["query_string"], shared.public.recognised)
        if template not in UNSELECTED else "",
        "catalogue": shared.catalogue,
        "illustrative_note": shown.note if illustrative else None})
    return page.encode("utf-8"), "text/html; charset=utf-8"


def _catalogue(request: Request) -> Catalogue:
    return app_context(request).catalogue


def _ranking(request: Request, edition_id: str, basis: str | None) -> Ranking:
    ranking = _catalogue(request).ranking(edition_id, basis or None)
    if ranking is None:
        raise HTTPException(404, f"no published edition {edition_id!r}"
                            + (f" on {basis}" if basis else ""))
    return ranking


def _years(request: Request, kind: str, edition_id: str, **where: Any) -> list[dict[str, Any]]:
    """The year switcher of a page: every public edition, each to the same kind of page."""
    prefix = "/en" if lang_of(request) == "en" else ""
    return portal_nav.year_links(_catalogue(request), kind, prefix, edition_id, **where)


@router.get("/", response_class=HTMLResponse)
@offloaded("pages")
def home(request: Request) -> Response:
    """What the DTI is, every public edition (timeline) and the latest edition's leaders."""
    catalogue, lang = _catalogue(request), lang_of(request)
    data = {"editions": portal_nav.timeline(catalogue, lang),
            "latest": portal_nav.headline(catalogue, lang), "licence": text(lang)["licence"]}
    return respond(request, "home.html", {"data": data, "edition": catalogue.latest}, "html")


@router.get("/editions/{edition}")
@offloaded("pages")
def ranking_page(request: Request, edition: str, basis: str = "", region: str = "",
                 q: str = "", sort: str = "", order: str = "asc") -> Response:
    edition_id, fmt = split_format(edition)
    ranking = _ranking(request, edition_id, basis)
    lang = lang_of(request)
    rows = _filtered(ranking, region, q, sort, order)
    data = ranking_data(ranking, rows, lang)
    regions = sorted({r.region for r in ranking.rows if r.region})
    return respond(request, "ranking.html", {"ranking": ranking, "rows": rows, "data": data,
                                             "regions": regions, "region": region, "q": q,
                                             "sort": sort, "order": order,
                                             "years": _years(request, "ranking", edition_id)}, fmt,
                   flat_rows(ranking, rows, lang))


def _filtered(ranking: Ranking, region: str, q: str, sort: str, order: str) -> list[RankingRow]:
    from dti.units import normalise_name

    rows = list(ranking.rows)
    if region:
        rows = [r for r in rows if r.region == region]
    if q:
        key = normalise_name(q)
        rows = [r for r in rows if key in normalise_name(r.name_vi)]
    if sort and ranking.column(sort) is not None:
        present = [r for r in rows if r.figures[sort].value is not None]
        absent = [r for r in rows if r.figures[sort].value is None]
        present.sort(key=lambda r: r.figures[sort].value, reverse=order != "asc")
        rows = present + absent
    return rows


def ranking_data(ranking: Ranking, rows: list[RankingRow], lang: str) -> dict[str, Any]:
    edition = ranking.edition
    return {"edition": edition.id, "name": edition.name(lang), "basis": ranking.basis,
            "published_on": edition.published_on, "legal_basis": edition.legal_basis,
            "previous_edition": ranking.previous, "licence": text(lang)["licence"],
            "columns": list(ranking.columns),
            "results": [{"code": r.code, "name": name(r, lang), "region": r.region,
                         "rank": r.rank, "value": r.value, "previous_rank": r.previous_rank,
                         "change": r.change, "figures": r.figures} for r in rows]}


def flat_rows(ranking: Ranking, rows: list[RankingRow], lang: str) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        flat = {"code": r.code, "name": name(r, lang), "region": r.region}
        for c in ranking.columns:
            figure = r.figures[c.code]
            flat[c.code] = figure.value
            flat[f"rank_{c.code}"] = figure.rank
        flat["change"] = r.change
        flat["sources"] = str(r.sources)   # the total's sources, one readable cell
        out.append(flat)
    return out


@router.get("/provinces/{code}")
@offloaded("pages")
def province_page(request: Request, code: str, edition: str = "", basis: str = "") -> Response:
    code, fmt = split_format(code)
    catalogue = _catalogue(request)
    chosen = catalogue.edition(edition) if edition else catalogue.latest
    if chosen is None:
        raise HTTPException(404, f"no published edition {edition!r}")
    ranking = catalogue.locate(chosen.id, code, basis or None)
    if ranking is None:
        raise HTTPException(404, f"no province with code {code!r} in {chosen.id}")
    basis = ranking.basis
    row = ranking.row(code)
    lang = lang_of(request)
    comparison = ranking.compared(code)
    data = {"code": code, "name": name(row, lang), "region": row.region, "edition": chosen.id,
            "basis": basis, "figures": comparison, "change": row.change,
            "previous_rank": row.previous_rank, "previous_edition": ranking.previous,
            "history": province_history(catalogue, code, basis), "licence": text(lang)["licence"],
            "rank_interval": _rank_interval(chosen, code, basis),
            "score_change": score_change(catalogue, chosen.id, code, basis)}
    years = _years(request, "profile", chosen.id, code=code, basis=basis)
    return respond(request, "province.html", {"row": row, "ranking": ranking, "data": data,
                                              "years": years}, fmt,
                   [f.as_dict() for f in comparison])


def _rank_interval(edition, code: str, basis: str) -> dict[str, Any] | None:
    """The province's rank interval from the uncertainty analysis published with the edition."""
    analysis = edition.uncertainty
    if not analysis or basis != edition.unit_set or code not in analysis.get("units", {}):
        return None
    noise = next((c.get("noise") for c in analysis["spec"].get("choices", [])
                  if c.get("name") == "weights"), None)
    return {**analysis["units"][code], "runs": analysis["runs"], "seed": analysis["spec"]["seed"],
            "weights_noise": noise}


@router.get("/compare")
@router.get("/compare.{fmt}")
@offloaded("pages")
def compare_page(request: Request, units: list[str] = Query(default=[]), edition: str = "",
                 fmt: str = "html") -> Response:
    catalogue = _catalogue(request)
    chosen = catalogue.edition(edition) if edition else catalogue.latest
    if chosen is None or fmt not in ("html", *FORMATS):
        raise HTTPException(404, "no such page")
    ranking = catalogue.ranking(chosen.id)
    codes = list(dict.fromkeys(c for u in units for c in u.split(",") if c))[:4]
    rows = [r for c in codes if (r := ranking.row(c))]
    lang = lang_of(request)
    data = {"edition": chosen.id, "basis": ranking.basis,
            "provinces": [{"code": r.code, "name": name(r, lang), "figures": r.figures}
                          for r in rows], "licence": text(lang)["licence"]}
    years = _years(request, "compare", chosen.id, units=tuple(codes))
    return respond(request, "compare.html", {"ranking": ranking, "rows": rows, "data": data,
                                             "codes": codes, "years": years}, fmt,
                   flat_rows(ranking, rows, lang))


@router.get("/editions/{edition}/method")
@router.get("/editions/{edition}/method.{fmt}")
@offloaded("pages")
def method_page(request: Request, edition: str, fmt: str = "html") -> Response:
    chosen = _catalogue(request).edition(edition)
    if chosen is None or fmt not in ("html", *FORMATS):
        raise HTTPException(404, f"no published edition {edition!r}")
    fw = chosen.framework
    nodes = [{"code": n.code, "name_vi": n.name_vi, "name_en": n.name_en, "type": n.type,
              "role": n.role, "level": n.level, "parents": list(n.parents),
              "max_points": n.max_points, "scored": n.scored, "note": n.note} for n in fw.nodes]
    data = {"edition": chosen.id, "framework": fw.id, "name_vi": fw.name_vi, "name_en": fw.name_en,
            "legal_basis": fw.meta.get("legal_basis", chosen.legal_basis),
            "formula": fw.meta.get("formula"), "unknown": fw.meta.get("unknown"),
            "sub_indicators": fw.meta.get("sub_indicators"), "precision": fw.precision,
            "note": chosen.note, "nodes": nodes,
            # the English wording of the same texts (the Vietnamese stays the reference)
            "legal_basis_en": fw.meta.get("legal_basis_en"), "formula_en": fw.meta.get("formula_en"),
            "unknown_en": fw.meta.get("unknown_en"), "note_en": chosen.note_en}
    ranking = _catalogue(request).ranking(chosen.id)
    shown = [c.code for c in ranking.columns] if ranking else []
    return respond(request, "method.html", {"edition": chosen, "data": data, "ranking_codes": shown,
                                            "years": _years(request, "method", chosen.id)}, fmt,
                   nodes)


@router.get("/editions/{edition}/map")
@router.get("/editions/{edition}/map.{fmt}")
@offloaded("pages")
def map_page(request: Request, edition: str, basis: str = "", indicator: str = "",
             show: str = "", fmt: str = "html") -> Response:
    """Choropleth of one shown node (total, pillar or main indicator): every basis of the edition
    side by side, or the one asked for.  Without ``show`` the page takes the view with the most
    published figures (:func:`dti.web.maps.default_show`).  The SVG is drawn once per map and
    cached (dti.web.maps)."""
    from dti.web import maps

    chosen = _catalogue(request).edition(edition)
    if chosen is None or fmt not in ("html", *FORMATS):
        raise HTTPException(404, f"no published edition {edition!r}")
    rankings = maps.page_rankings(_catalogue(request), chosen.id, basis)
    if not rankings:
        raise HTTPException(404, f"no map of {chosen.id}" + (f" on {basis}" if basis else ""))
    columns = rankings[0].columns
    code = indicator or rankings[0].root
    column = rankings[0].column(code)
    if column is None:
        raise HTTPException(404, f"no indicator {indicator!r} in {chosen.id}")
    if show and show not in maps.SHOWS:
        raise HTTPException(404, f"no map by {show!r}; show is score or rank")
    default = maps.default_show(rankings, code)
    asked, show = show, show or default
    lang = lang_of(request)
    t = maps.labels(lang)
    panels, flat = [], []
    for ranking in rankings:
        rows = maps.map_rows(ranking, code, lang, show)
        panels.append({"basis": ranking.basis, "rows": rows,
                       "svg": maps.map_svg(ranking, code, lang, rows, show) if fmt == "html" else "",
                       "with_value": sum(r.value is not None for r in rows),
                       "geo": t["geo"][ranking.basis]})
        flat += [{"basis": ranking.basis, "code": r.code, "name": r.name, "indicator": code,
                  "value": r.value, "rank": r.rank, "source": r.source} for r in rows]
    data = {"edition": chosen.id, "name": chosen.name(lang), "show": show, "default_show": default,
            "indicator": {"code": code, "name": maps.indicator_name(column, lang), "role": column.role},
            "indicators": [{"code": c.code, "name": maps.indicator_name(c, lang), "role": c.role}
                           for c in columns],
            "maps": [{"basis": p["basis"], "units": len(p["rows"]), "units_with_value": p["with_value"],
                      "geometry": maps.FILES[p["basis"]], "geometry_source": p["geo"],
                      "results": [r.summary() for r in p["rows"]]} for p in panels],
            "licence": text(lang)["licence"]}
    years = _years(request, "map", chosen.id, indicator=code)
    return respond(request, "map.html", {"edition": chosen, "panels": panels, "columns": columns,
                                         "column": column, "basis": basis, "m": t, "data": data,
                                         "years": years, "show": show, "asked": asked,
                                         "default_show": default}, fmt, flat)


@router.get("/editions/{edition}/indicators/{code}")
@offloaded("pages")
def indicator_page(request: Request, edition: str, code: str, basis: str = "") -> Response:
    """One pillar or main indicator: every province ranked on it, with its definition."""
    code, fmt = split_format(code)
    ranking = _ranking(request, edition, basis)
    column = ranking.column(code)
    if column is None:
        raise HTTPException(404, f"{code!r} is not a pillar or main indicator of {edition!r}")
    lang = lang_of(request)
    rows = _filtered(ranking, "", "", code, "desc")
    node = ranking.edition.framework[code]
    values = [r.figures[code].value for r in rows if r.figures[code].value is not None]
    data = {"edition": ranking.edition.id, "basis": ranking.basis, "indicator": column,
            "parents": list(node.parents), "children": list(ranking.edition.framework.children[code]),
            "mean_of_published": sum(values) / len(values) if values else None,
            "provinces_with_value": len(values), "licence": text(lang)["licence"],
            "results": [{"code": r.code, "name": name(r, lang), "region": r.region,
                         **r.figures[code].as_dict()} for r in rows]}
    years = _years(request, "indicator", ranking.edition.id, indicator=code)
    return respond(request, "indicator.html", {"ranking": ranking, "column": column, "rows": rows,
                                               "data": data, "years": years}, fmt, data["results"])


@router.get("/provinces/{code}/plan")
@router.get("/provinces/{code}/plan.{fmt}")
@offloaded("planner")
def plan_page(request: Request, code: str, edition: str = "", rank: str = "",
              strict: str = "", fmt: str = "html") -> Response:
    """How many points a province needs to reach a rank (default: one place up), and who could
    overtake it — the planner API's answers (dti.web.planner_api) as a page and its twins."""
    catalogue = _catalogue(request)
    chosen = catalogue.edition(edition) if edition else catalogue.latest
    if chosen is None:
        raise HTTPException(404, f"no published edition {edition!r}")
    if fmt not in ("html", *FORMATS):
        raise HTTPException(404, "no such page")
    if rank and (not rank.isdigit() or not 1 <= int(rank) <= 100):
        raise HTTPException(422, f"the target rank must be a whole number from 1 to 100, got {rank!r}")
    plan = planner_api.compute_plan(request, chosen, code, int(rank) if rank else None, None,
                                    strict in ("1", "true", "on"))
    defence = planner_api.compute_defence(request, chosen, code, 5)
    lang = lang_of(request)
    data = {"plan": plan.model_dump(mode="json"), "defence": defence.model_dump(mode="json"),
            "licence": text(lang)["licence"]}
    return respond(request, "plan.html", {"edition": chosen, "plan": plan, "defence": defence,
                                          "data": data}, fmt, data["plan"]["steps"])


async def _pdf_response(request: Request, spec) -> Response:
    """A PDF report: rendered ahead onto disk, else once (single-flight) in the report pool."""
    from dti.web.reports import ReportNotFound

    shelf = app_context(request).reports
    try:
        body = await shelf.get(spec(shelf))
    except ReportNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    return Response(body, media_type="application/pdf")


@router.get("/reports/editions/{edition}.pdf")
async def national_report_pdf(request: Request, edition: str, basis: str = "") -> Response:
    """The national PDF report of a published edition (dti.web.reports)."""
    lang = lang_of(request)
    return await _pdf_response(request, lambda shelf: shelf.national(edition, basis, lang))


@router.get("/reports/provinces/{code}.pdf")
async def province_report_pdf(request: Request, code: str, edition: str = "",
                              basis: str = "") -> Response:
    """A province's PDF profile for an edition (default: the latest published)."""
    lang = lang_of(request)
    edition_id = edition or _catalogue(request).latest.id
    return await _pdf_response(request, lambda shelf: shelf.province(edition_id, code, basis, lang))
