"""The defence view: how many points each unit just below (or level with) a unit would need to
overtake it — strictly above after rounding — and on which indicators.

Each rival's answer is its own least-cost target plan (see :mod:`dti.analysis.planner.target`)
with the target "strictly above the defended unit", on the same build, confirmed by a rebuild.
Among equally cheap plans the points go where the rival has most headroom; with cost weights,
the cheapest indicators come first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from dti.analysis.planner.model import rank_keys, unit_model
from dti.analysis.planner.target import Plan, make_target, plan_for
from dti.engine.build import build
from dti.engine.data import Dataset
from dti.engine.recipe import Recipe
from dti.errors import InputError, Problem
from dti.framework.model import Framework


@dataclass(frozen=True)
class Threat:
    """One rival below (or level with) the defended unit and the plan it would need."""

    unit: str
    score: float
    rank: int
    gap: float          # published score difference to the defended unit
    plan: Plan

    def as_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "score": self.score, "rank": self.rank,
                "gap": round(self.gap, 9), "reachable": self.plan.reachable,
                "points_needed": round(self.plan.points, 6) if self.plan.reachable else None,
                "cost": round(self.plan.cost, 6) if self.plan.reachable else None,
                "reason": self.plan.reason,
                "steps": [{"code": s.code, "points": round(s.points, 6)}
                          for s in self.plan.steps]}


@dataclass(frozen=True)
class Defence:
    unit: str
    node: str
    score: float
    rank: int
    threats: tuple[Threat, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "node": self.node, "score": self.score, "rank": self.rank,
                "threats": [t.as_dict() for t in self.threats]}


def defend(data: Dataset, framework: Framework, recipe: Recipe, unit: str, neighbours: int = 5,
           *, cost: Mapping[str, float] | None = None, pillar: str | None = None,
           integer_points: bool = False) -> Defence:
    """For the ``neighbours`` units just below ``unit`` (level ones first) in the total or in
    ``pillar``: the least points (least cost with ``cost``) each needs to end strictly above it."""
    if isinstance(neighbours, bool) or not isinstance(neighbours, int) or neighbours < 1:
        raise InputError([Problem("plan.bad_target", "the number of neighbours must be a whole "
                                  f"number ≥ 1, got {neighbours!r}", value=str(neighbours))])
    b = build(data, framework, recipe)
    if unit not in b.units:
        raise InputError([Problem("plan.unknown_unit", f"{unit!r} is not a unit of the data",
                                  unit=unit)])
    target = make_target(framework, pillar=pillar, cost=cost, above=unit,
                         integer_points=integer_points)
    node = target.node or framework.root.code
    row = unit_model(b, unit).row   # the defended unit must be ranked (and the method linear)
    keys = rank_keys(b, node)
    own = float(keys[row])
    below = [i for i in range(len(keys)) if i != row and not np.isnan(keys[i]) and keys[i] <= own]
    below.sort(key=lambda i: (-keys[i], b.units[i]))
    ranks = b.rank(node)
    threats = tuple(Threat(b.units[i], float(keys[i]), int(ranks[i]), own - float(keys[i]),
                           plan_for(b, b.units[i], target)) for i in below[:neighbours])
    return Defence(unit, node, own, int(ranks[row]), threats)
