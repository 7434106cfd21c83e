"""Strengths and weaknesses of one unit, and its peers.

Per main indicator: the unit's value and points, its rank among the ranked units, the points it
misses against the maximum and against the best unit.  Its strongest and weakest indicators are
those where it ranks best and worst.  Peers are the other units of its region
(``data.groups['region']``) and the units nearest to its score profile (Euclidean distance over
the main-indicator ratios — the normalised values the engine aggregates).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dti.analysis.planner.model import column_scales
from dti.engine.build import Build, build
from dti.engine.data import Dataset
from dti.engine.recipe import Recipe
from dti.errors import InputError, Problem
from dti.framework.model import Framework


@dataclass(frozen=True)
class Standing:
    """One indicator of the unit; points are points of the indicator's maximum."""

    code: str
    value: float | None
    points: float | None
    max_points: float | None
    rank: int | None
    ranked: int
    missing_to_max: float | None
    missing_to_best: float | None
    best_value: float | None
    best_units: tuple[str, ...]


@dataclass(frozen=True)
class Peer:
    unit: str
    score: float | None
    rank: int | None
    distance: float | None


@dataclass(frozen=True)
class Profile:
    unit: str
    node: str
    score: float | None
    rank: int | None
    region: str
    indicators: tuple[Standing, ...]
    strongest: tuple[str, ...]
    weakest: tuple[str, ...]
    region_peers: tuple[Peer, ...]
    nearest_peers: tuple[Peer, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "node": self.node, "score": self.score, "rank": self.rank,
                "region": self.region,
                "indicators": [{**s.__dict__, "best_units": list(s.best_units)}
                               for s in self.indicators],
                "strongest": list(self.strongest), "weakest": list(self.weakest),
                "region_peers": [p.__dict__.copy() for p in self.region_peers],
                "nearest_peers": [p.__dict__.copy() for p in self.nearest_peers]}


def profile(data: Dataset, framework: Framework, recipe: Recipe, unit: str, *, size: int = 3,
            peers: int = 5) -> Profile:
    """Where ``unit`` ranks best and worst, the points it misses, and its peers."""
    if unit not in data.units:
        raise InputError([Problem("plan.unknown_unit", f"{unit!r} is not a unit of the data",
                                  unit=unit)])
    b = build(data, framework, recipe)
    row = b.unit_row(unit)
    columns = [j for j, c in enumerate(b.plan.data_codes)
               if framework[c].is_indicator and framework[c].scored]
    standings = tuple(_standing(b, row, j) for j in columns)
    # equal ranks (several indicators at 1st) are told apart by the share of the maximum earned
    ordered = sorted((s for s in standings if s.rank is not None),
                     key=lambda s: (s.rank, -_share(s), s.code))
    strongest = tuple(s.code for s in ordered[:size])
    weakest = tuple(s.code for s in ordered[::-1] if s.code not in strongest)[:size]
    root = framework.root.code
    region = (data.groups.get("region") or ("",) * len(data.units))[row]
    return Profile(unit, root, _clean(b.published_score(root)[row]), _int(b.rank(root)[row]),
                   region, standings, strongest, weakest, _region_peers(b, row, region, columns),
                   _nearest_peers(b, row, columns, peers))


def _standing(b: Build, row: int, j: int) -> Standing:
    node = b.framework[b.plan.data_codes[j]]
    raw_per_point, _, ceiling = column_scales([node], b)
    values = np.where(b.included, b.raw[:, j], np.nan)
    value = b.raw[row, j]
    best = np.nanmax(values) if np.isfinite(values).any() else np.nan
    best_units = tuple(b.units[i] for i in np.flatnonzero(values == best))
    to_points = 1.0 / raw_per_point[0]
    return Standing(node.code, _clean(value), _clean(value * to_points), node.max_points,
                    _int(b.rank(node.code)[row]), int(np.isfinite(b.rank(node.code)).sum()),
                    _clean(max(ceiling[0] - value, 0.0) * to_points),
                    _clean(max(best - value, 0.0) * to_points), _clean(best), best_units)


def _share(s: Standing) -> float:
    if s.points is not None and s.max_points:
        return s.points / s.max_points
    return s.value or 0.0


def _region_peers(b: Build, row: int, region: str, columns: list[int]) -> tuple[Peer, ...]:
    if not region:
        return ()
    labels = b.data.groups["region"]
    rows = [i for i in range(len(b.units)) if i != row and labels[i] == region]
    return tuple(sorted((_peer(b, row, i, columns) for i in rows),
                        key=lambda p: (p.rank is None, p.rank or 0, p.unit)))


def _nearest_peers(b: Build, row: int, columns: list[int], k: int) -> tuple[Peer, ...]:
    found = [_peer(b, row, i, columns) for i in range(len(b.units)) if i != row]
    found = [p for p in found if p.distance is not None]
    return tuple(sorted(found, key=lambda p: (p.distance, p.unit))[:k])


def _peer(b: Build, row: int, i: int, columns: list[int]) -> Peer:
    """A unit with its distance to ``row`` over the indicators ``row`` has (None if it lacks one)."""
    X = b.normalised[:, columns]
    mine = ~np.isnan(X[row])
    other = X[i, mine]
    distance = None
    if b.included[i] and mine.any() and not np.isnan(other).any():
        distance = round(float(np.sqrt(((other - X[row, mine]) ** 2).sum())), 9)
    root = b.framework.root.code
    return Peer(b.units[i], _clean(b.published_score(root)[i]), _int(b.rank(root)[i]), distance)


def _clean(x: float) -> float | None:
    return None if x is None or np.isnan(x) else round(float(x), 9)


def _int(x: float) -> int | None:
    return None if np.isnan(x) else int(x)
