"""How a reader walks the portal: the home page's timeline of editions, and the year switcher
that every edition page carries (each year's link goes to the same kind of page for that year).

Plain functions of the prebuilt :class:`~dti.web.snapshot.Catalogue`: no request, no I/O, so the
pages and their tests read the same answers.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from dti.units import load_crosswalk
from dti.web.snapshot import Catalogue


def _query(**params: Any) -> str:
    kept = {k: v for k, v in params.items() if v}
    return "?" + urlencode(kept, doseq=True) if kept else ""


def year_links(catalogue: Catalogue, kind: str, prefix: str, edition_id: str, *,
               code: str = "", basis: str = "", indicator: str = "",
               units: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """One link per public edition, oldest first, to the page of ``kind`` for that year.

    ``ranking``, ``map`` (with its indicator where the year has it), ``method`` go to the same page; ``indicator`` to the indicator where the
    code exists in that year's framework (else the ranking); ``profile`` to the province's profile
    in that year — on the same basis where the year has it, else through the crosswalk (the 2025
    reorganisation) — or the ranking when the province has no counterpart; ``compare`` keeps the
    chosen provinces that the year has.
    """
    out = []
    for edition in sorted(catalogue.editions, key=lambda e: e.year):
        base = f"{prefix}/editions/{edition.id}"
        href = base
        if kind == "map":   # keeps the node shown where that year has it
            ranking = catalogue.ranking(edition.id)
            shown = [c.code for c in ranking.columns[1:]] if ranking else []
            href = base + "/map" + (_query(indicator=indicator) if indicator in shown else "")
        elif kind == "method":
            href = base + "/method"
        elif kind == "indicator":
            ranking = catalogue.ranking(edition.id)
            if ranking and ranking.column(indicator) is not None:
                href = f"{base}/indicators/{indicator}"
        elif kind == "profile":
            href = _profile_href(catalogue, edition, code, basis, prefix) or base
        elif kind == "compare":
            ranking = catalogue.ranking(edition.id)
            kept = [c for c in units if ranking and ranking.row(c)]
            href = f"{prefix}/compare" + _query(units=",".join(kept), edition=edition.id)
        out.append({"year": edition.year, "edition": edition.id, "href": href,
                    "current": edition.id == edition_id})
    return out


def _profile_href(catalogue: Catalogue, edition, code: str, basis: str, prefix: str) -> str | None:
    crosswalk = load_crosswalk()
    for b in ([basis] if basis in edition.bases else []) + list(edition.bases):
        ranking = catalogue.ranking(edition.id, b)
        targets = crosswalk.counterparts(code, basis, b)
        for target in sorted(targets, key=lambda t: t != code):   # the same code first
            if ranking and ranking.row(target):
                shown = b if b != edition.unit_set else ""
                return f"{prefix}/provinces/{target}" + _query(edition=edition.id, basis=shown)
    return None


def timeline(catalogue: Catalogue, lang: str) -> list[dict[str, Any]]:
    """Every public edition, newest first: framework, unit bases, how many ranks are published."""
    out = []
    for edition in sorted(catalogue.editions, key=lambda e: -e.year):
        fw = edition.framework
        bases = []
        for b in edition.bases:
            ranking = catalogue.ranking(edition.id, b)
            rows = ranking.rows if ranking else ()
            bases.append({"basis": b, "units": len(rows),
                          "ranks": sum(r.rank is not None for r in rows)})
        out.append({"edition": edition.id, "year": edition.year, "name": edition.name(lang),
                    "published_on": edition.published_on, "framework": fw.id,
                    "framework_name": fw.name_en if lang == "en" else fw.name_vi,
                    "bases": bases, "latest": edition.id == catalogue.latest.id})
    return out


def headline(catalogue: Catalogue, lang: str, top: int = 3) -> dict[str, Any]:
    """The latest edition's leaders on its own basis (published ranks only)."""
    ranking = catalogue.ranking(catalogue.latest.id)
    leaders = [r for r in ranking.rows if r.rank is not None][:top]
    return {"edition": ranking.edition.id, "name": ranking.edition.name(lang),
            "basis": ranking.basis, "published_on": ranking.edition.published_on,
            "leaders": [{"code": r.code, "rank": r.rank, "value": r.value,
                         "name": r.name_en if lang == "en" and r.name_en else r.name_vi}
                        for r in leaders]}
