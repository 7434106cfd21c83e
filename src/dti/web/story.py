"""A province's story: its overall and pillar ranks and scores in every published edition, on
every basis it has a row on, each figure with its sources from the published record.

A rank the record only derives from a stated change is shown as derived ("12, suy ra từ …");
a figure whose chosen source is a third-party compilation is labelled so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from dti.editions.record import Record, shipped_record
from dti.messages import bilingual
from dti.web.context import app_context
from dti.web.i18n import name, text
from dti.web.pages import FORMATS, lang_of, respond
from dti.web.render_gate import offloaded
from dti.web.snapshot import Catalogue, RankingRow, ShownNode, fact_public

router = APIRouter(include_in_schema=False)

LABELS = bilingual("portal.story")


def labels(lang: str) -> dict[str, str]:
    return LABELS["en" if lang == "en" else "vi"]


@dataclass(frozen=True, slots=True)
class StoryFigure:
    """A node's figure in one edition of a story: ``derived`` quotes the stated change a rank is
    derived from (else ``None``); ``sources`` are the chosen ones; ``third_party`` says whether
    any of them is a third-party compilation."""

    code: str
    value: float | None
    rank: int | None
    derived: str | None
    sources: list[dict[str, Any]]
    third_party: bool

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "value": self.value, "rank": self.rank,
                "derived": self.derived, "sources": self.sources, "third_party": self.third_party}


@dataclass(frozen=True, slots=True)
class StoryEntry:
    """A unit in one edition on one basis: its name then, how many units were ranked (``of``),
    its rank change and the figures of the total and the pillars."""

    edition: str
    year: int
    basis: str
    name: str
    of: int
    previous_rank: int | None
    change: int | None
    figures: tuple[StoryFigure, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"edition": self.edition, "year": self.year, "basis": self.basis,
                "name": self.name, "of": self.of, "previous_rank": self.previous_rank,
                "change": self.change, "figures": [f.as_dict() for f in self.figures]}


def story(catalogue: Catalogue, code: str, lang: str) -> dict[str, Any] | None:
    """Per edition and basis on which the unit has a row: total and pillars (value, rank, sources);
    ``None`` when no public edition has the code."""
    record = shipped_record()
    entries, unit = [], None
    for edition in sorted(catalogue.editions, key=lambda e: e.year):
        for basis in edition.bases:
            ranking = catalogue.ranking(edition.id, basis)
            row = ranking.row(code) if ranking else None
            if row is None:
                continue
            unit = unit or row
            figures = tuple(_story_figure(record, edition.year, basis, row, c)
                            for c in ranking.columns if c.role in ("total", "pillar"))
            entries.append(StoryEntry(edition.id, edition.year, basis, name(row, lang),
                                      len(ranking.rows), row.previous_rank, row.change, figures))
    if unit is None:
        return None
    return {"code": code, "name": name(unit, lang), "entries": entries}


def _story_figure(record: Record, year: int, basis: str, row: RankingRow,
                  node: ShownNode) -> StoryFigure:
    """The figure with its chosen sources; a total without a rank takes the rank the record
    derives from a stated change, with that statement as its source."""
    f = row.figures[node.code]
    rank, derived = f.rank, None
    sources = [s for s in f.sources if s["chosen"]]
    if f.rank is None and node.role == "total":
        got = record.figure(year, basis, row.code, "rank")
        if got is not None and got.winner.derived:
            rank, derived = int(got.value), got.winner.quote
            if not any(x["measure"] == "rank" for x in sources):
                sources.append(fact_public(got.winner, got))
    return StoryFigure(node.code, f.value, rank, derived, sources,
                       any(s["third_party"] for s in sources))


def chart_spec(data: dict[str, Any], lang: str) -> dict[str, Any] | None:
    """Vega-Lite line chart of the published ranks over the years (rank 1 on top), one line per
    node and basis; ``None`` with fewer than two ranks."""
    points = [{"year": str(e.year), "rank": f.rank, "of": e.of,
               "series": f.code + ("" if e.basis == "provinces-63" else f" ({e.of})")}
              for e in data["entries"] for f in e.figures if f.rank is not None]
    if len(points) < 2:
        return None
    t = text(lang)
    x = {"field": "year", "type": "ordinal", "title": None, "axis": {"labelAngle": 0}}
    y = {"field": "rank", "type": "quantitative", "title": t["rank"],
         "scale": {"reverse": True, "domainMin": 1, "nice": False, "zero": False}}
    colour = {"field": "series", "type": "nominal", "title": None,
              "legend": {"orient": "right"}}
    return {"$schema": "https://vega.github.io/schema/vega-lite/v5.json",
            "data": {"values": points}, "width": 420, "height": 220, "padding": 4,
            "config": {"view": {"stroke": None}},
            "layer": [{"mark": {"type": "line", "point": True},
                       "encoding": {"x": x, "y": y, "color": colour}},
                      {"mark": {"type": "text", "dy": -8, "fontSize": 9},
                       "encoding": {"x": x, "y": y, "color": colour,
                                    "text": {"field": "rank", "type": "quantitative"}}}]}


def chart_svg(data: dict[str, Any], lang: str) -> str:
    """The chart as inline SVG (drawn once per province and language, see :mod:`dti.web.maps`)."""
    spec = chart_spec(data, lang)
    if spec is None:
        return ""
    from dti.web.maps import tidy_svg
    from dti.web.reports import chart_svg as drawn   # vl-convert, offline, cached per spec

    return tidy_svg(drawn(spec, lang))


def flat(data: dict[str, Any]) -> list[dict[str, Any]]:
    """One CSV row per edition, basis and node."""
    return [{"year": e.year, "edition": e.edition, "basis": e.basis, "name": e.name,
             "indicator": f.code, "value": f.value, "rank": f.rank,
             "derived": bool(f.derived), "third_party": f.third_party,
             "sources": " | ".join(dict.fromkeys(s["url"] for s in f.sources))}
            for e in data["entries"] for f in e.figures]


@router.get("/provinces/{code}/story")
@router.get("/provinces/{code}/story.{fmt}")
@offloaded("pages")
def story_page(request: Request, code: str, fmt: str = "html") -> Response:
    if fmt not in ("html", *FORMATS):
        raise HTTPException(404, f"no format {fmt!r}")
    lang = lang_of(request)
    data = story(app_context(request).catalogue, code, lang)
    if data is None:
        raise HTTPException(404, f"no province with code {code!r}")
    data["licence"] = text(lang)["licence"]
    svg = chart_svg(data, lang) if fmt == "html" else ""
    return respond(request, "story.html", {"data": data, "s": labels(lang), "svg": svg}, fmt,
                   flat(data))
