"""Numeric kernels of the statistical audit, NumPy only; NaN marks a missing cell.

* :func:`pearson` / :func:`spearman`: pairwise-complete correlation matrices, as R's
  ``cor(use = "pairwise.complete.obs")`` that COINr's ``get_corr`` calls.  Pearson is a few matrix
  products; Spearman is Pearson of average-tie ranks, re-ranked over the joint rows for the pairs
  whose missing cells differ (R ranks each pair over its complete rows too).
* :func:`cronbach_alpha`: the classic covariance form of COINr's ``get_cronbach``
  (pairwise-complete sample covariances, *not* the standardised alpha of correlations).
* :func:`first_component`: PCA of the correlation matrix over complete cases.
* :func:`main_effect`: first-order sensitivity (squared correlation ratio) by local-linear
  kernel regression up to :data:`MAX_UNITS_KERNEL` units, by piecewise-linear regression over
  quantile bins above (memory linear in the units) — see its docstring for the estimators.

Degenerate input (fewer than :data:`MIN_UNITS` units, a constant column) gives NaN, never an
exception or a printed warning.
"""

from __future__ import annotations

import numpy as np

from dti.engine.rank import ascending_ranks

__all__ = ["MAX_UNITS_KERNEL", "MIN_UNITS", "MIN_UNITS_SMOOTH", "cronbach_alpha",
           "first_component", "main_effect", "pearson", "spearman"]

MIN_UNITS = 3          # below 3 units a correlation is ±1 or undefined: report NaN instead
MIN_UNITS_SMOOTH = 10  # below 10 units the smoother interpolates the points: no η²
_ZERO = 1e-12          # a centred sum of squares below this share of the raw one is rounding: 0
# Bandwidths tried for the main-effect smoother, as multiples of Silverman's rule-of-thumb
# bandwidth; the largest ones make the local-linear fit the straight-line fit.
_BANDWIDTHS = np.array([0.25, 0.35, 0.5, 0.7, 1.0, 1.4, 2.0, 4.0, 10.0, 100.0])
# The kernel smoother builds units × units matrices (8 bytes a cell, several at once): 1,000
# units take about 50 MB and 0.2 s per node, 3,000 units 450 MB and 2 s, 10,000 units 5 GB.
# Above this many units the binned estimator takes over (a few MB and milliseconds at 20,000).
MAX_UNITS_KERNEL = 1000
# Numbers of quantile bins tried by the binned estimator (1 = the straight-line fit), each bin
# holding at least _MIN_PER_BIN units on average.
_BINS = np.array([1, 2, 4, 8, 16, 32, 64, 128, 256])
_MIN_PER_BIN = 20


def _mask(X: np.ndarray, M: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=float)
    ok = np.isfinite(X)
    return X, ok if M is None else (np.asarray(M, dtype=bool) & ok)


