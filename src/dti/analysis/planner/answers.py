"""What-if on sub-indicator answers, and the points a province could still earn.

A province changes some of its *answers* (not main-indicator values): the scoring catalogue turns
every answer into points by its rule, the points into main-indicator values (Σ points ÷ the main
indicator's maximum), and :func:`dti.analysis.planner.whatif.what_if` rebuilds the ranking with
those values, every other province fixed.  Answers not changed keep their current points.

:func:`points_to_gain` answers the question asked before submission — "where are we losing
points we could still earn?" — from the province's own answers alone: for each scored
sub-indicator, the points missing against its maximum, largest first.  In the DTI points method a
sub-indicator point is worth 1/1000 of the total score whatever its main indicator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from dti.analysis.planner.model import changed_data
from dti.analysis.planner.whatif import WhatIf, what_if
from dti.engine.data import Dataset
from dti.engine.recipe import Recipe
from dti.errors import InputError, Problem
from dti.framework.model import Framework
from dti.scoring import ScoringCatalogue, parse_answer


@dataclass(frozen=True)
class AnswerChange:
    code: str
    before_points: float | None
    after_points: float | None
    answer: Mapping[str, Any]


@dataclass(frozen=True)
class AnswerWhatIf:
    """The answers changed, their points before and after, and the rebuild they lead to."""

    changes: tuple[AnswerChange, ...]
    main_before: Mapping[str, float]
    main_after: Mapping[str, float]
    result: WhatIf

    def as_dict(self) -> dict[str, Any]:
        return {"answers": [{"code": c.code, "before_points": c.before_points,
                             "after_points": c.after_points, "answer": dict(c.answer)}
                            for c in self.changes],
                "main_before": dict(self.main_before), "main_after": dict(self.main_after),
                **self.result.as_dict()}


def what_if_answers(data: Dataset, framework: Framework, recipe: Recipe, unit: str,
                    catalogue: ScoringCatalogue, points: Mapping[str, float | None],
                    changes: Mapping[str, Mapping[str, Any]]) -> AnswerWhatIf:
    """Rebuild with ``unit``'s answers changed: ``points`` are its current points per
    sub-indicator, ``changes`` code → raw answer (as typed in a form: vi-VN numbers, "có" …).
    Raises InputError with every unreadable answer or unknown code."""
    problems: list[Problem] = []
    after = dict(points)
    done = []
    for code, raw in changes.items():
        item = catalogue.item(code)
        if item is None:
            problems.append(Problem("plan.unknown_sub_indicator", f"{code!r} is not a sub-indicator "
                                    "of this catalogue", indicator=code))
            continue
        answer, found = parse_answer(item, raw)
        problems += found
        if not found:
            new = item.points(answer) if item.scored else None
            after[code] = new
            done.append(AnswerChange(code, points.get(code), new, answer))
    if problems:
        raise InputError(problems)
    if not done:
        raise InputError([Problem("plan.no_changes", "change at least one answer")])
    data_codes = {n.code for n in framework.data_nodes}
    before_values = catalogue.main_values(points)
    after_values = catalogue.main_values(after)
    # the unit's row is its current answers, whatever the data held for it
    data = changed_data(data, framework, unit,
                        {c: v for c, v in before_values.items() if c in data_codes})
    result = what_if(data, framework, recipe, unit,
                     {c: v for c, v in after_values.items() if c in data_codes})
    return AnswerWhatIf(tuple(done), before_values, after_values, result)


@dataclass(frozen=True)
class Gap:
    code: str
    main_code: str
    name_vi: str
    name_en: str
    points: float | None
    max_points: float
    missing: float
    total_share: float          # what earning the missing points adds to the 0..1 total


def points_to_gain(catalogue: ScoringCatalogue, points: Mapping[str, float | None],
                   total_points: float = 1000.0) -> list[Gap]:
    """Scored sub-indicators with points missing against their maximum, largest first."""
    gaps = []
    for item in catalogue.items:
        if not item.scored or item.max_points <= 0:
            continue
        have = points.get(item.code)
        missing = round(item.max_points - (have or 0.0), 4)
        if missing > 0:
            gaps.append(Gap(item.code, item.main_code, item.name_vi, item.name_en, have,
                            item.max_points, missing, missing / total_points))
    gaps.sort(key=lambda g: (-g.missing, g.code))
    return gaps
