"""Precomputed, read-only results of the published editions: what every page is built from.

A published edition is a frozen snapshot, so pages never recompute on a request: the portal
builds one :class:`Catalogue` at start-up and serves from it.  Draft editions are left out here,
once, so no page or API route can reach them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any, Iterable
from urllib.parse import urlparse

from dti.editions import RANK_COLUMNS, SCORE_COLUMNS, Edition, edition_ids, load_edition
from dti.editions.levels import LevelEdition, level_edition_ids, load_level_edition
from dti.editions.record import Fact, Figure, shipped_record
from dti.report.profile import figure_for
from dti.units import load_crosswalk


@dataclass(frozen=True, slots=True)
class ShownNode:
    """A node a ranking shows as a column: the total, a pillar or a main indicator (``short`` is
    the Vietnamese short name, or the full one when there is none; ``role`` falls back to the
    node's type)."""

    code: str
    name_vi: str
    name_en: str
    short: str
    role: str
    max_points: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name_vi": self.name_vi, "name_en": self.name_en,
                "short": self.short, "role": self.role, "max_points": self.max_points}


@dataclass(frozen=True, slots=True)
class NodeFigure:
    """One unit's figure on one shown node: value, rank, source ("published", "computed", both
    joined by "+", or "") and the sources of the published record behind it."""

    value: float | None
    rank: int | None
    source: str
    sources: Sources

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "rank": self.rank, "source": self.source,
                "sources": self.sources}


@dataclass(frozen=True, slots=True)
class NodeStats:
    """Over the units of a ranking, one shown node's values present: their mean, the best and
    how many there are."""

    mean: float | None
    best: float | None
    n: int

    def as_dict(self) -> dict[str, Any]:
        return {"mean": self.mean, "best": self.best, "n": self.n}


@dataclass(frozen=True, slots=True)
class ComparedFigure:
    """A unit's figure on one shown node beside that node's mean and best (profile page and
    report): the node, the figure and the statistics in one flat record."""

    code: str
    name_vi: str
    name_en: str
    short: str
    role: str
    max_points: float | None
    value: float | None
    rank: int | None
    source: str
    sources: Sources
    mean: float | None
    best: float | None
    n: int

    @classmethod
    def of(cls, node: ShownNode, figure: NodeFigure, stats: NodeStats) -> "ComparedFigure":
        return cls(node.code, node.name_vi, node.name_en, node.short, node.role, node.max_points,
                   figure.value, figure.rank, figure.source, figure.sources,
                   stats.mean, stats.best, stats.n)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name_vi": self.name_vi, "name_en": self.name_en,
                "short": self.short, "role": self.role, "max_points": self.max_points,
                "value": self.value, "rank": self.rank, "source": self.source,
                "sources": self.sources, "mean": self.mean, "best": self.best, "n": self.n}


@dataclass(frozen=True, slots=True)
class RankingRow:
    """One unit of a ranking, as every page, report, map and API answer shows it: ``figures``
    maps each shown node's code to its :class:`NodeFigure`; ``rank``, ``value`` and ``sources``
    repeat the total's."""

    code: str
    name_vi: str
    name_en: str
    name_ascii: str
    region: str
    figures: dict[str, NodeFigure]
    rank: int | None
    value: float | None
    previous_rank: int | None
    change: int | None
    sources: Sources
    change_sources: Sources

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name_vi": self.name_vi, "name_en": self.name_en,
                "name_ascii": self.name_ascii, "region": self.region,
                "figures": {code: f.as_dict() for code, f in self.figures.items()},
                "rank": self.rank, "value": self.value, "previous_rank": self.previous_rank,
                "change": self.change, "sources": self.sources,
                "change_sources": self.change_sources}


@dataclass(frozen=True)
class Ranking:
    """One edition on one unit basis: a row per unit, ordered by published (or computed) rank."""

    edition: Edition
    basis: str
    columns: tuple[ShownNode, ...]      # the nodes shown: root, pillars, main indicators
    rows: tuple[RankingRow, ...]
    previous: str | None
    previous_basis: str | None

    @property
    def root(self) -> str:
        return self.edition.framework.root.code

    def row(self, code: str) -> RankingRow | None:
        return next((r for r in self.rows if r.code == code), None)

    def column(self, code: str) -> ShownNode | None:
        return next((c for c in self.columns if c.code == code), None)

    @cached_property
    def column_stats(self) -> dict[str, NodeStats]:
        """Per shown node: mean and best of the values present, and how many there are."""
        out = {}
        for c in self.columns:
            present = [r.figures[c.code].value for r in self.rows
                       if r.figures[c.code].value is not None]
            out[c.code] = NodeStats(sum(present) / len(present) if present else None,
                                    max(present) if present else None, len(present))
        return out

    def compared(self, code: str) -> list[ComparedFigure]:
        """A unit's figures beside the mean and the best of every shown node (profile, report)."""
        row = self.row(code)
        return [ComparedFigure.of(c, row.figures[c.code], self.column_stats[c.code])
                for c in self.columns]


