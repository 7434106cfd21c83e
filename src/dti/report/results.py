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


@dataclass(frozen=True, slots=True)
class Published:
    """The edition's published figures of one unit, set beside its computed row.  Kept as one
    value so that "no published figures asked for" (``ResultRow.published is None``) stays apart
    from "asked for, but this unit has none" (empty mappings)."""

    scores: dict[str, float]
    ranks: dict[str, int]
    source: str


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One unit's computed score and rank per reported node, and its published figures if set."""

    code: str
    name: str
    included: bool
    scores: dict[str, float | None]
    ranks: dict[str, int | None]
    published: Published | None = None

    def published_score(self, node: str) -> float | None:
        return self.published.scores.get(node) if self.published else None

    def published_rank(self, node: str) -> int | None:
        return self.published.ranks.get(node) if self.published else None

    def as_dict(self) -> dict[str, Any]:
        """The JSON mapping: the published keys appear only when published figures were set."""
        out: dict[str, Any] = {"code": self.code, "name": self.name, "included": self.included,
                               "scores": dict(self.scores), "ranks": dict(self.ranks)}
        if self.published is not None:
            out.update(published=dict(self.published.scores),
                       published_ranks=dict(self.published.ranks), source=self.published.source)
        return out


@dataclass(frozen=True, slots=True)
class Gap:
    """A node where the computed score differs from the published one."""

    code: str
    name: str
    node: str
    computed: float
    published: float
    difference: float

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "node": self.node,
                "computed": self.computed, "published": self.published,
                "difference": self.difference}


@dataclass(frozen=True)
class ResultTable:
    """What ``dti compute`` reports."""

    title: str
    basis: str
    nodes: tuple[Node, ...]
    rows: tuple[ResultRow, ...]
    gaps: tuple[Gap, ...] = ()
    notes: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {**self.meta, "title": self.title, "basis": self.basis,
                "nodes": [{"code": n.code, "name_vi": n.name_vi, "name_en": n.name_en,
                           "role": n.role or n.type, "max_points": n.max_points} for n in self.nodes],
                "results": [r.as_dict() for r in self.rows],
                "gaps_to_published": [g.as_dict() for g in self.gaps],
                "notes": list(self.notes)}

    def flat_rows(self) -> list[dict[str, Any]]:
        """One flat mapping per unit (CSV/XLSX columns)."""
        out = []
        for row in self.rows:
            flat = {"code": row.code, "name": row.name}
            for n in self.nodes:
                flat[n.code] = row.scores.get(n.code)
                flat[f"rank_{n.code}"] = row.ranks.get(n.code)
            if row.published is not None:
                flat["published_DTI"] = row.published_score("DTI")
                flat["published_rank_DTI"] = row.published_rank("DTI")
                flat["source"] = row.published.source
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
        beside = None if published is None else _published(edition, build.data.unit_set, code,
                                                            published, nodes)
        rows.append(ResultRow(
            code, name, bool(build.included[i]),
            {n.code: _number(build.published_score(n.code)[i]) for n in nodes},
            {n.code: _integer(build.rank(n.code)[i]) for n in nodes}, beside))
    root = fw.root.code
    rows.sort(key=lambda r: (r.ranks[root] is None, r.ranks[root] or 0,
                             r.published_rank(root) or 10**6, r.code))
    scored = sum(r.scores[root] is not None for r in rows)
    ranked = sum(r.published_rank(root) is not None for r in rows)
    notes = [NOTES[lang]["computed"].format(scored=scored, units=len(rows), root=root)]
    if published is not None and scored < len(rows):
        notes.append(NOTES[lang]["published"].format(ranked=ranked, units=len(rows)))
    title = edition.name(lang) if edition else fw.name(lang)
    meta = {"edition": edition.id if edition else None, "framework": fw.id,
            "recipe": build.recipe.to_dict(), "precision": build.decimals}
    return ResultTable(title, build.data.unit_set or "", nodes, tuple(rows),
                       _gaps(rows, nodes, published), tuple(notes), meta)


NOTES = bilingual("report.results")


def _published(edition: Edition, basis: str | None, code: str, published: PublishedResults,
               nodes: tuple[Node, ...]) -> Published:
    """The unit's published scores and ranks of the reported nodes (those it has) and source."""
    scores = {n.code: published.score(n.code, code) for n in nodes
              if published.score(n.code, code) is not None}
    ranks = {n.code: published.rank(n.code, code) for n in nodes
             if published.rank(n.code, code) is not None}
    return Published(scores, ranks, _source(edition, basis, code, published))


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


def _gaps(rows: list[ResultRow], nodes: tuple[Node, ...],
          published: PublishedResults | None) -> tuple[Gap, ...]:
    if published is None:
        return ()
    out = []
    for row in rows:
        for n in nodes:
            computed, shown = row.scores.get(n.code), row.published_score(n.code)
            if computed is not None and shown is not None and abs(computed - shown) > 1e-9:
                out.append(Gap(row.code, row.name, n.code, computed, shown,
                               round(computed - shown, 6)))
    return tuple(out)


def _number(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def _integer(x: float) -> int | None:
    return None if np.isnan(x) else int(x)
