"""NaN-aware, Excel-style sample statistics per column.

Every function takes a 2-D array (units × indicators) and returns one value per column, or a 1-D
array (one indicator) and returns a 0-d float.  NaN cells are ignored.  The definitions are the
bias-corrected ones of Excel's ``SKEW`` and ``KURT`` (= ``e1071::skewness``/``kurtosis`` type 2,
which COINr's ``skew``/``kurt`` copy), with ``s`` the sample standard deviation (ddof = 1):

    SKEW = n / ((n-1)(n-2)) · Σ ((x - mean) / s)³
    KURT = n(n+1) / ((n-1)(n-2)(n-3)) · Σ ((x - mean) / s)⁴  -  3(n-1)² / ((n-2)(n-3))

A column gives NaN where it has fewer than 3 (SKEW) / 4 (KURT) values or zero variance (all its
values equal), as Excel gives ``#DIV/0!``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["skew_excel", "kurt_excel", "skew_kurt_excel"]


def _as_columns(X: np.ndarray) -> tuple[np.ndarray, bool]:
    A = np.asarray(X, dtype=float)
    if A.ndim == 1:
        return A[:, None], True
    if A.ndim != 2:
        raise ValueError(f"expected a 1-D or 2-D array, got {A.ndim} dimensions")
    return A, False


_BLOCK = 1 << 16  # cells per block of the central-moment pass: the temporaries stay in cache


def _moments(A: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per column: count of values, 2nd/3rd/4th central sums (Σd², Σd³, Σd⁴), NaNs ignored.

    Two passes (mean, then deviations), the second in row blocks so no full-size temporary is
    made.  Columns whose values are all equal (or that have no value) get Σd² = 0 exactly, so
    rounding in the mean cannot make a constant column look skewed.
    """
    n_rows, n_cols = A.shape
    nan = np.isnan(A)
    has_nan = bool(nan.any())
    step = max(1, _BLOCK // max(n_cols, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        if has_nan:
            n = n_rows - nan.sum(axis=0)
            total = np.zeros(n_cols)
            for r in range(0, n_rows, step):
                total += np.where(nan[r:r + step], 0.0, A[r:r + step]).sum(axis=0)
            mean = total / n
            lo, hi = np.fmin.reduce(A, axis=0), np.fmax.reduce(A, axis=0)
        else:
            n = np.full(n_cols, n_rows)
            mean = A.sum(axis=0) / n_rows if n_rows else np.full(n_cols, np.nan)
            lo, hi = (A.min(axis=0), A.max(axis=0)) if n_rows else (mean, mean)
        mean = np.where(np.isfinite(mean), mean, 0.0)   # empty column: any centre will do
        m2, m3, m4 = (np.zeros(n_cols) for _ in range(3))
        for r in range(0, n_rows, step):
            Z = A[r:r + step] - mean
            if has_nan:
                np.copyto(Z, 0.0, where=nan[r:r + step])
            D2 = Z * Z
            m2 += D2.sum(axis=0)
            Z *= D2                   # d³
            m3 += Z.sum(axis=0)
            D2 *= D2                  # d⁴
            m4 += D2.sum(axis=0)
    m2 = np.where(hi > lo, m2, 0.0)   # constant (or empty) column: exactly zero spread
    return n.astype(float), m2, m3, m4


def _skew_from(n: np.ndarray, m2: np.ndarray, m3: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.sqrt(m2 / (n - 1))
        out = n / ((n - 1) * (n - 2)) * m3 / s**3
    return np.where((n >= 3) & (m2 > 0), out, np.nan)


def _kurt_from(n: np.ndarray, m2: np.ndarray, m4: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        var = m2 / (n - 1)
        out = (n * (n + 1) / ((n - 1) * (n - 2) * (n - 3)) * m4 / var**2
               - 3 * (n - 1) ** 2 / ((n - 2) * (n - 3)))
    return np.where((n >= 4) & (m2 > 0), out, np.nan)


def _shape(out: np.ndarray, one_d: bool) -> np.ndarray:
    return out[0] if one_d else out


def skew_excel(X: np.ndarray) -> np.ndarray:
    """Excel ``SKEW`` of each column (NaNs ignored); NaN with < 3 values or zero variance."""
    A, one_d = _as_columns(X)
    n, m2, m3, _ = _moments(A)
    return _shape(_skew_from(n, m2, m3), one_d)


def kurt_excel(X: np.ndarray) -> np.ndarray:
    """Excel ``KURT`` (excess kurtosis) of each column; NaN with < 4 values or zero variance."""
    A, one_d = _as_columns(X)
    n, m2, _, m4 = _moments(A)
    return _shape(_kurt_from(n, m2, m4), one_d)


def skew_kurt_excel(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(skew_excel(X), kurt_excel(X))`` from one pass over the data."""
    A, one_d = _as_columns(X)
    n, m2, m3, m4 = _moments(A)
    return _shape(_skew_from(n, m2, m3), one_d), _shape(_kurt_from(n, m2, m4), one_d)