@dataclass(frozen=True)
class Catalogue:
    """The published provincial editions (every page and ranking is built from them) and, apart,
    the ministry-level and national editions (``levels``: published figures only, served by the
    API's results route until they have pages of their own)."""

    editions: tuple[Edition, ...]
    rankings: dict[tuple[str, str], Ranking] = field(default_factory=dict)
    levels: tuple[LevelEdition, ...] = ()

    @classmethod
    def build(cls, editions: Iterable[Edition], levels: Iterable[LevelEdition] = ()) -> "Catalogue":
        public = tuple(e for e in editions if e.is_published)
        known = {e.id: e for e in public}
        rankings = {(e.id, b): _ranking(e, b, known) for e in public for b in e.bases}
        return cls(public, rankings, tuple(e for e in levels if e.is_published))

    @classmethod
    def shipped(cls, only: tuple[str, ...] | None = None) -> "Catalogue":
        return cls.build((load_edition(e) for e in edition_ids() if only is None or e in only),
                         shipped_levels(only))

    def edition(self, edition_id: str) -> Edition | None:
        return next((e for e in self.editions if e.id == edition_id), None)

    def level(self, edition_id: str) -> LevelEdition | None:
        """A ministry-level or national edition of the catalogue."""
        return next((e for e in self.levels if e.id == edition_id), None)

    @property
    def latest(self) -> Edition:
        return max(self.editions, key=lambda e: e.year)

    def locate(self, edition_id: str, code: str, basis: str | None = None) -> Ranking | None:
        """The ranking of the edition (on ``basis``, else its first basis) that has unit ``code``."""
        edition = self.edition(edition_id)
        if edition is None:
            return None
        for b in [basis] if basis else edition.bases:
            ranking = self.rankings.get((edition_id, b))
            if ranking is not None and ranking.row(code):
                return ranking
        return None

    def ranking(self, edition_id: str, basis: str | None = None) -> Ranking | None:
        edition = self.edition(edition_id)
        if edition is None:
            return None
        return self.rankings.get((edition_id, basis or edition.unit_set))


def _shown_nodes(edition: Edition) -> tuple[ShownNode, ...]:
    fw = edition.framework
    nodes = [fw.root, *[n for n in fw.nodes if n.role == "pillar"],
             *[n for n in fw.indicators if n.role == "main" and n.scored]]
    return tuple(ShownNode(n.code, n.name_vi, n.name_en, n.short or n.name_vi, n.role or n.type,
                           n.max_points) for n in nodes)


def _ranking(edition: Edition, basis: str, public: dict[str, Edition]) -> Ranking:
    units = edition.units(basis)
    columns = _shown_nodes(edition)
    previous = edition.previous if edition.previous in public else None
    prev_edition = public[previous] if previous else None
    prev_basis = basis if prev_edition and basis in prev_edition.bases else None
    rows = []
    record = shipped_record().of(edition.year, basis)
    for unit in units:
        figures = {}
        for c in columns:
            value, rank, source = figure_for(edition, basis, unit.code, c.code)
            figures[c.code] = NodeFigure(value, rank, source,
                                         figure_sources(record, unit.code, c.code))
        root = figures[columns[0].code]
        before = None
        if prev_basis:
            _, before, _ = figure_for(prev_edition, prev_basis, unit.code,
                                      prev_edition.framework.root.code)
        change = before - root.rank if before is not None and root.rank is not None else None
        rows.append(RankingRow(unit.code, unit.name_vi, unit.name_en, unit.name_ascii, unit.region,
                               figures, root.rank, root.value, before, change,
                               root.sources,
                               _measure_sources(record, unit.code, "rank_change")))
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.name_ascii))
    return Ranking(edition, basis, columns, tuple(rows), previous, prev_basis)


# Node code → the record's measure of its score and of its rank.
SCORE_MEASURES = {code: measure for measure, code in SCORE_COLUMNS.items()}
RANK_MEASURES = {code: measure for measure, code in RANK_COLUMNS.items()}


def fact_public(fact: Fact, figure: Figure) -> dict[str, Any]:
    """One source of a figure, as pages and the API show it."""
    return {"measure": fact.measure, "value": fact.value, "url": fact.url, "quote": fact.quote,
            "host": (urlparse(fact.url).hostname or "").removeprefix("www."),
            "kind": fact.kind, "source_class": fact.source, "third_party": fact.third_party,
            "derived": fact.derived, "chosen": fact is figure.winner,
            "agrees": fact.value == figure.winner.value}