def _moments(X: np.ndarray, M: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairwise-complete sums: ``N[i,j]`` joint rows, ``C[i,j]`` centred cross-products over them,
    ``V[i,j]`` centred sum of squares of column i over the rows it shares with column j.

    Columns are centred on their own mean first so the one-pass formulas lose no precision on
    large values; a ``V`` that is only rounding (a column constant over the joint rows) is set to
    exactly 0.
    """
    F = M.astype(float)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        mean = np.where(M, X, 0.0).sum(axis=0) / F.sum(axis=0)
        mean = np.where(np.isfinite(mean), mean, 0.0)
        Z = np.where(M, X - mean, 0.0)
        N = F.T @ F
        S = Z.T @ F                     # S[i,j] = Σ x_i over rows where i and j are present
        Q = (Z * Z).T @ F
        C = Z.T @ Z - S * S.T / N
        V = Q - S * S / N
        V = np.where(V > _ZERO * Q, V, 0.0)
    return N, C, V


def pearson(X: np.ndarray, M: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(correlation matrix, joint-row counts) of the columns of ``X``, pairwise-complete.

    ``M`` restricts the cells used (e.g. to included units); NaN cells are never used.  A pair
    with fewer than :data:`MIN_UNITS` joint rows, or a column constant over them, gives NaN.
    """
    X, M = _mask(X, M)
    N, C, V = _moments(X, M)
    with np.errstate(invalid="ignore", divide="ignore"):
        R = C / np.sqrt(V * V.T)
    ok = (N >= MIN_UNITS) & (V > 0) & (V.T > 0)
    R = np.where(ok, np.clip(R, -1.0, 1.0), np.nan)
    np.fill_diagonal(R, np.where(np.diag(ok), 1.0, np.nan))
    return R, N.astype(int)


def spearman(X: np.ndarray, M: np.ndarray | None = None) -> np.ndarray:
    """Spearman correlation matrix: Pearson of ranks (average ties), pairwise-complete."""
    X, M = _mask(X, M)
    R, _ = pearson(ascending_ranks(X, M, "average"), M)
    A = M.astype(int)
    alone = A.T @ (1 - A)          # rows where column i has a value and column j has none
    redo = np.triu((alone > 0) | (alone.T > 0), 1)
    for i, j in zip(*np.nonzero(redo)):
        joint = np.repeat((M[:, i] & M[:, j])[:, None], 2, axis=1)
        pair = X[:, [i, j]]
        r, _ = pearson(ascending_ranks(pair, joint, "average"), joint)
        R[i, j] = R[j, i] = r[0, 1]
    return R


def cronbach_alpha(X: np.ndarray, M: np.ndarray | None = None) -> float:
    """Cronbach's α = k/(k−1) · (1 − Σ var_i / Σ_ij cov_ij) over the k columns of ``X``.

    The covariances are pairwise-complete sample covariances, as COINr's ``get_cronbach``; with
    complete data Σ_ij cov_ij is the variance of the row sums.  NaN with fewer than 2 columns,
    fewer than :data:`MIN_UNITS` joint rows for some pair, or no total variance.
    """
    X, M = _mask(X, M)
    k = X.shape[1]
    if k < 2:
        return float("nan")
    N, C, _ = _moments(X, M)
    if (N < MIN_UNITS).any():
        return float("nan")
    cov = C / (N - 1)
    total, scale = cov.sum(), np.abs(cov).sum()
    if not total > _ZERO * scale:
        return float("nan")
    return float(k / (k - 1) * (1.0 - np.trace(cov) / total))


def first_component(X: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, int]:
    """PCA of the correlation matrix of the columns of ``X`` over its complete rows.

    Returns ``(share of variance of PC1, eigenvalues descending, PC1 coefficients, rows used)``.
    The coefficients are the unit-length eigenvector (``prcomp``'s rotation, which COINr's
    ``get_PCA`` uses), its sign chosen so that they sum to ≥ 0.  NaN with fewer than 2 columns,
    fewer than :data:`MIN_UNITS` complete rows, or a constant column.
    """
    X = np.asarray(X, dtype=float)
    rows = np.isfinite(X).all(axis=1)
    n, k = int(rows.sum()), X.shape[1]
    nothing = (float("nan"), np.full(k, np.nan), np.full(k, np.nan), n)
    if k < 2 or n < MIN_UNITS:
        return nothing
    R, _ = pearson(X[rows])
    if np.isnan(R).any():
        return nothing
    values, vectors = np.linalg.eigh(R)
    values, vectors = np.clip(values[::-1], 0.0, None), vectors[:, ::-1]
    loadings = vectors[:, 0] if vectors[:, 0].sum() >= 0 else -vectors[:, 0]
    return float(values[0] / values.sum()), values, loadings, n


def main_effect(x: np.ndarray, y: np.ndarray) -> tuple[float, float, int]:
    """(η², Pearson r², units used) of ``y`` (the index) on ``x`` (one node).

    η² = Var(m̂(x)) / Var(y), the first-order sensitivity index ("main effect", Paruolo, Saisana &
    Saltelli 2013), with m̂ = E(y | x) estimated by a smoother whose smoothing is chosen by
    leave-one-out cross-validation (exact for a linear smoother: residual / (1 − hat-diagonal)):

    * up to :data:`MAX_UNITS_KERNEL` units, **local-linear regression with a Gaussian kernel**,
      among multiples of Silverman's robust bandwidth 0.9 · min(sd, IQR/1.349) · n^(−1/5);
    * above, **piecewise-linear regression over quantile bins of x** (a straight line fitted
      within each bin; units with equal x always share a bin), among 1, 2, 4 … 256 bins of at
      least 20 units on average — memory and time linear in the units, where the kernel needs
      units × units matrices.

    In both, the smoothest candidate is the straight-line fit, so η² is near r² when the
    relation is linear and 1 when y is a linear function of x (the binned estimator: also for
    any smooth monotone function, within its piecewise-linear approximation).  Clipped to
    [0, 1].  NaN with a constant x or y; r² needs :data:`MIN_UNITS` units and η²
    :data:`MIN_UNITS_SMOOTH` (with fewer, cross-validation picks a bandwidth that interpolates
    the points and η² is close to 1 whatever the relation).
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    n = int(ok.sum())
    if n < MIN_UNITS or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan"), float("nan"), n
    r, _ = pearson(np.column_stack([x, y]))
    if n < MIN_UNITS_SMOOTH:
        return float("nan"), float(r[0, 1] ** 2), n
    if n > MAX_UNITS_KERNEL:
        fits, y = _binned_linear(x, y)
    else:
        q75, q25 = np.percentile(x, [75, 25])
        sd = x.std(ddof=1)
        spread = min(sd, (q75 - q25) / 1.349) if q75 > q25 else sd
        fits = _local_linear(x, y, 0.9 * spread * n ** -0.2 * _BANDWIDTHS)
    eta2 = np.clip(fits.var() / y.var(), 0.0, 1.0)
    return float(eta2), float(r[0, 1] ** 2), n


def _binned_linear(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fitted values, y), both in the order of sorted x, for the number of quantile bins with
    the smallest LOO-CV error.  Within a bin the fit is the least-squares line (hat-diagonal
    1/n_b + (x − x̄_b)² / Sxx_b), or the bin's mean where its x are all equal (1/n_b)."""
    n = len(x)
    order = np.argsort(x, kind="stable")
    xs, ys = x[order] - x.mean(), y[order]      # centred: no precision lost in the sums
    best, best_cv = None, np.inf
    with np.errstate(invalid="ignore", divide="ignore"):
        for bins in _BINS[_BINS * _MIN_PER_BIN <= n]:
            edges = xs[np.arange(1, bins) * n // bins]
            _, b = np.unique(np.searchsorted(edges, xs, side="right"), return_inverse=True)
            m = int(b.max()) + 1
            count = np.bincount(b, minlength=m).astype(float)
            mx, my = np.bincount(b, xs, m) / count, np.bincount(b, ys, m) / count
            dx = xs - mx[b]
            sxx = np.bincount(b, dx * dx, m)
            line = sxx > _ZERO * np.bincount(b, xs * xs, m)   # else all x of the bin are equal
            slope = np.where(line, np.bincount(b, dx * (ys - my[b]), m) / sxx, 0.0)
            fit = my[b] + slope[b] * dx
            hat = 1.0 / count[b] + np.where(line[b], dx * dx / np.where(line, sxx, 1.0)[b], 0.0)
            cv = float((((ys - fit) / (1.0 - hat)) ** 2).mean())
            cv = cv if np.isfinite(cv) else np.inf
            # the straight line (1 bin) comes first: it stands unless a smaller error beats it
            if best is None or cv < best_cv:
                best, best_cv = fit, cv
    return best, ys


def _local_linear(x: np.ndarray, y: np.ndarray, bandwidths: np.ndarray) -> np.ndarray:
    """Fitted values at the data points for the bandwidth with the smallest LOO-CV error."""
    best, best_cv = None, np.inf
    D0 = x[None, :] - x[:, None]                  # at × data
    with np.errstate(invalid="ignore", divide="ignore", over="ignore", under="ignore"):
        for h in bandwidths:
            U = D0 / h
            W = np.exp(-0.5 * U * U)
            WU = W * U
            S0, S1, S2 = W.sum(axis=1), WU.sum(axis=1), (WU * U).sum(axis=1)
            T0, T1 = W @ y, WU @ y
            D = S0 * S2 - S1 * S1
            linear = D > 1e-10 * S0 * S0      # else every weight sits on one x: local mean
            fit = np.where(linear, (S2 * T0 - S1 * T1) / D, T0 / S0)
            hat = np.where(linear, S2 / D, 1.0 / S0)   # the point's own weight in its own fit
            cv = float((((y - fit) / (1.0 - hat)) ** 2).mean())
            cv = cv if np.isfinite(cv) else np.inf
            # a finite error beats an infinite one; with none finite, the widest bandwidth wins
            if best is None or cv < best_cv or cv == best_cv == np.inf:
                best, best_cv = fit, cv
    return best
