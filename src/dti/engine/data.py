"""The engine's input: a unit × column matrix of values, with grouping columns beside it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np


@dataclass(frozen=True)
class Dataset:
    """Values for ``units`` (codes) × ``columns`` (data-column names); NaN means missing.

    ``groups`` holds non-numeric grouping columns (region, ministry group) as one label per unit.
    """

    units: tuple[str, ...]
    columns: tuple[str, ...]
    values: np.ndarray
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    unit_set: str | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=float)
        if values.shape != (len(self.units), len(self.columns)):
            raise ValueError(f"values shape {values.shape} does not match "
                             f"{len(self.units)} units × {len(self.columns)} columns")
        values.setflags(write=False)
        object.__setattr__(self, "values", values)

    def column(self, name: str) -> np.ndarray:
        """The values of one column; all-NaN when the column is absent."""
        try:
            return self.values[:, self.columns.index(name)]
        except ValueError:
            return np.full(len(self.units), np.nan)

    def matrix(self, names: tuple[str, ...] | list[str]) -> np.ndarray:
        """Columns in the given order; absent columns come back all-NaN."""
        index = {c: i for i, c in enumerate(self.columns)}
        out = np.full((len(self.units), len(names)), np.nan)
        for j, name in enumerate(names):
            if name in index:
                out[:, j] = self.values[:, index[name]]
        return out
