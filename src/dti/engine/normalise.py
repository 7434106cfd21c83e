"""Normalise each column onto a common scale, respecting the indicator's direction.

Methods (``NormaliseSpec.method``):
- ``ratio``: DTI points ratio: ratio-scale values as they are, points-scale values / max points.
- ``minmax``: (x − min) / (max − min) mapped to [lower, upper]; direction −1 flips it.
- ``zscore``: mean + sd · direction · (x − x̄) / s (sample sd, as COINr).
- ``goalposts``: (x − lo) / (hi − lo) clipped to [0, 1], mapped to [lower, upper].
- ``distance_to_target``: (x − min) / (target − min), capped at 1 (direction −1: (max − x) / (max − target)).
- ``rank``: average rank (1 = lowest, direction respected); ``percentile``: (rank_min − 1) / (n − 1)
  mapped to [lower, upper] (0..100 by default; a lone value sits at ``upper``).
- ``none``: values as they are.
Statistics are taken over the ``included`` units only, so a screened-out unit does not move others.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dti.engine.recipe import NormaliseSpec


@dataclass(frozen=True)
class ColumnInfo:
    """What normalisation needs to know of each column (arrays of length n_columns)."""

    directions: np.ndarray
    scales: tuple[str, ...]
    max_points: np.ndarray
    goal_lower: np.ndarray
    goal_upper: np.ndarray
    targets: np.ndarray


def normalise(X: np.ndarray, spec: NormaliseSpec, info: ColumnInfo,
              included: np.ndarray | None = None) -> np.ndarray:
    method = spec.method
    if method == "none":
        return X
    if method == "ratio":
        points = np.array([s == "points" for s in info.scales])
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(points, X / np.where(info.max_points > 0, info.max_points, np.nan), X)
    ref = X if included is None or included.all() else np.where(included[:, None], X, np.nan)
    d = info.directions
    span = spec.upper - spec.lower
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "minmax":
            lo, hi = _nanmin(ref), _nanmax(ref)
            unit = np.where(d > 0, X - lo, hi - X) / (hi - lo)
            unit = np.where(hi > lo, unit, 0.5)  # a constant column sits in the middle
            return np.where(np.isnan(X), np.nan, spec.lower + span * unit)
        if method == "zscore":
            mean, sd = _nanmean(ref), _nanstd(ref)
            # A value equal to the mean (e.g. one imputed with it, summed in another order) must
            # give exactly 0, not ±1e-17 whose sign would depend on the order of the units.
            deviation = X - mean
            deviation = np.where(np.abs(deviation) <= 1e-12 * np.maximum(np.abs(mean), sd),
                                 0.0, deviation)
            z = d * deviation / np.where(sd > 0, sd, np.nan)
            return spec.mean + spec.sd * np.where(sd > 0, z, np.where(np.isnan(X), np.nan, 0.0))
        if method == "goalposts":
            lo, hi = info.goal_lower, info.goal_upper
            unit = np.clip(np.where(d > 0, X - lo, hi - X) / (hi - lo), 0.0, 1.0)
            return spec.lower + span * unit
        if method == "distance_to_target":
            lo, hi, t = _nanmin(ref), _nanmax(ref), info.targets
            unit = np.where(d > 0, (X - lo) / (t - lo), (hi - X) / (hi - t))
            return spec.lower + span * np.minimum(unit, 1.0)
        if method in ("rank", "percentile"):
            return _rank_normalise(np.where(d > 0, X, -X), ref is not X and included, method, spec)
    raise ValueError(f"unknown normalisation {method!r}")


def _rank_normalise(X: np.ndarray, included, method: str, spec: NormaliseSpec) -> np.ndarray:
    from dti.engine.rank import ascending_ranks  # shared tie rules live in rank.py

    mask = ~np.isnan(X)
    if included is not False and included is not None:
        mask &= included[:, None]
    if method == "rank":
        return ascending_ranks(X, mask, ties="average")
    low = ascending_ranks(X, mask, ties="min")
    n = mask.sum(axis=0)
    span = spec.upper - spec.lower
    with np.errstate(invalid="ignore", divide="ignore"):
        return spec.lower + span * np.where(n > 1, (low - 1) / (n - 1), np.where(mask, 1.0, np.nan))


def _nanmin(X: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(X), np.inf, X).min(axis=0, initial=np.inf)


def _nanmax(X: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(X), -np.inf, X).max(axis=0, initial=-np.inf)


def _nanmean(X: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(X)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, X, 0.0).sum(axis=0) / ok.sum(axis=0)


def _nanstd(X: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(X)
    n = ok.sum(axis=0)
    dev = np.where(ok, X - _nanmean(X), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt((dev ** 2).sum(axis=0) / (n - 1))
