"""Impute missing values: column mean/median, group mean/median, or row-wise within an aggregate."""

from __future__ import annotations

import numpy as np

from dti.engine.recipe import ImputeSpec


def impute(X: np.ndarray, spec: ImputeSpec, groups: tuple[str, ...] | None = None,
           blocks: list[np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return (imputed values, mask of the cells that were filled).

    ``groups`` gives each unit's label for the group methods; ``blocks`` lists, for ``row_mean``,
    the column indices that share a parent aggregate (a unit's gap is filled with the mean of its
    own available values in that block, as COINr's ``i_mean_grp`` by row does).
    """
    missing = np.isnan(X)
    if spec.method == "none" or not missing.any():
        return X, np.zeros_like(missing)
    out = X.copy()
    if spec.method in ("mean", "median"):
        fill = _column_stat(X, spec.method)
        out[missing] = np.broadcast_to(fill, X.shape)[missing]
    elif spec.method in ("group_mean", "group_median"):
        labels = np.asarray(groups if groups is not None else [""] * X.shape[0], dtype=object)
        stat = spec.method.removeprefix("group_")
        for label in np.unique(labels):
            rows = labels == label
            fill = _column_stat(X[rows], stat)
            block = out[rows]
            gaps = np.isnan(block)
            block[gaps] = np.broadcast_to(fill, block.shape)[gaps]
            out[rows] = block
    elif spec.method == "row_mean":
        for cols in blocks or [np.arange(X.shape[1])]:
            sub = X[:, cols]
            ok = ~np.isnan(sub)
            counts = ok.sum(axis=1, keepdims=True)
            with np.errstate(invalid="ignore", divide="ignore"):
                fill = np.where(counts > 0, np.where(ok, sub, 0.0).sum(axis=1, keepdims=True)
                                / np.maximum(counts, 1), np.nan)
            block = out[:, cols]
            out[:, cols] = np.where(np.isnan(block), fill, block)
    return out, missing & ~np.isnan(out)


def _column_stat(X: np.ndarray, stat: str) -> np.ndarray:
    """Column mean or median ignoring NaN; NaN for an all-missing column (no warning)."""
    ok = ~np.isnan(X)
    counts = ok.sum(axis=0)
    if stat == "mean":
        sums = np.where(ok, X, 0.0).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    out = np.full(X.shape[1], np.nan)
    for j in np.flatnonzero(counts):
        out[j] = np.median(X[ok[:, j], j])
    return out
