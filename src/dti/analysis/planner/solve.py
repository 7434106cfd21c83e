"""The planner's mixed-integer programme, solved exactly with SciPy's ``milp`` (HiGHS).

    minimise   Σ_j cost_j · p_j
    subject to Σ_j a_ij · p_j ≥ b_i     (one row per score the unit must reach)
               0 ≤ p_j ≤ upper_j,  p_j integer when points are whole (sub-indicator points)

Many plans often cost the same (in the DTI total every point is worth 1/1000, whichever indicator
it is earned on).  A second solve picks, among the cheapest plans, the one that takes its points
where the most are still missing (least Σ p_j / headroom_j), so the answer is stable and sensible
rather than whatever vertex the solver met first.  The MIP gap is 0: the optimum is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

OPTIONS = {"mip_rel_gap": 0.0, "presolve": True}


@dataclass(frozen=True)
class Programme:
    cost: np.ndarray
    rows: np.ndarray       # constraints × variables
    rhs: np.ndarray
    upper: np.ndarray
    integer: bool = False
    headroom: np.ndarray | None = None   # for the tie-break among equally cheap plans


@dataclass(frozen=True)
class Solution:
    ok: bool
    points: np.ndarray
    message: str = ""


def solve(programme: Programme) -> Solution:
    """The cheapest plan, ties broken by headroom; ``ok`` False with the solver's message."""
    n = len(programme.cost)
    active = np.flatnonzero(programme.upper > 0)
    points = np.zeros(n)
    if np.all(programme.rhs <= 0):
        return Solution(True, points)
    if active.size == 0:
        return Solution(False, points, "no indicator can take more points")
    sub = Programme(programme.cost[active], programme.rows[:, active], programme.rhs,
                    programme.upper[active], programme.integer,
                    None if programme.headroom is None else programme.headroom[active])
    first = _milp(sub.cost, sub, ())
    if first.x is None or first.status != 0:
        return Solution(False, points, first.message)
    best = _rounded(first.x, sub)
    if sub.headroom is not None:
        cheapest = float(sub.cost @ best)
        slack = 1e-9 * max(1.0, abs(cheapest))
        limit = LinearConstraint(sub.cost[None, :], -np.inf, cheapest + slack)
        spread = 1.0 / np.maximum(sub.headroom, 1e-9)
        second = _milp(spread, sub, (limit,))
        if second.x is not None and second.status == 0:
            best = _rounded(second.x, sub)
    points[active] = best
    return Solution(True, points)


def _milp(objective: np.ndarray, sub: Programme, extra: tuple):
    constraints = (LinearConstraint(sub.rows, sub.rhs, np.inf), *extra)
    integrality = np.ones(len(objective)) if sub.integer else np.zeros(len(objective))
    return milp(objective, integrality=integrality, bounds=Bounds(0.0, sub.upper),
                constraints=constraints, options=OPTIONS)


def _rounded(x: np.ndarray, sub: Programme) -> np.ndarray:
    """The solver's point, cleaned of its tolerances: whole where integer, inside the bounds.

    HiGHS meets bounds and constraints to within about 1e-7, so a continuous solution may carry
    crumbs (2e-9 points on an indicator it does not use) and fall a hair short of the row.  The
    crumbs are dropped and the shortfall of a single row is put back on the indicators already
    used, largest first, so the plan is clean and exactly on the threshold.
    """
    if sub.integer:
        return np.clip(np.round(x), 0.0, sub.upper)
    x = np.clip(x, 0.0, sub.upper)
    crumbs = x < 1e-6 * np.maximum(1.0, sub.upper)
    if (~crumbs).any():   # a plan of less than a crumb in all is kept as it is
        x[crumbs] = 0.0
    if sub.rows.shape[0] == 1:
        row = sub.rows[0]
        for j in np.argsort(-x, kind="stable"):
            short = float(sub.rhs[0] - row @ x)
            if short <= 0 or x[j] == 0:
                break
            if row[j] > 0:
                x[j] = min(sub.upper[j], x[j] + short / row[j])
    return x
