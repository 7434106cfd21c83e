"""What-if: change some main-indicator values of one unit, others fixed, and rebuild.

The answer is the rebuild's own numbers — new total and pillar values, ranks, and the rank and
score change of every unit affected (through :func:`dti.engine.compare.compare`), for any
framework and recipe (no linearity is needed: nothing is solved, everything is rebuilt).

Only main-indicator (data-node) values can be changed here.  Changing a *sub-indicator answer*
needs the scoring catalogue (answer → points per sub-indicator rule), which is the subject of
another issue; until it exists, the planner works on the values the engine takes as input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from dti.analysis.planner.inputs import check_changes
from dti.analysis.planner.model import changed_data, report_nodes
from dti.engine.build import Build, build
from dti.engine.compare import Comparison, compare
from dti.engine.data import Dataset
from dti.engine.recipe import Recipe
from dti.errors import InputError, Problem
from dti.framework.model import Framework


@dataclass(frozen=True)
class Change:
    code: str
    before: float | None
    after: float


@dataclass(frozen=True)
class WhatIf:
    """One unit's changed values and what they do; ``before`` and ``after`` are the builds."""

    unit: str
    changes: tuple[Change, ...]
    nodes: tuple[str, ...]                 # the root, then the pillars
    comparisons: Mapping[str, Comparison]  # by node
    before: Build
    after: Build

    def standing(self) -> list[dict[str, Any]]:
        """The unit's score and rank in each reported node, before and after."""
        return [_row(self.comparisons[c], c, self.after.unit_row(self.unit)) for c in self.nodes]

    def affected(self) -> list[dict[str, Any]]:
        """Every (node, unit) whose published score or rank changed, the unit itself first."""
        out = []
        for code in self.nodes:
            comparison = self.comparisons[code]
            c = comparison
            rows = [i for i in range(len(c.units))
                    if _differs(c.score_before[i], c.score_after[i])
                    or _differs(c.rank_before[i], c.rank_after[i])]
            rows.sort(key=lambda i: (comparison.units[i] != self.unit,
                                     np.nan_to_num(comparison.rank_after[i], nan=np.inf)))
            out += [_row(comparison, code, i) for i in rows]
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"unit": self.unit,
                "changes": [{"code": c.code, "before": c.before, "after": c.after}
                            for c in self.changes],
                "standing": self.standing(), "affected": self.affected()}


def what_if(data: Dataset, framework: Framework, recipe: Recipe, unit: str,
            changes: Mapping[str, Any]) -> WhatIf:
    """Rebuild with ``changes`` (data-node code → new value on the data's scale, e.g. a ratio
    0..1 for a DTI main indicator) applied to ``unit`` only.  Raises InputError listing every
    bad change (unknown code, not a number, outside its scale)."""
    if unit not in data.units:
        raise InputError([Problem("plan.unknown_unit", f"{unit!r} is not a unit of the data",
                                  unit=unit)])
    if not changes:
        raise InputError([Problem("plan.bad_assignment", "give at least one change (--set "
                                  "CODE=VALUE)", unit=unit)])
    values = check_changes(framework, changes)
    before = build(data, framework, recipe)
    after = build(changed_data(data, framework, unit, values), framework, recipe)
    row = data.units.index(unit)
    old = {c: _value(data, framework, row, c) for c in values}
    nodes = report_nodes(framework)
    return WhatIf(unit, tuple(Change(c, old[c], v) for c, v in values.items()), nodes,
                  {c: compare(before, after, c) for c in nodes}, before, after)


def _value(data: Dataset, framework: Framework, row: int, code: str) -> float | None:
    value = data.column(framework[code].data_column)[row]
    return None if np.isnan(value) else float(value)


def _differs(a: float, b: float) -> bool:
    """Changed, counting a value that appears or disappears (a unit newly ranked or unranked)."""
    return bool(np.isnan(a) != np.isnan(b) or (not np.isnan(a) and a != b))


def _row(c: Comparison, code: str, i: int) -> dict[str, Any]:
    """One unit's record of a comparison (score change rounded clear of float noise)."""
    def clean(x: float, integer: bool = False) -> Any:
        return None if np.isnan(x) else (int(x) if integer else round(float(x), 9))

    return {"node": code, "unit": c.units[i], "score_before": clean(c.score_before[i]),
            "score_after": clean(c.score_after[i]), "score_change": clean(c.score_change[i]),
            "rank_before": clean(c.rank_before[i], True), "rank_after": clean(c.rank_after[i], True),
            "rank_change": clean(c.rank_change[i], True)}
