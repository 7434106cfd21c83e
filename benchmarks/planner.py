"""Planner speed: a target plan at 63 provinces × 100 sub-indicators.

Run:  .venv/bin/python benchmarks/planner.py [--repeat 11] [--seed 2022]

A synthetic framework scored like the DTI: 100 sub-indicators with whole max points (1–20),
under 8 main indicators (points aggregates) under a points total; 63 provinces with whole points.
Prints the median (and min/max) wall time over ``--repeat`` runs after one warm-up of a full
``plan_target`` call — build, linear model, both MILP solves (least points, then the tie-break
by headroom) and the confirming rebuild — for the province ranked 30th reaching rank 10 (whole
points, and continuous points), and for the defence view of 5 neighbours.  Target: under 1 s
for a target plan.  Not a test: figures go into the issue note.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import scipy

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine import timed  # noqa: E402  (benchmarks/engine.py)

from dti.analysis.planner import defend, plan_target  # noqa: E402
from dti.engine import Dataset, Recipe, build  # noqa: E402
from dti.engine.recipe import AggregateSpec, NormaliseSpec, RankSpec  # noqa: E402
from dti.framework.load import framework_from_dict  # noqa: E402
from dti.framework.model import Framework  # noqa: E402

RECIPE = Recipe(normalise=NormaliseSpec("ratio"), aggregate=AggregateSpec("points"),
                rank=RankSpec("competition", decimals=4))


def synthetic_points_framework(n_sub: int, n_main: int, rng: np.random.Generator) -> Framework:
    maxima = rng.integers(1, 21, size=n_sub)
    nodes = [{"code": f"s{j:03d}", "name_vi": f"Chỉ số thành phần {j}", "level": 1,
              "parents": [f"M{j % n_main}"], "scale": "points", "max_points": int(maxima[j])}
             for j in range(n_sub)]
    for k in range(n_main):
        nodes.append({"code": f"M{k}", "name_vi": f"Chỉ số chính {k}", "type": "aggregate",
                      "level": 2, "parents": ["DTI"], "method": "points",
                      "max_points": int(maxima[k::n_main].sum())})
    nodes.append({"code": "DTI", "name_vi": "Tổng", "type": "aggregate", "level": 3,
                  "method": "points"})
    return framework_from_dict({"id": "synthetic-points", "precision": 4, "nodes": nodes,
                                "aggregation": "points"})


def synthetic_points_data(fw: Framework, n_units: int, rng: np.random.Generator) -> Dataset:
    maxima = np.array([n.max_points for n in fw.data_nodes], dtype=np.int64)
    strength = rng.beta(4, 3, size=(n_units, 1))
    points = rng.binomial(maxima[None, :].repeat(n_units, 0), strength)
    units = tuple(f"{i:02d}" for i in range(1, n_units + 1))
    return Dataset(units, tuple(n.code for n in fw.data_nodes), points.astype(float))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--seed", type=int, default=2022)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    fw = synthetic_points_framework(100, 8, rng)
    data = synthetic_points_data(fw, 63, rng)
    b = build(data, fw, RECIPE)
    unit = b.units[int(np.flatnonzero(b.rank() >= 30)[np.argmin(b.rank()[b.rank() >= 30])])]
    plans = {"integer": plan_target(data, fw, RECIPE, unit, rank=10, integer_points=True),
             "continuous": plan_target(data, fw, RECIPE, unit, rank=10)}
    cases: list[tuple[str, Callable[[], object]]] = [
        ("target rank 10 from 30, whole points", lambda: plan_target(
            data, fw, RECIPE, unit, rank=10, integer_points=True)),
        ("target rank 10 from 30, continuous", lambda: plan_target(data, fw, RECIPE, unit,
                                                                   rank=10)),
        ("defence view, 5 neighbours", lambda: defend(data, fw, RECIPE, unit, 5)),
    ]
    print(f"dti planner benchmark — numpy {np.__version__}, scipy {scipy.__version__} (HiGHS), "
          f"Python {sys.version.split()[0]}, median of {args.repeat} runs after a warm-up, "
          f"seed {args.seed}")
    print(f"63 units × 100 sub-indicators (8 main indicators, points); province {unit} at rank "
          f"{int(b.rank()[b.unit_row(unit)])}, score {b.published_score()[b.unit_row(unit)]:.4f}")
    for kind, plan in plans.items():
        print(f"  {kind}: {plan.points:g} points on {len(plan.steps)} sub-indicators → rank "
              f"{plan.ranks_after['DTI']}, score {plan.scores_after['DTI']:.4f} (confirmed by a "
              "rebuild)")
    header = f"{'case':<42} {'median':>10} {'min':>10} {'max':>10} {'target':>8}"
    print("\n" + header + "\n" + "-" * len(header))
    for name, function in cases:
        times = timed(function, args.repeat)
        target = "< 1 s" if name.startswith("target") else ""
        print(f"{name:<42} {_ms(statistics.median(times)):>10} {_ms(min(times)):>10} "
              f"{_ms(max(times)):>10} {target:>8}")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


if __name__ == "__main__":
    main()
