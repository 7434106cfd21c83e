"""Result tables: a build (and, for a shipped edition, its published figures) as plain records.

One function assembles what every output format shows — the CLI table, CSV, JSON, XLSX — so the
formats cannot disagree.  Scores are rounded half-up at the edition's precision; a published
figure is reported beside the computed one, and any gap between them is listed, never hidden.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dti.editions import Edition, PublishedResults
from dti.engine.build import Build
from dti.framework.model import Framework, Node
from dti.messages import bilingual
from dti.units import UnitSet


@dataclass(frozen=True)
class ResultTable:
    """What ``dti compute`` reports."""

    title: str
    basis: str
    nodes: tuple[Node, ...]
    rows: tuple[dict[str, Any], ...]
    gaps: tuple[dict[str, Any], ...] = ()
    notes: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {**self.meta, "title": self.title, "basis": self.basis,
                "nodes": [{"code": n.code, "name_vi": n.name_vi, "name_en": n.name_en,
                           "role": n.role or n.type, "max_points": n.max_points} for n in self.nodes],
                "results": list(self.rows), "gaps_to_published": list(self.gaps),
                "notes": list(self.notes)}

    def flat_rows(self) -> list[dict[str, Any]]:
        """One flat mapping per unit (CSV/XLSX columns)."""
        out = []
        for row in self.rows:
            flat = {"code": row["code"], "name": row["name"]}
            for n in self.nodes:
                flat[n.code] = row["scores"].get(n.code)
                flat[f"rank_{n.code}"] = row["ranks"].get(n.code)
            if "published" in row:
                flat["published_DTI"] = row["published"].get("DTI")
                flat["published_rank_DTI"] = row["published_ranks"].get("DTI")
                flat["source"] = row.get("source", "")
            out.append(flat)
        return out


def reported_nodes(fw: Framework) -> tuple[Node, ...]:
    """Root first, then the other aggregates (pillars, groups), then the scored indicators."""
    root = fw.root
    aggregates = [n for n in fw.nodes if n.is_aggregate and n.code != root.code]
    aggregates.sort(key=lambda n: (-n.level, n.role != "pillar"))
    indicators = [n for n in fw.indicators if n.scored]
    return (root, *aggregates, *indicators)


def result_table(build: Build, units: UnitSet | None, edition: Edition | None = None,
                 lang: str = "vi", with_published: bool = True) -> ResultTable:
    """``with_published``: set the edition's published figures beside the computed ones — only
    meaningful when the build ran on the edition's own published values."""
    fw = build.framework
    nodes = reported_nodes(fw)
    published = edition.results(build.data.unit_set) if edition and with_published else None
    rows = []
    for i, code in enumerate(build.units):
        name = units.get(code).name(lang) if units is not None and code in units else code
        row: dict[str, Any] = {
            "code": code, "name": name, "included": bool(build.included[i]),
            "scores": {n.code: _number(build.published_score(n.code)[i]) for n in nodes},
            "ranks": {n.code: _integer(build.rank(n.code)[i]) for n in nodes},
        }
        if published is not None:
            row["published"] = {n.code: published.score(n.code, code) for n in nodes
                                if published.score(n.code, code) is not None}
            row["published_ranks"] = {n.code: published.rank(n.code, code) for n in nodes
                                      if published.rank(n.code, code) is not None}
            row["source"] = _source(edition, build.data.unit_set, code, published)
        rows.append(row)
    root = fw.root.code
    rows.sort(key=lambda r: (r["ranks"][root] is None, r["ranks"][root] or 0,
                             (r.get("published_ranks") or {}).get(root) or 10**6, r["code"]))
    scored = sum(r["scores"][root] is not None for r in rows)
    ranked = sum(root in r.get("published_ranks", {}) for r in rows)
    notes = [NOTES[lang]["computed"].format(scored=scored, units=len(rows), root=root)]
    if published is not None and scored < len(rows):
        notes.append(NOTES[lang]["published"].format(ranked=ranked, units=len(rows)))
    title = edition.name(lang) if edition else fw.name(lang)
    meta = {"edition": edition.id if edition else None, "framework": fw.id,
            "recipe": build.recipe.to_dict(), "precision": build.decimals}
    return ResultTable(title, build.data.unit_set or "", nodes, tuple(rows),
                       _gaps(rows, nodes, published), tuple(notes), meta)


NOTES = bilingual("report.results")


def _source(edition: Edition, basis: str | None, code: str, published: PublishedResults) -> str:
    """Where the unit's published rank comes from: the winning source of the published record
    (its page; "derived" when it is read from a stated rank change), else the results file's note."""
    from dti.editions.record import shipped_record

    record = shipped_record()
    figure = record.figure(edition.year, basis or "", code, "rank") or record.figure(
        edition.year, basis or "", code, "total_score")
    if figure is None:
        return published.sources.get(code, "").split(" ", 1)[0]
    return figure.winner.url + (" (derived)" if figure.winner.derived else "")


def _gaps(rows, nodes, published: PublishedResults | None) -> tuple[dict[str, Any], ...]:
    if published is None:
        return ()
    out = []
    for row in rows:
        for n in nodes:
            computed, shown = row["scores"].get(n.code), row["published"].get(n.code)
            if computed is not None and shown is not None and abs(computed - shown) > 1e-9:
                out.append({"code": row["code"], "name": row["name"], "node": n.code,
                            "computed": computed, "published": shown,
                            "difference": round(computed - shown, 6)})
    return tuple(out)


def _number(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def _integer(x: float) -> int | None:
    return None if np.isnan(x) else int(x)
