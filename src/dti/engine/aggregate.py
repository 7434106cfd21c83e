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


def aggregate(V: np.ndarray, plan: Plan, spec: AggregateSpec,
              multipliers: np.ndarray | None = None) -> np.ndarray:
    """Fill the aggregate columns of ``V``; returns a new array.

    ``V`` is units × columns, or runs × units × columns for a batch of Monte Carlo runs, in which
    case ``multipliers`` (runs × columns) scales each child's weight in each run — noisy weights,
    or 0 for a dropped node.  Weights scale per child, so every run shares the plan's matrices
    and a whole batch is a few matrix products.
    """
    V = V.copy()
    for step in plan.steps:
        V[..., step.targets] = _weighted_mean(V, step, spec.min_availability, multipliers)
    return V


def _weighted_mean(V: np.ndarray, step: Step, min_availability: float | None,
                   multipliers: np.ndarray | None = None) -> np.ndarray:
    rows = np.flatnonzero(step.weights.any(axis=1))  # only the columns that feed this step
    X, W = V[..., rows], step.weights[rows]
    ok = ~np.isnan(X)
    m = 1.0 if multipliers is None else multipliers[..., None, rows]  # runs × 1 × children
    available = (ok * m) @ W
    total = W.sum(axis=0) if multipliers is None else m @ W
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if step.method in ("points", "arithmetic"):
            out = (np.where(ok, X, 0.0) * m) @ W / available
        elif step.method in ("geometric", "harmonic", "generalised"):
            out = _power_mean(X, W, ok, m, available, step)
        else:
            raise ValueError(f"unknown aggregation {step.method!r}")
        share = available / np.where(total > 0, total, np.nan)
    threshold = 1e-12 if min_availability is None else min_availability - 1e-12
    return np.where((share >= threshold) & (available > 0), out, np.nan)


def _power_mean(X: np.ndarray, W: np.ndarray, ok: np.ndarray, m, available: np.ndarray,
                step: Step) -> np.ndarray:
    """Weighted power mean (geometric p → 0, harmonic p = −1) over the available children.

    A negative child makes it undefined (NaN).  A zero child is its limit: it adds 0 to the sum
    when p > 0 and makes the mean 0 when p ≤ 0 (geometric, harmonic), so a zero can never drop an
    aggregate out of its parent.  Only positive cells are transformed, so no inf × 0 weight occurs.
    A child whose weight is 0 in a run (dropped) counts for neither.
    """
    p = {"geometric": 0.0, "harmonic": -1.0}.get(step.method, step.p)
    positive = ok & (X > 0)
    safe = np.where(positive, X, 1.0)
    counts = (W > 0).astype(float)
    weighted = m > 0 if not isinstance(m, float) else True
    negative = (ok & (X < 0) & weighted) @ counts
    zero = (ok & (X == 0) & weighted) @ counts
    if p == 0:
        out = np.exp((np.where(positive, np.log(safe), 0.0) * m) @ W / available)
    else:
        out = ((np.where(positive, safe ** p, 0.0) * m) @ W / available) ** (1.0 / p)
    if p <= 0:
        out = np.where(zero > 0, 0.0, out)
    return np.where(negative > 0, np.nan, out)
