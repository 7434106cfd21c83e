"""Rank: descending score, ties judged at the published precision.

``competition`` ("1224"): tied units share a rank and the next rank is skipped (DTI 2022: two
provinces at 15, the next at 17).  ``dense`` ("1223") as an option.  Vectorised over columns.
"""

from __future__ import annotations

import numpy as np


def significant(X: np.ndarray, digits: int = 12) -> np.ndarray:
    """Round to ``digits`` significant digits: 0.2 and 0.20000000000000004 become equal, so
    ties are recognised even where a framework publishes no precision."""
    with np.errstate(divide="ignore", invalid="ignore"):
        magnitude = np.floor(np.log10(np.abs(np.where(X == 0, 1.0, X))))
        scale = 10.0 ** (digits - 1 - magnitude)
        return np.where(np.isfinite(X), np.round(X * scale) / scale, X)


def round_half_up(X: np.ndarray, decimals: int | None) -> np.ndarray:
    """Round as the ministry publishes (0.716355 → 0.7164); float noise removed first."""
    if decimals is None:
        return X
    scale = 10.0 ** decimals
    return np.floor(np.round(X * scale, 6) + 0.5) / scale


def descending_ranks(X: np.ndarray, mask: np.ndarray | None = None, method: str = "competition",
                     decimals: int | None = None) -> np.ndarray:
    """Ranks per column (1 = highest); NaN where a value is missing or masked out."""
    X = np.atleast_2d(np.asarray(X, dtype=float).T).T
    ok = ~np.isnan(X) if mask is None else (mask & ~np.isnan(X))
    rounded = significant(X) if decimals is None else round_half_up(X, decimals)
    keys = np.where(ok, -rounded, np.inf)
    return _ranks_from_keys(keys, ok, "min" if method == "competition" else "dense")


def ascending_ranks(X: np.ndarray, mask: np.ndarray, ties: str = "average") -> np.ndarray:
    """Ranks per column (1 = lowest) with ties 'average', 'min' or 'dense'."""
    keys = np.where(mask, X, np.inf)
    return _ranks_from_keys(keys, mask, ties)


def _ranks_from_keys(keys: np.ndarray, ok: np.ndarray, ties: str) -> np.ndarray:
    n = keys.shape[0]
    # Work on one contiguous row per column (sorting along a strided axis is twice as slow), and
    # with the default sort: tied keys get one rank whatever order they come in, so stability
    # buys nothing.
    K = np.ascontiguousarray(keys.T)
    order = np.argsort(K, axis=1)
    sorted_keys = np.take_along_axis(K, order, axis=1)
    new = np.ones_like(sorted_keys, dtype=bool)
    new[:, 1:] = sorted_keys[:, 1:] != sorted_keys[:, :-1]
    position = np.arange(n)
    if ties == "dense":
        ranked = np.cumsum(new, axis=1, dtype=float)
    else:
        first = np.maximum.accumulate(np.where(new, position, 0), axis=1)
        ranked = first + 1.0
        if ties == "average":
            # last position of each run of ties: reverse accumulate of run ends
            end = np.ones_like(new)
            end[:, :-1] = new[:, 1:]
            last = np.flip(np.minimum.accumulate(np.flip(np.where(end, position, n), axis=1),
                                                 axis=1), axis=1)
            ranked = (first + last) / 2.0 + 1.0
    out = np.empty_like(ranked)
    np.put_along_axis(out, order, ranked, axis=1)
    return np.where(ok, out.T, np.nan)


def group_ranks(X: np.ndarray, labels: tuple[str, ...], included: np.ndarray, method: str,
                decimals: int | None) -> np.ndarray:
    """Ranks within each group label (units with an empty label get no group rank)."""
    labels_arr = np.asarray(labels, dtype=object)
    out = np.full(X.shape, np.nan)
    for label in set(labels) - {""}:
        rows = (labels_arr == label) & included
        if rows.any():
            out[rows] = descending_ranks(X[rows], None, method, decimals)
    return out
