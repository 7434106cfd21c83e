"""Screen units by data availability: a unit with too few values is left out of the ranking."""

from __future__ import annotations

import numpy as np

from dti.engine.recipe import ScreenSpec


def screen(X: np.ndarray, spec: ScreenSpec, required: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (availability per unit over the ``required`` columns, included mask).

    Availability is measured on ``X`` as given: the build passes the output of the stage
    ``spec.after`` names (the denominated data by default, the imputed data in COINr's order).
    """
    cols = X[:, required] if required.any() else X
    availability = (~np.isnan(cols)).mean(axis=1) if cols.shape[1] else np.ones(X.shape[0])
    if spec.min_availability is None:
        return availability, np.ones(X.shape[0], dtype=bool)
    return availability, availability >= spec.min_availability - 1e-12
