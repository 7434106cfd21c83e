"""Target seeking: the least added points (or least cost) for one unit to reach a rank or a score.

Others stay fixed.  Ranks follow the competition rule at the published precision: to reach rank
≤ k the unit's *published* score must be ≥ the k-th best other unit's (a tie shares the rank); to
be strictly above a unit it must exceed that unit's published score.  Each such condition is an
exact real-valued threshold on the unit's score (see :mod:`dti.analysis.planner.model`), the plan
is a mixed-integer programme solved by HiGHS, and every plan is confirmed by an actual rebuild —
a plan the engine does not confirm is never reported.  A target that no plan reaches comes back
as a :class:`Plan` with ``reachable=False`` and the reason, not as an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from dti.analysis.planner.inputs import check_weights, parse_number
from dti.analysis.planner.model import (UnitModel, above, at_least, changed_data, published,
                                        rank_keys, report_nodes, round_up_to, unit_model)
from dti.analysis.planner.solve import Programme, solve
from dti.engine.build import Build, build
from dti.engine.data import Dataset
from dti.engine.recipe import Recipe
from dti.errors import InputError, Problem
from dti.framework.model import Framework

# Margins on the threshold, in units of the published last digit, tried in turn until a rebuild
# confirms the plan: HiGHS meets a constraint to within 1e-7 and the engine's rounding forgives
# 5e-7, so the exact threshold (margin 0) is nearly always confirmed at once.
MARGINS = (0.0, 2e-7, 2e-6, 2e-5)


@dataclass(frozen=True)
class Target:
    """What the unit must reach, and the limits of the plan (a spec object for ``plan_for``).

    ``rank``: rank ≤ k in ``node`` (the root when None); ``strict``: without sharing rank k with
    the unit now k-th; ``score``: a published score ≥ this; ``above``: strictly above that unit.
    ``cost`` and ``bounds`` are (code, value) pairs: cost per point (1 when not given) and the most
    points an indicator may improve by.
    """

    rank: int | None = None
    score: float | None = None
    node: str | None = None
    strict: bool = False
    above: str | None = None
    cost: tuple[tuple[str, float], ...] = ()
    bounds: tuple[tuple[str, float], ...] = ()
    integer_points: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "score": self.score, "node": self.node, "strict": self.strict,
                "above": self.above, "cost": dict(self.cost), "bounds": dict(self.bounds),
                "integer_points": self.integer_points}


@dataclass(frozen=True)
class PlanStep:
    """Points added to one indicator, and its value before and after (on the data's scale)."""

    code: str
    points: float
    value_before: float
    value_after: float
    cost: float
    headroom: float


@dataclass(frozen=True)
class Rival:
    """A unit ahead of (or level with) the planned unit that the plan overtakes or ties."""

    unit: str
    score: float
    rank: int
    status: str  # "overtaken" or "tied"


@dataclass(frozen=True)
class Plan:
    unit: str
    node: str
    target: Target
    reachable: bool
    reason_code: str = ""    # beyond_maximum, bounds_too_tight, solver, not_confirmed
    reason: str = ""
    needed: float | None = None          # the published score the target needs
    threshold: float | None = None       # the exact real-valued score it needs
    best_possible: float | None = None   # published score with every indicator at its limit
    maximum: float | None = None         # the same without the user's bounds
    points: float = 0.0
    cost: float = 0.0
    steps: tuple[PlanStep, ...] = ()
    exact_before: float | None = None
    exact_after: float | None = None
    scores_before: Mapping[str, float | None] = field(default_factory=dict)
    scores_after: Mapping[str, float | None] = field(default_factory=dict)
    ranks_before: Mapping[str, int | None] = field(default_factory=dict)
    ranks_after: Mapping[str, int | None] = field(default_factory=dict)
    rivals: tuple[Rival, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in ("unit", "node", "reachable", "reason_code", "reason",
                                             "needed", "threshold", "best_possible", "maximum")}
        return {**out, "target": self.target.as_dict(), "points": _r(self.points, 6),
                "cost": _r(self.cost, 6),
                "steps": [{"code": s.code, "points": _r(s.points, 6),
                           "value_before": _r(s.value_before, 6),
                           "value_after": _r(s.value_after, 6), "cost": _r(s.cost, 6),
                           "headroom": _r(s.headroom, 6)} for s in self.steps],
                "exact_before": _r(self.exact_before, 9), "exact_after": _r(self.exact_after, 9),
                "scores_before": dict(self.scores_before), "scores_after": dict(self.scores_after),
                "ranks_before": dict(self.ranks_before), "ranks_after": dict(self.ranks_after),
                "rivals": [r.__dict__.copy() for r in self.rivals]}


def plan_target(data: Dataset, framework: Framework, recipe: Recipe, unit: str, *,
                rank: int | None = None, pillar: str | None = None, score: float | None = None,
                cost: Mapping[str, float] | None = None, bounds: Mapping[str, float] | None = None,
                integer_points: bool = False, strict: bool = False,
                above: str | None = None) -> Plan:
    """The least added points (least cost with ``cost`` weights per point) for ``unit`` to reach
    rank ≤ ``rank`` overall or in ``pillar``, and/or a published ``score``, others fixed.

    ``bounds`` caps how many points each indicator may improve by; ``integer_points`` makes the
    points whole (sub-indicator points).  ``strict`` asks for rank ``rank`` not shared; ``above``
    names a unit to end strictly above.  Raises InputError for a malformed target and
    ComputeError when the framework's method makes a linear programme inexact.
    """
    target = make_target(framework, rank=rank, pillar=pillar, score=score, cost=cost,
                         bounds=bounds, integer_points=integer_points, strict=strict, above=above)
    return plan_for(build(data, framework, recipe), unit, target)


def make_target(framework: Framework, *, rank=None, pillar=None, score=None, cost=None,
                bounds=None, integer_points=False, strict=False, above=None) -> Target:
    """A checked :class:`Target`; InputError listing every problem."""
    problems = []
    if rank is None and score is None and above is None:
        problems.append(Problem("plan.bad_target", "give a target: a rank (--rank K), a score "
                                "(--score S) or a province to end above (--above)"))
    if rank is not None and (isinstance(rank, bool) or not isinstance(rank, int) or rank < 1):
        problems.append(Problem("plan.bad_target", f"the target rank must be a whole number ≥ 1, "
                                f"got {rank!r}", value=str(rank)))
    number = parse_number(score) if score is not None else None
    if score is not None and number is None:
        problems.append(Problem("plan.bad_target", f"the target score must be a number, got "
                                f"{score!r}", value=str(score)))
    node = aggregate_code(framework, pillar) if pillar else None
    if pillar and node is None:
        known = ", ".join(n.code for n in framework.aggregates)
        problems.append(Problem("plan.unknown_node", f"{pillar!r} is not a pillar or aggregate of "
                                f"{framework.id}; its aggregates are {known}", value=pillar))
    if problems:
        raise InputError(problems)
    costs = check_weights(framework, cost, "cost", "cost")
    limits = check_weights(framework, bounds, "bounds", "bound")
    return Target(rank, number, node, bool(strict), above, tuple(costs.items()),
                  tuple(limits.items()), bool(integer_points))


def aggregate_code(framework: Framework, text: str) -> str | None:
    codes = [n.code for n in framework.aggregates]
    if text in codes:
        return text
    folded = [c for c in codes if c.casefold() == str(text).casefold()]
    return folded[0] if len(folded) == 1 else None


def plan_for(b: Build, unit: str, target: Target) -> Plan:
    """Plan on an existing build (the defence view plans several units on one build)."""
    for code in (unit, target.above):
        if code is not None and code not in b.units:
            raise InputError([Problem("plan.unknown_unit", f"{code!r} is not a unit of the data",
                                      unit=code)])
    model = unit_model(b, unit)
    node = target.node or b.framework.root.code
    _check_above(b, unit, node, target)
    threshold = goal_threshold(b, model.row, node, target)
    if meets(b, model.row, node, target):
        return _result(b, b, model, node, target, np.zeros(len(model.raw)), threshold)
    costs, upper_max, upper = _limits(b, model, target)
    a = model.node_row(node)
    base = model.value(node)
    best, best_max = base + a @ upper, base + a @ upper_max
    common = dict(unit=unit, node=node, target=target, reachable=False, threshold=threshold,
                  needed=published(threshold, b.decimals),
                  best_possible=published(best, b.decimals),
                  maximum=published(best_max, b.decimals))
    slack = 1e-12 * max(1.0, abs(threshold))   # float noise; the rebuild has the last word
    if best_max + slack < threshold or best + slack < threshold:
        return Plan(**common, **_unreachable(unit, node, common, best_max + slack < threshold))
    scale = 10.0 ** (b.decimals if b.decimals is not None else 9)
    for margin in MARGINS:
        # never ask past what the indicators allow: a plan that needs all of it is still a plan
        rhs = min((threshold - base) * scale + margin, (best - base) * scale)
        programme = Programme(costs, a[None, :] * scale, np.array([rhs]), upper,
                              target.integer_points, headroom=upper_max)
        solution = solve(programme)
        if not solution.ok:
            return Plan(**common, reason_code="solver",
                        reason=f"the solver found no plan: {solution.message}")
        after = build(changed_data(b.data, b.framework, unit, _new_values(b, model, solution.points)),
                      b.framework, b.recipe)
        if meets(after, model.row, node, target):
            return _result(b, after, model, node, target, solution.points, threshold, costs,
                           upper_max)
    return Plan(**common, reason_code="not_confirmed",
                reason="the engine did not confirm the solver's plan on a rebuild, so no plan is "
                       "reported")


def _check_above(b: Build, unit: str, node: str, target: Target) -> None:
    if target.above is None:
        return
    if target.above == unit:
        raise InputError([Problem("plan.bad_target", "a province cannot be planned to end above "
                                  "itself", unit=unit)])
    if np.isnan(rank_keys(b, node)[b.unit_row(target.above)]):
        raise InputError([Problem("plan.bad_target", f"{target.above!r} has no {node} rank to "
                                  "overtake", unit=target.above)])


def goal_threshold(b: Build, row: int, node: str, target: Target) -> float:
    """The least real-valued score of ``node`` that meets every part of ``target``."""
    keys = rank_keys(b, node)
    others = np.delete(keys, row)
    others = np.sort(others[~np.isnan(others)])[::-1]
    needs = [-np.inf]
    if target.rank is not None and len(others) >= target.rank:
        kth = float(others[target.rank - 1])
        needs.append(above(kth, b.decimals) if target.strict else at_least(kth, b.decimals))
    if target.score is not None:
        needs.append(at_least(round_up_to(target.score, b.decimals), b.decimals))
    if target.above is not None:
        needs.append(above(float(keys[b.unit_row(target.above)]), b.decimals))
    return float(max(needs))


def meets(b: Build, row: int, node: str, target: Target) -> bool:
    """Whether the unit meets the target in build ``b``, judged as the engine ranks."""
    keys = rank_keys(b, node)
    own = keys[row]
    if np.isnan(own):
        return False
    others = np.delete(keys, row)
    others = others[~np.isnan(others)]
    ok = True
    if target.rank is not None:
        ahead = (others >= own).sum() if target.strict else (others > own).sum()
        ok &= bool(ahead <= target.rank - 1)
    if target.score is not None:
        ok &= bool(own >= round_up_to(target.score, b.decimals) - 1e-12)
    if target.above is not None:
        ok &= bool(own > keys[b.unit_row(target.above)])
    return ok


def _limits(b: Build, model: UnitModel, target: Target):
    """Cost per point, the framework's headroom, and the headroom within the user's bounds."""
    index = {c: j for j, c in enumerate(model.data_codes)}
    costs = np.ones(len(model.data_codes))
    for code, weight in target.cost:
        costs[index[code]] = weight
    upper_max = model.headroom.copy()
    upper = upper_max.copy()
    for code, bound in target.bounds:
        upper[index[code]] = min(upper[index[code]], bound)
    if target.integer_points:
        upper_max, upper = np.floor(upper_max + 1e-9), np.floor(upper + 1e-9)
    return costs, upper_max, upper


def _unreachable(unit: str, node: str, common: dict, beyond: bool) -> dict[str, str]:
    if beyond:
        return {"reason_code": "beyond_maximum",
                "reason": f"{unit} cannot reach it: with every indicator at its maximum its {node} "
                          f"would be {common['maximum']}, below the {common['needed']} needed"}
    return {"reason_code": "bounds_too_tight",
            "reason": f"the bounds are too tight: within them {unit}'s {node} reaches at most "
                      f"{common['best_possible']}, below the {common['needed']} needed (without "
                      f"them it could reach {common['maximum']})"}


def _new_values(b: Build, model: UnitModel, points: np.ndarray) -> dict[str, float]:
    raw = model.raw_after(points)
    return {c: float(raw[j]) for j, c in enumerate(model.data_codes) if points[j] > 0}


def _result(before: Build, after: Build, model: UnitModel, node: str, target: Target,
            points: np.ndarray, threshold: float, costs: np.ndarray | None = None,
            headroom: np.ndarray | None = None) -> Plan:
    costs = np.ones(len(points)) if costs is None else costs
    headroom = model.headroom if headroom is None else headroom
    raw_after = model.raw_after(points)
    steps = sorted((PlanStep(c, float(points[j]), float(model.raw[j]), float(raw_after[j]),
                             float(costs[j] * points[j]), float(headroom[j]))
                    for j, c in enumerate(model.data_codes) if points[j] > 0),
                   key=lambda s: (-s.points, s.code))
    nodes = tuple(dict.fromkeys((*report_nodes(before.framework), node)))
    row = model.row
    return Plan(
        unit=model.unit, node=node, target=target, reachable=True,
        threshold=threshold if np.isfinite(threshold) else None,
        needed=published(threshold, before.decimals) if np.isfinite(threshold) else None,
        points=float(points.sum()), cost=float(costs @ points), steps=tuple(steps),
        exact_before=float(before.score(node)[row]), exact_after=float(after.score(node)[row]),
        scores_before=_scores(before, row, nodes), scores_after=_scores(after, row, nodes),
        ranks_before=_ranks(before, row, nodes), ranks_after=_ranks(after, row, nodes),
        rivals=_rivals(before, after, row, node))


def _rivals(before: Build, after: Build, row: int, node: str) -> tuple[Rival, ...]:
    """Units ahead of or level with the unit before that it overtakes or ties after the plan."""
    was, now = rank_keys(before, node), rank_keys(after, node)
    ranks = before.rank(node)
    out = []
    for i in np.argsort(-np.nan_to_num(was, nan=-np.inf), kind="stable"):
        if i == row or np.isnan(was[i]) or was[i] < was[row]:
            continue
        if was[i] < now[row]:
            out.append(Rival(before.units[i], float(was[i]), int(ranks[i]), "overtaken"))
        elif was[i] == now[row] and was[i] > was[row]:
            out.append(Rival(before.units[i], float(was[i]), int(ranks[i]), "tied"))
    return tuple(out)


def _scores(b: Build, row: int, nodes: tuple[str, ...]) -> dict[str, float | None]:
    return {c: _clean(b.published_score(c)[row]) for c in nodes}


def _ranks(b: Build, row: int, nodes: tuple[str, ...]) -> dict[str, int | None]:
    return {c: (None if np.isnan(r) else int(r)) for c in nodes for r in [b.rank(c)[row]]}


def _clean(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def _r(x: float | None, digits: int) -> float | None:
    return None if x is None else round(float(x), digits)
