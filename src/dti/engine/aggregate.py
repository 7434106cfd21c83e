"""Aggregate level by level over the framework's DAG, as a few matrix products.

Each computed aggregate is a weighted mean of its children's values.  Aggregates are grouped by
depth (1 + the deepest computed child) and by method, so a whole level is one product
``values @ W`` whatever the number of units.  Weights are renormalised over the children a unit
has: the result divides by the weight actually available.  ``points`` is the DTI rule
Σ ratio × max points / Σ max points, i.e. the arithmetic mean weighted by max points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dti.engine.recipe import AggregateSpec, Recipe
from dti.framework.model import Framework

ARITHMETIC = ("points", "arithmetic")
POWERS = {"geometric": 0.0, "harmonic": -1.0}   # and generalised: the recipe's p
AVAILABLE_MARGIN = 1e-12                        # rounding margin of the availability share


@dataclass(frozen=True)
class Step:
    method: str
    p: float
    targets: np.ndarray        # column indices (in the full value matrix) of the aggregates
    weights: np.ndarray        # n_columns × len(targets)


@dataclass(frozen=True)
class Plan:
    """The framework compiled for one recipe: which column is which, and the aggregation steps."""

    data_codes: tuple[str, ...]
    aggregate_codes: tuple[str, ...]
    steps: tuple[Step, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return self.data_codes + self.aggregate_codes


def compile_plan(fw: Framework, recipe: Recipe) -> Plan:
    data_codes = tuple(n.code for n in fw.data_nodes)
    aggregate_codes = tuple(n.code for n in fw.aggregates)
    codes = data_codes + aggregate_codes
    index = {c: i for i, c in enumerate(codes)}
    overrides = recipe.weight_overrides()
    excluded = set(recipe.exclude)
    depth = {c: 0 for c in data_codes}
    for node in fw.aggregates:
        depth[node.code] = 1 + max((depth.get(c, 0) for c in fw.children[node.code]), default=0)
    groups: dict[tuple[int, str, float], list[str]] = {}
    for node in fw.aggregates:
        # A recipe method overrides every aggregate (a Monte Carlo variant switches them all);
        # without one, each aggregate keeps the framework's own method.
        method = (recipe.aggregate.method or node.method or fw.meta.get("aggregation")
                  or "arithmetic")
        groups.setdefault((depth[node.code], method, recipe.aggregate.p), []).append(node.code)
    steps = []
    for (_depth, method, p), targets in sorted(groups.items()):
        W = np.zeros((len(codes), len(targets)))
        for k, code in enumerate(targets):
            for child in fw.children[code]:
                if child not in index or child in excluded:
                    continue
                node = fw[child]
                weight = overrides.get(child, node.effective_weight(method))
                W[index[child], k] = weight if node.scored else 0.0
        steps.append(Step(method, p, np.array([index[c] for c in targets]), W))
    return Plan(data_codes, aggregate_codes, tuple(steps))


def aggregate(V: np.ndarray, plan: Plan, spec: AggregateSpec) -> np.ndarray:
    """Fill the aggregate columns of ``V`` (units × columns); returns a new array."""
    V = V.copy()
    threshold = availability_threshold(spec.min_availability)
    for step in plan.steps:
        V[:, step.targets] = _weighted_mean(V, step, threshold)
    return V


def _weighted_mean(V: np.ndarray, step: Step, threshold: float) -> np.ndarray:
    power = power_of(step.method, step.p)
    rows = np.flatnonzero(step.weights.any(axis=1))  # only the columns that feed this step
    X, W = V[:, rows], step.weights[rows]
    ok = ~np.isnan(X)
    available = ok @ W
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if power is None:
            out = np.where(ok, X, 0.0) @ W / available
        else:
            counts = (W > 0).astype(float)
            out = from_power_mean(transformed(X, power, ok & (X > 0)) @ W / available, power)
            out = zero_and_negative_rules(out, power, (ok & (X == 0)) @ counts > 0,
                                          (ok & (X < 0)) @ counts > 0)
        return keep_available(out, available, W.sum(axis=0), threshold)


# ------------------------------------------------------------------------------------------
# The rules of a weighted (power) mean, shared with the batched Monte Carlo evaluator
# (dti.analysis.batch), which arranges the same sums differently for speed.

def power_of(method: str, p: float) -> float | None:
    """The power-mean exponent of an aggregation method; None for an arithmetic mean (``points``
    is the arithmetic mean weighted by max points)."""
    if method in ARITHMETIC:
        return None
    if method in POWERS:
        return POWERS[method]
    if method == "generalised":
        return float(p)
    raise ValueError(f"unknown aggregation {method!r}")   # recipes are checked: a bug if reached


def availability_threshold(min_availability: float | None) -> float:
    """The share of weight a unit must have present: any (above 0) without a minimum; the
    minimum less a rounding margin otherwise, so a share computed as 0.6999999999 passes 0.7."""
    return AVAILABLE_MARGIN if min_availability is None else min_availability - AVAILABLE_MARGIN


def transformed(X: np.ndarray, power: float, where: np.ndarray | None = None) -> np.ndarray:
    """The power transform of the cells ``where`` (the positive ones): log x for the geometric
    mean, x ** p otherwise; 0 elsewhere (a zero or negative child is handled by
    :func:`zero_and_negative_rules`, a missing one by the availability).  ``where`` None: every
    cell is positive."""
    if where is None:
        return np.log(X) if power == 0 else X ** power
    term = np.zeros_like(X)
    if power == 0:
        np.log(X, out=term, where=where)
    else:
        np.power(X, power, out=term, where=where)
    return term


def from_power_mean(mean: np.ndarray, power: float | None) -> np.ndarray:
    """Back from the mean of transformed values to the aggregate's scale (in place)."""
    if power is None:
        return mean
    if power == 0:
        return np.exp(mean, out=mean)
    return mean ** (1.0 / power)


def zero_and_negative_rules(out: np.ndarray, power: float, zero: np.ndarray | None,
                            negative: np.ndarray | None) -> np.ndarray:
    """A power mean over a child that counts (weight > 0) and is 0 or negative.

    A negative child makes it undefined (NaN).  A zero child is its limit: it adds 0 to the sum
    when p > 0 (done by :func:`transformed`) and makes the mean 0 when p ≤ 0 (geometric,
    harmonic), so a zero can never drop an aggregate out of its parent.  ``zero``/``negative``:
    units (broadcastable to ``out``) with such a child; None when there is none."""
    if power <= 0 and zero is not None:
        out = np.where(zero, 0.0, out)
    if negative is not None:
        out = np.where(negative, np.nan, out)
    return out


def keep_available(out: np.ndarray, available: np.ndarray, total: np.ndarray,
                   threshold: float) -> np.ndarray:
    """``out`` where the weight present (``available``) is above 0 and at least ``threshold`` of
    the aggregate's ``total`` weight; NaN elsewhere.  Weights renormalise over the children a
    unit has: ``out`` already divides by ``available``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        share = available / np.where(total > 0, total, np.nan)
        keep = (share >= threshold) & (available > 0)
    return out if keep.all() else np.where(keep, out, np.nan)
