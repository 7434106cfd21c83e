"""A one-screen province profile: total, pillars, main indicators, ranks, history and change.

Figures come from the published results of the shipped editions; where the main-indicator values
were published, the computed figures are shown too.  Across the 1 July 2025 reform a 34-unit
province is followed back through its former provinces, and ranks on different bases (63 vs 34)
are never subtracted from each other.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from dti.editions import Edition, edition_ids, load_edition
from dti.report.computed import lookup, node_figures
from dti.units import MergedUnitError, load_crosswalk, load_unit_set

if TYPE_CHECKING:  # NumPy and the engine load only for an edition the shipped table lacks
    from dti.engine.build import Build


@dataclass(frozen=True)
class Figure:
    code: str
    name: str
    role: str
    value: float | None
    rank: int | None
    source: str  # "published", "computed" or "" when neither exists


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """A unit's total and rank in one edition on one basis (``unit`` is the counterpart through
    the crosswalk when ``same_unit`` is false)."""

    edition: str
    year: int
    basis: str
    unit: str
    unit_name: str
    same_unit: bool
    value: float | None
    rank: int | None
    of: int
    source: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class RankChange:
    """Rank and score change against the previous edition.  When no basis has a rank in both
    editions, only ``previous`` and ``reason`` are set and the JSON says so in four keys."""

    previous: str
    basis: str | None = None
    unit: str | None = None
    rank_before: int | None = None
    rank_after: int | None = None
    places: int | None = None
    value_before: float | None = None
    value_after: float | None = None
    value_change: float | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        if self.reason is not None:
            return {"previous": self.previous, "basis": self.basis, "places": self.places,
                    "reason": self.reason}
        return {"previous": self.previous, "basis": self.basis, "unit": self.unit,
                "rank_before": self.rank_before, "rank_after": self.rank_after,
                "places": self.places, "value_before": self.value_before,
                "value_after": self.value_after, "value_change": self.value_change}


@dataclass(frozen=True)
class ProvinceProfile:
    code: str
    name: str
    basis: str
    region: str
    edition: str
    figures: tuple[Figure, ...]
    history: tuple[HistoryEntry, ...]
    change: RankChange | None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "basis": self.basis, "region": self.region,
                "edition": self.edition, "figures": [f.__dict__ for f in self.figures],
                "history": [h.as_dict() for h in self.history],
                "change": self.change.as_dict() if self.change else None, "notes": list(self.notes)}


_BUILDS: dict[tuple[int, str], tuple[Edition, Build]] = {}


def edition_build(edition: Edition, basis: str) -> Build:
    """The build of an edition on its published values, cached per edition object (editions are
    immutable; the object is kept with its build, so its id cannot be reused while cached)."""
    from dti.engine.build import build

    key = (id(edition), basis)
    if key not in _BUILDS:
        _BUILDS[key] = (edition, build(edition.dataset(basis), edition.framework, edition.recipe))
    return _BUILDS[key][1]


def resolve_province(name: str, edition: Edition) -> tuple[str, str]:
    """(code, basis): the edition's own unit set first, its other bases for a merged-away name."""
    try:
        return load_unit_set(edition.unit_set).resolve(name), edition.unit_set
    except MergedUnitError:
        for basis in edition.bases:
            if basis != edition.unit_set:
                return load_unit_set(basis).resolve(name), basis
        raise


def figure_for(edition: Edition, basis: str, code: str, node_code: str) -> tuple[float | None, int | None, str]:
    """(value, rank, source): published figures first; a value not published is filled in from
    the computation when the inputs were published.  A computed rank is given only when every
    unit of the basis has a computed score — a rank among the few units with data would mislead.
    """
    results = edition.results(basis)
    value = results.score(node_code, code) if results else None
    rank = results.rank(node_code, code) if results else None
    sources = ["published"] if value is not None or rank is not None else []
    if value is not None and rank is not None:
        return value, rank, "+".join(sources)   # nothing to fill in: no computation needed
    computed = _computed(edition, basis, node_code)
    if value is None and code in computed["scores"]:
        value = computed["scores"][code]
        sources.append("computed")
    if rank is None and code in computed["ranks"]:
        rank = computed["ranks"][code]
    return value, rank, "+".join(sources)


def _computed(edition: Edition, basis: str, node_code: str) -> dict[str, dict[str, Any]]:
    """The node's computed scores (units with one) and ranks (only when every unit has a score):
    from the shipped table for the package's editions, from a build for any other."""
    shipped = lookup(edition, basis, node_code)
    if shipped is not None:
        return shipped
    return node_figures(edition_build(edition, basis), node_code)


def province_profile(name: str, edition_id: str | None = None, lang: str = "vi") -> ProvinceProfile:
    edition = load_edition(edition_id or edition_ids()[-1])
    code, basis = resolve_province(name, edition)
    units = edition.units(basis)
    unit = units.get(code)
    figures = []
    for node in _profile_nodes(edition):
        value, rank, source = figure_for(edition, basis, code, node.code)
        figures.append(Figure(node.code, node.name(lang), node.role or node.type, value, rank, source))
    history = tuple(_history(code, basis))
    return ProvinceProfile(code, unit.name(lang), basis, unit.region, edition.id, tuple(figures),
                           history, _change(history, edition), _notes(edition, basis))


def _profile_nodes(edition: Edition):
    fw = edition.framework
    pillars = [n for n in fw.nodes if n.role == "pillar"]
    return [fw.root, *pillars, *[n for n in fw.indicators if n.role == "main" and n.scored]]


def _history(code: str, basis: str) -> list[HistoryEntry]:
    """Total and rank in every edition, on this basis or through the crosswalk."""
    crosswalk = load_crosswalk()
    rows = []
    for eid in edition_ids():
        edition = load_edition(eid)
        for b in edition.bases:
            targets = crosswalk.counterparts(code, basis, b)
            for target in targets:
                value, rank, source = figure_for(edition, b, target, edition.framework.root.code)
                unit = edition.units(b).get(target)
                rows.append(HistoryEntry(eid, edition.year, b, target, unit.name_vi, b == basis,
                                         value, rank, len(load_unit_set(b)), source))
    return rows


def _change(history: tuple[HistoryEntry, ...], edition: Edition) -> RankChange | None:
    """Rank and score change against the previous edition, on one basis only."""
    if not edition.previous:
        return None
    now = [h for h in history if h.edition == edition.id]
    before = [h for h in history if h.edition == edition.previous]
    for a in now:
        for b in before:
            if a.basis == b.basis and a.unit == b.unit and a.rank and b.rank:
                return RankChange(edition.previous, a.basis, a.unit, b.rank, a.rank,
                                  b.rank - a.rank, b.value, a.value,
                                  None if a.value is None or b.value is None
                                  else round(a.value - b.value, 4))
    return RankChange(edition.previous, reason="no rank on a common basis in both editions")


def _notes(edition: Edition, basis: str) -> tuple[str, ...]:
    notes = []
    if edition.framework.meta.get("unknown"):
        notes.append(str(edition.framework.meta["unknown"]))
    if basis != edition.unit_set:
        notes.append(f"Shown on the {basis} basis: the name is a province before the 1 July 2025 "
                     "reform.")
    return tuple(notes)
