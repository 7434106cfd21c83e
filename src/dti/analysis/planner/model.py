"""The planner's linear model: one unit's scores as exact linear functions of its indicator points.

With weighted arithmetic means (the DTI points method is one: Σ ratio × max points / Σ max points)
and a normalisation that reads each value as it is (``ratio`` or ``none``), every aggregate of a
unit is ``value = base + Σ_j a_j · p_j`` where ``p_j`` is the number of points added to indicator
``j`` and the other units stay fixed.  Anything else — a geometric or harmonic mean, min-max or
z-scores (one unit's change moves everyone's normalised values), outlier treatment, imputation
from column statistics — makes such a programme inexact, and :func:`check_linear` says which and
why instead of planning on a wrong model.

A *point* of an indicator is one point of its maximum (a ratio of 0.7233 on a 100-point
indicator is 72.33 points); an indicator without max points counts one point per unit of its own
value.  The ceiling is the scale's (ratio 1, points = max points), else the upper goalpost, else
the best value any unit has.

Thresholds follow the competition ranking at the published precision: a published value
``round_half_up(s, d) ≥ t`` exactly when ``s ≥ t − ½·10⁻ᵈ`` (rounded ≥ 0.6975 ⇔ s ≥ 0.69745),
and it exceeds ``t`` exactly when ``s ≥ t + ½·10⁻ᵈ``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from dti.engine.build import Build
from dti.engine.data import Dataset
from dti.engine.rank import round_half_up, significant
from dti.errors import ComputeError
from dti.framework.model import Framework, Node

LINEAR_METHODS = ("points", "arithmetic")
EXACT_NORMALISATIONS = ("ratio", "none")
NO_PRECISION_GAP = 1e-10  # relative gap that separates two scores ranked at 12 significant digits


@dataclass(frozen=True)
class UnitModel:
    """The linear model of one unit in one build.

    ``per_point`` is nodes × data columns: how much each node's value rises per point added to
    each data column (``build.codes`` order for rows, ``build.plan.data_codes`` for columns).
    ``headroom`` is the points each column can still take up to its ceiling (0 for a column that
    cannot be improved: unscored, missing, or a value read from the data for an aggregate).
    """

    unit: str
    row: int
    codes: tuple[str, ...]
    data_codes: tuple[str, ...]
    values: np.ndarray
    raw: np.ndarray
    per_point: np.ndarray
    raw_per_point: np.ndarray
    headroom: np.ndarray
    ceiling: np.ndarray

    def node_row(self, code: str) -> np.ndarray:
        return self.per_point[self.codes.index(code)]

    def value(self, code: str) -> float:
        return float(self.values[self.codes.index(code)])

    def raw_after(self, points: np.ndarray) -> np.ndarray:
        """The unit's raw data values once ``points`` are added (never past a ceiling)."""
        added = self.raw + points * self.raw_per_point
        return np.where(points > 0, np.minimum(added, self.ceiling), self.raw)


def check_linear(build: Build) -> None:
    """Raise ComputeError, with the reason, when the build's method makes a linear plan inexact."""
    recipe, fw = build.recipe, build.framework
    for step in build.plan.steps:
        if step.method not in LINEAR_METHODS:
            raise ComputeError(
                f"the planner needs weighted arithmetic (or DTI points) aggregation; this build "
                f"aggregates with the {step.method} mean, whose score is not a linear function of "
                "the points, so a linear programme would be inexact: plan on a recipe with "
                "aggregate.method points or arithmetic")
    if recipe.normalise.method not in EXACT_NORMALISATIONS:
        raise ComputeError(
            f"the planner needs values used as they are (normalise.method ratio or none); with "
            f"{recipe.normalise.method} one province's change moves every province's normalised "
            "values, so a linear programme on one province would be inexact")
    if recipe.treat.method != "none":
        raise ComputeError("the planner needs treat.method none: outlier treatment depends on every "
                           "province's values, so a linear programme on one province would be inexact")
    if build.imputed_mask.any() and recipe.impute.method != "row_mean":
        raise ComputeError(f"the data has imputed values ({recipe.impute.method}), which depend on "
                           "every province's values: the planner needs complete data or "
                           "impute.method none")
    used = {n.denominator for n in build.framework.data_nodes if n.denominator}
    if recipe.denominate.enabled and used & {d.code for d in fw.denominators}:
        raise ComputeError("the planner works on indicator points; indicators divided by a "
                           "denominator have no points of their own: use denominate.enabled false")


def unit_model(build: Build, unit: str) -> UnitModel:
    """The exact linear model of ``unit`` (a code of the build's data) in ``build``."""
    check_linear(build)
    row = build.unit_row(unit)
    root = build.framework.root.code
    if not build.included[row] or np.isnan(build.score(root)[row]):
        raise ComputeError(f"{unit} has no {root} score in this build (values missing or screened "
                           "out): the planner needs a province that is ranked")
    nodes = [build.framework[c] for c in build.plan.data_codes]
    if build.imputed_mask[row].any():
        raise ComputeError(f"{unit} has imputed values, which move with its other values: the "
                           "planner needs the province's own values for every indicator")
    raw = build.raw[row].astype(float)
    raw_per_point, normalised_per_raw, ceiling = column_scales(nodes, build)
    A = _composition(build, row)
    _check_reproduces(A, build, row)
    per_point = A * (normalised_per_raw * raw_per_point)[None, :]
    improvable = np.array([n.is_indicator and n.scored for n in nodes]) & ~np.isnan(raw)
    with np.errstate(invalid="ignore"):
        room = np.where(improvable, (ceiling - raw) / raw_per_point, 0.0)
    headroom = np.clip(np.nan_to_num(room, nan=0.0), 0.0, None)
    values = build.values[row].astype(float)
    return UnitModel(unit, row, build.codes, build.plan.data_codes, values, raw, per_point,
                     raw_per_point, headroom, ceiling)


