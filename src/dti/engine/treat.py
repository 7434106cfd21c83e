"""Outlier treatment, JRC / COINr style: winsorise while skewed and heavy-tailed, else log.

The rule, per indicator (column) and ignoring NaN cells (they stay NaN and are never treated):

1. **Test.**  A column *fails* when ``|SKEW| >= spec.skew`` **and** ``KURT >= spec.kurtosis``
   (Excel definitions, :mod:`dti.engine.stats`).  It passes if either is below its threshold,
   as in COINr's ``check_SkewKurt``.  A column with fewer than 4 values or zero variance has no
   kurtosis and always passes, so it is left alone.
2. **Winsorise**, one step at a time, while the column fails.  A step looks at the sign of the
   column's *current* skew: skew ≥ 0 → the high side, skew < 0 → the low side.  Every cell equal
   to the current extreme (max, or min) is set to the next distinct value inwards (the largest
   value below the max, or the smallest above the min) — COINr's ``winsorise``.  Then re-test.
3. **Count.**  ``n_winsorised`` counts *cells*, each once: a step that replaces k tied cells adds
   the k cells (a cell already replaced in an earlier step and now part of the new tie is not
   counted again).  No step is taken that would bring the count above ``spec.max_points``; when
   the next step would, or the count has reached ``max_points``, winsorisation stops.  (COINr
   tests ``nwin < winmax`` *before* a step, so a tie can overshoot ``winmax`` there; here the
   limit is never exceeded.)  So ``max_points = 0`` means: no winsorisation, straight to step 4.
4. **Fallback.**  If the column still fails, the winsorisation is discarded: the *original*
   column is restored (COINr's default ``combine_treat = FALSE``) and transformed by
   ``spec.fallback``.  ``min`` and ``max`` are the column's, ignoring NaN; ``skew`` is its Excel
   SKEW before treatment (COINr's ``skew``, the same definition, on the same original column);
   ``a = 0.01·(max − min)``:

   ===============  ==========  =======================  ======================
   fallback         positive    positive form            negative form
                    form when
   ===============  ==========  =======================  ======================
   ``log``          skew ≥ 0    ``ln(x − min + 1)``      ``−ln(max − x + 1)``
   ``log_ct``       always      ``ln(x − min + a)``      —
   ``log_ct_plus``  skew > 0    ``ln(x − min + a)``      ``−ln(max + a − x)``
   ===============  ==========  =======================  ======================

   ``log`` is the original COIN Tool log on the side of the skew (the negative form mirrors the
   positive one, compressing the long *low* tail; COINr's ``log_CT_orig`` has only the positive
   form).  ``log_ct`` is COINr's default ``log_CT``, whatever the skew.  ``log_ct_plus`` is
   COINr's ``log_CT_plus``, whose test is ``skew > 0``: at skew exactly 0 it takes the negative
   form.  Every form is strictly increasing in ``x``, so the order of the units is preserved;
   ``Treatment.log_forms`` names the form each column got.  A failing column has a nonzero
   spread, so ``a > 0`` and every logarithm is finite.  The result is not re-tested further;
   ``skew_after`` / ``kurt_after`` report where it ended.  With ``fallback='none'`` the original
   column is kept and nothing is flagged.

``method='none'`` returns the input values unchanged (as a float copy) with every flag False.

The statistics of all columns are computed at once; only the columns still failing are iterated,
at most ``max_points`` times.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dti.engine.recipe import TREAT_FALLBACKS, TreatSpec
from dti.engine.stats import skew_kurt_excel
from dti.errors import ComputeError, Problem, RecipeError

__all__ = ["Treatment", "treat"]


@dataclass(frozen=True)
class Treatment:
    """The treated matrix and what was done to it, per cell and per column."""

    values: np.ndarray           # treated matrix, same shape as the input, float
    winsorised: np.ndarray       # bool, same shape: cells replaced by winsorisation
    log_transformed: np.ndarray  # bool per column: column log-transformed (fallback) instead
    skew_before: np.ndarray      # per column, Excel SKEW of the input
    kurt_before: np.ndarray      # per column, Excel KURT of the input
    skew_after: np.ndarray       # per column, of ``values``
    kurt_after: np.ndarray       # per column, of ``values``
    n_winsorised: np.ndarray     # int per column: number of winsorised cells
    # per column, the fallback form applied ("" for none): "log" / "log_neg" for ``log``,
    # "log_ct" / "log_ct_neg" for ``log_ct`` and ``log_ct_plus`` (COINr's labels, lower case)
    log_forms: tuple[str, ...] = ()


def _fails(skew: np.ndarray, kurt: np.ndarray, spec: TreatSpec) -> np.ndarray:
    """True where both thresholds are reached; NaN statistics never fail."""
    with np.errstate(invalid="ignore"):
        return (np.abs(skew) >= spec.skew) & (kurt >= spec.kurtosis)


def _check(spec: TreatSpec) -> None:
    problems = []
    if spec.method not in ("none", "jrc"):
        problems.append(Problem("recipe.bad_choice", f"treat.method is {spec.method!r}; choose "
                                "one of none, jrc", column="treat.method", value=spec.method))
    if spec.fallback not in TREAT_FALLBACKS:
        problems.append(Problem("recipe.bad_choice", f"treat.fallback is {spec.fallback!r}; "
                                f"choose one of {', '.join(TREAT_FALLBACKS)}",
                                column="treat.fallback", value=spec.fallback))
    if spec.max_points < 0:
        problems.append(Problem("recipe.out_of_range", "treat.max_points must be ≥ 0",
                                column="treat.max_points", value=spec.max_points))
    if problems:
        raise RecipeError(problems)


def _winsorise(W: np.ndarray, skew: np.ndarray, kurt: np.ndarray,
               spec: TreatSpec) -> tuple[np.ndarray, np.ndarray]:
    """Winsorise the (failing) columns of ``W``, updating ``W``, ``skew`` and ``kurt`` in place.

    Returns ``(mask, passed)``: the replaced cells, and which columns pass the test at the end.
    """
    mask = np.zeros(W.shape, dtype=bool)
    passed = np.zeros(W.shape[1], dtype=bool)
    todo = np.arange(W.shape[1])                  # columns still failing and still allowed a step
    # Every step replaces at least one cell not replaced before (a value present in a column is
    # always held by at least one untouched cell), so max_points steps are enough.
    for _ in range(spec.max_points):
        if todo.size == 0:
            break
        V = W[:, todo]
        high = skew[todo] >= 0
        with np.errstate(invalid="ignore"):
            # Work on the high side: flip the sign of low-side columns (NaNs stay NaN).
            S = np.where(high, V, -V)
            top = np.fmax.reduce(S, axis=0)
            hit = S == top
            nxt = np.fmax.reduce(np.where(hit, -np.inf, S), axis=0)
        new_mask = mask[:, todo] | hit
        count = new_mask.sum(axis=0)
        ok = count <= spec.max_points             # a step that would overshoot is not taken
        replacement = np.where(high, nxt, -nxt)
        step = hit & ok
        V = np.where(step, replacement, V)
        W[:, todo] = V
        mask[:, todo] = np.where(ok, new_mask, mask[:, todo])
        s, k = skew_kurt_excel(V)
        skew[todo], kurt[todo] = s, k
        now_pass = ok & ~_fails(s, k, spec)
        passed[todo[now_pass]] = True
        todo = todo[ok & ~now_pass & (count < spec.max_points)]
    return mask, passed


def _log_form(fallback: str, skew: float) -> str:
    """Which form of the ``fallback`` log a column of original ``skew`` gets (module docstring)."""
    if fallback == "log":
        return "log" if skew >= 0 else "log_neg"
    if fallback == "log_ct_plus" and not skew > 0:
        return "log_ct_neg"      # COINr's log_CT_plus tests skew > 0: skew 0 is negative
    return "log_ct"


def _log(col: np.ndarray, form: str) -> np.ndarray:
    """``col`` log-transformed by ``form``; NaN cells stay NaN."""
    low, high = np.nanmin(col), np.nanmax(col)
    shift = 1.0 if form in ("log", "log_neg") else 0.01 * (high - low)
    with np.errstate(invalid="ignore"):
        if form in ("log", "log_ct"):
            return np.log(col - low + shift)
        return -np.log(high - col + shift)   # max − x first: exact near the max, then + a > 0


def treat(X: np.ndarray, spec: TreatSpec, directions: np.ndarray | None = None) -> Treatment:
    """Treat outliers of each column of ``X`` (units × indicators) by the JRC/COINr rule.

    See the module docstring for the exact rule (ties, the ``max_points`` count, the log forms).
    ``directions`` (+1/−1 per indicator) is accepted for a uniform stage signature but not used:
    outlier treatment depends only on the shape of the distribution, not on which way is
    "better".  A given ``directions`` must still have one entry per column.

    Pure: ``X`` is not modified; the result holds new arrays.  Raises :class:`RecipeError` for an
    invalid ``spec`` and :class:`ComputeError` for infinite values.
    """
    _check(spec)
    A = np.array(X, dtype=float)                  # a copy: X is never modified
    if A.ndim != 2:
        raise ValueError(f"treat expects a 2-D array (units × indicators), got {A.ndim}-D")
    n_cols = A.shape[1]
    if directions is not None and np.shape(directions) != (n_cols,):
        raise ValueError(f"directions must have one entry per column ({n_cols}), "
                         f"got shape {np.shape(directions)}")
    if np.isinf(A).any():
        cols = np.flatnonzero(np.isinf(A).any(axis=0))
        raise ComputeError(f"cannot treat outliers: infinite values in column(s) {cols.tolist()}")

    skew_before, kurt_before = skew_kurt_excel(A)
    winsorised = np.zeros(A.shape, dtype=bool)
    log_transformed = np.zeros(n_cols, dtype=bool)
    log_forms = [""] * n_cols
    skew_after, kurt_after = skew_before.copy(), kurt_before.copy()

    failing = np.flatnonzero(_fails(skew_before, kurt_before, spec)) if spec.method == "jrc" \
        else np.array([], dtype=int)
    if failing.size:
        W = A[:, failing]                         # fancy indexing: a copy
        s, k = skew_before[failing].copy(), kurt_before[failing].copy()
        mask, passed = _winsorise(W, s, k, spec)
        ok = failing[passed]
        A[:, ok] = W[:, passed]
        winsorised[:, ok] = mask[:, passed]
        skew_after[ok], kurt_after[ok] = s[passed], k[passed]
        still = failing[~passed]
        if spec.fallback != "none" and still.size:
            for j in still:
                log_forms[j] = _log_form(spec.fallback, float(skew_before[j]))
                A[:, j] = _log(A[:, j], log_forms[j])
            log_transformed[still] = True
            skew_after[still], kurt_after[still] = skew_kurt_excel(A[:, still])
        # fallback 'none': A still holds the original columns; stats stay the "before" ones.

    return Treatment(values=A, winsorised=winsorised, log_transformed=log_transformed,
                     skew_before=skew_before, kurt_before=kurt_before,
                     skew_after=skew_after, kurt_after=kurt_after,
                     n_winsorised=winsorised.sum(axis=0).astype(np.int64),
                     log_forms=tuple(log_forms))