class Sources(list):
    """The sources of a figure: a list for JSON, one readable cell in a CSV or XLSX twin."""

    def __str__(self) -> str:
        chosen = [s for s in self if s["chosen"]]
        return " | ".join(dict.fromkeys(
            f"{s['measure']}: {s['url']} ({s['source_class']}"
            + (", derived" if s["derived"] else "") + ")" for s in chosen))


def figure_sources(record: dict[str, dict[str, Figure]], unit: str, code: str) -> Sources:
    """Every source of a node's score and rank for one unit (``record`` is ``Record.of(year,
    basis)``), the chosen one of each measure first."""
    out = Sources()
    for measure in (SCORE_MEASURES.get(code), RANK_MEASURES.get(code)):
        out += _measure_sources(record, unit, measure or "")
    return out


def _measure_sources(record: dict[str, dict[str, Figure]], unit: str, measure: str) -> Sources:
    figure = record.get(measure, {}).get(unit)
    return Sources(fact_public(f, figure) for f in figure.sources) if figure else Sources()


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """A unit's total and rank in one public edition; ``code`` is the counterpart through the
    crosswalk when ``same_unit`` is false (ranks on different bases do not compare)."""

    edition: str
    year: int
    basis: str
    code: str
    name_vi: str
    name_en: str
    value: float | None
    rank: int | None
    of: int
    same_unit: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ScoreChange:
    """What one main indicator's change added to the change of the total since the previous
    edition (``contribution`` is in the total's points)."""

    code: str
    name_vi: str
    name_en: str
    before: float
    after: float
    contribution: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def province_history(catalogue: Catalogue, code: str, basis: str) -> list[HistoryRow]:
    """Total and rank of a unit in every public edition, on its basis or through the crosswalk."""
    crosswalk = load_crosswalk()
    out = []
    for edition in sorted(catalogue.editions, key=lambda e: e.year):
        for b in edition.bases:
            targets = crosswalk.counterparts(code, basis, b)
            ranking = catalogue.ranking(edition.id, b)
            for target in targets:
                row = ranking.row(target) if ranking else None
                if row is None:
                    continue
                out.append(HistoryRow(edition.id, edition.year, b, target, row.name_vi,
                                      row.name_en, row.value, row.rank,
                                      len(ranking.rows), b == basis))
    return out


def score_change(catalogue: Catalogue, edition_id: str, code: str, basis: str) -> list[ScoreChange] | None:
    """What moved a unit's total since the previous edition: per main indicator, the change of its
    value and what that change added to the total (Δ value × its points ÷ the total's points).

    Only for the points method, the same main indicators in both editions and the same unit set,
    with every main-indicator value known in both (published or computed) — then the
    contributions add up to the change of the total exactly; otherwise ``None``."""
    ranking = catalogue.ranking(edition_id, basis)
    if ranking is None or ranking.previous is None or ranking.previous_basis != basis:
        return None
    now, before = ranking.edition, catalogue.edition(ranking.previous)
    if not (_points_method(now) and _points_method(before)):
        return None
    mains = [n for n in now.framework.indicators if n.role == "main" and n.scored and n.max_points]
    old = {n.code: n for n in before.framework.indicators if n.role == "main" and n.scored}
    root_points = now.framework.root.max_points
    if not root_points or any(n.code not in old or old[n.code].max_points != n.max_points
                              for n in mains):
        return None
    rows = []
    for n in mains:
        after, _, _ = figure_for(now, basis, code, n.code)
        prior, _, _ = figure_for(before, basis, code, n.code)
        if after is None or prior is None:
            return None
        rows.append(ScoreChange(n.code, n.name_vi, n.name_en, prior, after,
                                (after - prior) * n.max_points / root_points))
    rows.sort(key=lambda r: -abs(r.contribution))
    return rows


def _points_method(edition: Edition) -> bool:
    method = edition.recipe.aggregate.method or edition.framework.meta.get("aggregation")
    return method == "points"


def shipped_levels(only: Iterable[str] | None = None) -> tuple[LevelEdition, ...]:
    """The shipped ministry-level and national editions that belong with the provincial editions
    ``only`` (None: all): those named, and those of a year up to the latest provincial year named,
    so a portal exported as of an edition holds the other levels as they stood then."""
    editions = tuple(load_level_edition(e) for e in level_edition_ids())
    if only is None:
        return editions
    named = set(only)
    years = [int(e.rsplit("-", 1)[1]) for e in named if e.rsplit("-", 1)[-1].isdigit()]
    latest = max(years, default=0)
    return tuple(e for e in editions if e.id in named or e.year <= latest)
