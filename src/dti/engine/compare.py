"""Compare two builds: score and rank change per unit, across the 63 → 34 reform if needed.

Units are matched by code.  When the two builds use different unit sets, the earlier build is
first rebased onto the later set through the crosswalk — a merged unit's value is the plain mean of
its former units' values, the rule the ministry used for DTI 2024 — and rebuilt with its own
framework and recipe, so both sides are ranked on the same basis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from dti.engine.build import Build, build
from dti.engine.data import Dataset


@dataclass(frozen=True)
class Comparison:
    code: str
    units: tuple[str, ...]
    score_before: np.ndarray
    score_after: np.ndarray
    rank_before: np.ndarray
    rank_after: np.ndarray
    rebased: bool

    @property
    def score_change(self) -> np.ndarray:
        return self.score_after - self.score_before

    @property
    def rank_change(self) -> np.ndarray:
        """Places gained: positive when the unit rose (rank number fell)."""
        return self.rank_before - self.rank_after

    def records(self) -> list[dict[str, Any]]:
        def clean(x: float, integer: bool = False) -> Any:
            return None if np.isnan(x) else (int(x) if integer else float(x))

        return [{"unit": u, "score_before": clean(self.score_before[i]),
                 "score_after": clean(self.score_after[i]),
                 "score_change": clean(self.score_change[i]),
                 "rank_before": clean(self.rank_before[i], True),
                 "rank_after": clean(self.rank_after[i], True),
                 "rank_change": clean(self.rank_change[i], True)} for i, u in enumerate(self.units)]


def rebase(data: Dataset, new_to_old: Mapping[str, tuple[str, ...]], unit_set: str | None = None,
           groups: Mapping[str, tuple[str, ...]] | None = None) -> Dataset:
    """Values on a new unit set: each new unit = plain mean of all its former units' values.

    The 2024 rule is the mean of *every* former province: a new unit one of whose former units
    lacks a value gets no value for that column (a mean over the rest would pass off one
    province's figure as the merged province's).

    ``groups`` gives the grouping labels (region …) of the new units, in ``new_to_old`` order;
    without it a new unit keeps a label its former units all share, else gets "" (no group).
    """
    index = {u: i for i, u in enumerate(data.units)}
    units = tuple(new_to_old)
    if groups is None:
        groups = {g: tuple(_shared_label(labels, [index[o] for o in new_to_old[new] if o in index])
                           for new in units) for g, labels in data.groups.items()}
    out = np.full((len(units), len(data.columns)), np.nan)
    for k, new in enumerate(units):
        if all(o in index for o in new_to_old[new]):
            out[k] = data.values[[index[o] for o in new_to_old[new]]].mean(axis=0)
    return Dataset(units, data.columns, out, dict(groups), unit_set, data.source)


def _shared_label(labels: tuple[str, ...], rows: list[int]) -> str:
    found = {labels[i] for i in rows}
    return found.pop() if len(found) == 1 else ""


def compare(before: Build, after: Build, code: str | None = None,
            new_to_old: Mapping[str, tuple[str, ...]] | None = None) -> Comparison:
    """Score and rank change of ``code`` (the root by default) from ``before`` to ``after``."""
    rebased = False
    if new_to_old is not None and set(before.units) != set(after.units):
        # the new units' grouping labels (for group imputation or ranks) are the later data's
        new_units = tuple(new_to_old)
        row = {u: i for i, u in enumerate(after.units)}
        groups = {g: tuple(labels[row[u]] if u in row else "" for u in new_units)
                  for g, labels in after.data.groups.items()}
        before = build(rebase(before.data, new_to_old, after.data.unit_set, groups),
                       before.framework, before.recipe)
        rebased = True
    code_after = code or after.framework.root.code
    code_before = code or before.framework.root.code
    units = after.units
    index = {u: i for i, u in enumerate(before.units)}

    def pick(array: np.ndarray) -> np.ndarray:
        return np.array([array[index[u]] if u in index else np.nan for u in units])

    return Comparison(
        code=code_after, units=units,
        score_before=pick(before.published_score(code_before)),
        score_after=after.published_score(code_after).copy(),
        rank_before=pick(before.rank(code_before)), rank_after=after.rank(code_after).copy(),
        rebased=rebased,
    )