def column_scales(nodes: list[Node], build: Build) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per data column: raw value per point, normalised value per raw value, raw ceiling."""
    method = build.recipe.normalise.method
    best = np.nanmax(np.where(build.included[:, None], build.raw, np.nan), axis=0, initial=-np.inf)
    raw_per_point, per_raw, ceiling = [], [], []
    for j, n in enumerate(nodes):
        m = n.max_points if n.max_points else None
        raw_per_point.append(1.0 / m if n.scale == "ratio" and m else 1.0)
        per_raw.append(1.0 / m if method == "ratio" and n.scale == "points" and m else 1.0)
        if n.scale == "ratio":
            top = 1.0
        elif n.scale == "points" and m:
            top = float(m)
        elif n.goalposts is not None:
            top = float(n.goalposts[1])
        else:
            top = float(best[j])
        ceiling.append(top)
    return np.array(raw_per_point), np.array(per_raw), np.array(ceiling)


def _composition(build: Build, row: int) -> np.ndarray:
    """Nodes × data columns: each node's value as a linear combination of the normalised data.

    Replays the aggregation steps with the weights renormalised over the children this unit has
    (as the engine does); the unit's availability cannot change when present values only rise.
    """
    n_data = len(build.plan.data_codes)
    A = np.zeros((len(build.codes), n_data))
    A[:n_data] = np.eye(n_data)
    present = ~np.isnan(build.values[row])
    for step in build.plan.steps:
        W = step.weights * present[:, None]
        total = W.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(total > 0, W / total, 0.0)
        A[step.targets] = share.T @ A
    return A


def _check_reproduces(A: np.ndarray, build: Build, row: int) -> None:
    """The model must give the engine's own scores; anything else is a method it does not know."""
    predicted = A @ np.nan_to_num(build.normalised[row].astype(float))
    values = build.values[row]
    ok = ~np.isnan(values)
    if not np.allclose(predicted[ok], values[ok], rtol=1e-9, atol=1e-12):
        raise ComputeError("the planner's linear model does not reproduce this build's scores, so "
                           "its plans would be inexact; plan on a recipe with points or arithmetic "
                           "aggregation and ratio normalisation")


# -- thresholds at the published precision ---------------------------------------------------------


def published(value: float, decimals: int | None) -> float:
    return float(round_half_up(np.array([value]), decimals)[0])


def rank_keys(build: Build, code: str) -> np.ndarray:
    """The values the engine ranks ``code`` by: published (rounded) scores, or 12 significant
    digits when the framework publishes no precision; NaN for a unit not ranked."""
    keys = build.published_score(code) if build.decimals is not None else significant(build.score(code))
    return np.where(build.included & ~np.isnan(keys), keys, np.nan)


def changed_data(data: Dataset, framework: Framework, unit: str,
                 values: Mapping[str, float]) -> Dataset:
    """``data`` with some of one unit's data-node values replaced (a column it lacks is added)."""
    columns = list(data.columns)
    matrix = data.values
    for code in values:
        if framework[code].data_column not in columns:
            columns.append(framework[code].data_column)
            matrix = np.column_stack([matrix, np.full(len(data.units), np.nan)])
    matrix = np.array(matrix, dtype=float)
    row = data.units.index(unit)
    for code, value in values.items():
        matrix[row, columns.index(framework[code].data_column)] = value
    return Dataset(data.units, tuple(columns), matrix, data.groups, data.unit_set, data.source)


def at_least(target: float, decimals: int | None) -> float:
    """The smallest real score whose published value is ≥ the published value ``target``."""
    if decimals is None:
        return target
    return target - 0.5 * 10.0 ** -decimals


def above(target: float, decimals: int | None) -> float:
    """The smallest real score whose published value is > the published value ``target``."""
    if decimals is None:
        return target + NO_PRECISION_GAP * max(abs(target), 1e-300)
    return target + 0.5 * 10.0 ** -decimals


def round_up_to(value: float, decimals: int | None) -> float:
    """The smallest published value ≥ ``value`` (a target score of 0.69751 means 0.6976)."""
    if decimals is None:
        return value
    scale = 10.0 ** decimals
    return math.ceil(round(value * scale, 6)) / scale


def report_nodes(framework: Framework) -> tuple[str, ...]:
    """The root and the pillars (role 'pillar'); without pillars, the root's aggregate children."""
    root = framework.root.code
    pillars = [n.code for n in framework.aggregates if n.role == "pillar"]
    if not pillars:
        pillars = [c for c in framework.children[root] if framework[c].is_aggregate]
    return (root, *pillars)
