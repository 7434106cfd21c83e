"""Denominate: divide an indicator by its denominator column (e.g. per 1,000 inhabitants)."""

from __future__ import annotations

import numpy as np

from dti.engine.recipe import DenominateSpec


def denominate(X: np.ndarray, denominators: np.ndarray, which: np.ndarray,
               spec: DenominateSpec) -> np.ndarray:
    """``which[j]`` is the column of ``denominators`` for indicator j, or -1 for none.

    A zero or missing denominator gives a missing value, never an infinity.
    """
    if not spec.enabled or not (which >= 0).any():
        return X
    out = X.copy()
    cols = np.flatnonzero(which >= 0)
    den = denominators[:, which[cols]]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = out[:, cols] / den * spec.scale
    ratio[~np.isfinite(ratio)] = np.nan
    out[:, cols] = ratio
    return out
