"""The planner's optimum against brute force on small random instances (Hypothesis, derandomised).

Up to six indicators scored in whole points (max 1–4 each) under two groups and a points total,
two to five units.  Brute force tries every whole-point improvement vector of the planned unit
within its headroom and bounds, ranks it among the fixed others by the competition rule on the
published (half-up, 4-decimal) scores — computed here directly as Σ points / Σ max points, not
through the planner's thresholds — and keeps the cheapest that meets the target.  The solver must
agree on feasibility and on the optimum's cost.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dti.analysis.planner import plan_target
from dti.engine import Dataset, Recipe
from dti.engine.rank import round_half_up
from dti.engine.recipe import AggregateSpec, NormaliseSpec, RankSpec
from dti.framework.load import framework_from_dict

SETTINGS = settings(max_examples=120, deadline=None, derandomize=True)
RECIPE = Recipe(normalise=NormaliseSpec("ratio"), aggregate=AggregateSpec("points"),
                rank=RankSpec("competition", decimals=4))


@dataclass(frozen=True)
class Instance:
    maxima: tuple[int, ...]
    groups: tuple[int, ...]          # 0 or 1: which group each indicator feeds
    points: np.ndarray               # units × indicators, whole points
    costs: tuple[int, ...]
    bounds: tuple[int | None, ...]
    node: str                        # "T", "G0" or "G1"
    rank: int | None
    score: float | None
    strict: bool


@st.composite
def instances(draw) -> Instance:
    n = draw(st.integers(1, 6))
    maxima = tuple(draw(st.lists(st.integers(1, 4), min_size=n, max_size=n)))
    groups = tuple(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    units = draw(st.integers(2, 5))
    # the planned unit (row 0) starts low, so most targets need a plan
    points = np.array([[draw(st.integers(0, m // 2 if i == 0 else m)) for m in maxima]
                       for i in range(units)], float)
    costs = tuple(draw(st.lists(st.integers(1, 3), min_size=n, max_size=n)))
    bounds = tuple(draw(st.lists(st.one_of(st.none(), st.integers(0, 3)), min_size=n,
                                 max_size=n)))
    node = draw(st.sampled_from(["T"] + [f"G{g}" for g in sorted(set(groups))]))
    rank = draw(st.one_of(st.none(), st.integers(1, units - 1)))
    score = None if rank is not None else draw(st.integers(3_000, 10_500)) / 10_000
    return Instance(maxima, groups, points, costs, bounds, node, rank, score,
                    draw(st.booleans()) and rank is not None)


def framework(inst: Instance):
    nodes = [{"code": f"i{j}", "name_vi": f"i{j}", "level": 1, "parents": [f"G{g}"],
              "scale": "points", "max_points": m}
             for j, (m, g) in enumerate(zip(inst.maxima, inst.groups))]
    for g in sorted(set(inst.groups)):
        total = sum(m for m, gg in zip(inst.maxima, inst.groups) if gg == g)
        nodes.append({"code": f"G{g}", "name_vi": f"G{g}", "type": "aggregate", "level": 2,
                      "parents": ["T"], "max_points": total, "method": "points"})
    nodes.append({"code": "T", "name_vi": "T", "type": "aggregate", "level": 3,
                  "method": "points"})
    return framework_from_dict({"id": "small", "precision": 4, "aggregation": "points",
                                "nodes": nodes})


def brute_force(inst: Instance) -> float | None:
    """The least cost of a whole-point plan for unit 0 that meets the target; None if none."""
    maxima = np.array(inst.maxima, float)
    members = np.array([inst.node == "T" or inst.node == f"G{g}" for g in inst.groups])
    limits = [int(min(m - p, b if b is not None else m)) for m, p, b in
              zip(inst.maxima, inst.points[0], inst.bounds)]
    grid = np.array(list(itertools.product(*(range(u + 1) for u in limits))), float)
    own = round_half_up(((inst.points[0] + grid) * members).sum(axis=1)
                        / (maxima * members).sum(), 4)
    others = round_half_up((inst.points[1:] * members).sum(axis=1) / (maxima * members).sum(), 4)
    ok = np.ones(len(grid), dtype=bool)
    if inst.rank is not None:
        compare = np.greater_equal if inst.strict else np.greater
        ok &= compare(others[None, :], own[:, None]).sum(axis=1) <= inst.rank - 1
    if inst.score is not None:
        ok &= own >= inst.score - 1e-12      # the target has 4 decimals, as published
    if not ok.any():
        return None
    return float((grid[ok] @ np.array(inst.costs, float)).min())


@SETTINGS
@given(inst=instances())
def test_solver_optimum_agrees_with_brute_force(inst):
    fw = framework(inst)
    units = tuple(f"u{i}" for i in range(len(inst.points)))
    data = Dataset(units, tuple(f"i{j}" for j in range(len(inst.maxima))), inst.points)
    plan = plan_target(
        data, fw, RECIPE, "u0", rank=inst.rank, score=inst.score, strict=inst.strict,
        pillar=None if inst.node == "T" else inst.node, integer_points=True,
        cost={f"i{j}": c for j, c in enumerate(inst.costs)},
        bounds={f"i{j}": b for j, b in enumerate(inst.bounds) if b is not None})
    best = brute_force(inst)
    assert plan.reachable == (best is not None), plan.reason
    if best is not None:
        assert plan.cost == best
        for step in plan.steps:
            bound = inst.bounds[int(step.code[1:])]
            assert float(step.points).is_integer() and (bound is None or step.points <= bound)
    else:
        assert plan.reason_code in ("beyond_maximum", "bounds_too_tight")
