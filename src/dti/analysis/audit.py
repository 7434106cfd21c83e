"""The statistical audit of a build, as the JRC audits composite indices (GII and others).

``audit(build) -> Audit`` reads one finished :class:`~dti.engine.build.Build` and reports what a
ministry statistician checks before publishing:

* **indicators** — coverage, descriptive statistics and the outlier rule on the values the
  treatment stage saw (after denomination and imputation), and what the treatment did;
* **correlations** — Pearson and Spearman between every pair of nodes (indicators on their
  normalised, direction-adjusted values; aggregates on their scores), pairwise-complete;
* **flags** — collinear or negatively correlated siblings, and nodes weakly tied to their parent;
* **cronbach** and **pca** — internal consistency of each aggregate's children;
* **main_effects** — how much of the index each node actually explains, set against its weight;
* **leave_one_out** — how far the index ranks move when one node is dropped (COINr
  ``remove_elements``).

Only units kept by screening (``build.included``) are used.  "Children" of an aggregate are those
that carry weight in it in this build (``build.plan``): a node the recipe excludes or the framework
does not score (weight 0) is left out of the flags, Cronbach's α and the PCA.

Thresholds (module constants, overridable in :func:`audit`):

* :data:`COLLINEAR` = 0.92 — siblings with Pearson r **above** it are flagged.  COINr's
  ``get_corr_flags`` defaults to 0.9 (``R/correlations.R``) and so does its indicator-analysis
  module; 0.92 is this project's default, the cut-off commonly quoted for JRC audits, which we
  have not verified in a primary source.
* :data:`NEGATIVE` = −0.4 — siblings with r **below** it are flagged: COINr's indicator-analysis
  module calls ``get_corr_flags(cor_thresh = -0.4, thresh_type = "low", grouplev = 2)``.
* :data:`WEAK` = 0.2 — a node whose r with a parent it carries weight in is **below** it is flagged.
  A project choice (no COINr default exists); JRC audits discuss weak links case by case.
* Outliers: ``|skew| ≥ 2`` and ``kurtosis ≥ 3.5`` (Excel definitions), the JRC rule and COINr's
  ``check_SkewKurt`` defaults; the thresholds are taken from ``recipe.treat`` so the audit and
  the treatment use the same rule.

The flags use Pearson r on the values the index aggregates, as ``get_corr_flags`` does by default.
The estimators of α, PCA and main effects are described in :mod:`dti.analysis.audit_stats`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import combinations
from typing import Any

import numpy as np

from dti.analysis.spec import plain_value
from dti.analysis.audit_stats import (cronbach_alpha, first_component, main_effect, pearson,
                                      spearman)
from dti.engine.build import Build, build as rebuild
from dti.engine.stats import skew_kurt_excel
from dti.errors import DtiError

__all__ = ["Audit", "COLLINEAR", "CorrelationFlag", "CorrelationTable", "IndicatorStats",
           "LeaveOneOut", "MainEffect", "NEGATIVE", "PcaResult", "WEAK", "audit", "audit_records"]

COLLINEAR = 0.92
NEGATIVE = -0.4
WEAK = 0.2
FLAG_KINDS = ("collinear", "negative_within", "weak_to_parent")


@dataclass(frozen=True)
class IndicatorStats:
    """One data node over the included units (values after denomination and imputation)."""

    code: str
    coverage: float          # share of included units with a raw (reported) value
    n: int                   # values after imputation
    n_imputed: int
    mean: float
    sd: float                # sample standard deviation (ddof = 1)
    min: float
    max: float
    skew: float              # Excel SKEW
    kurtosis: float          # Excel KURT (excess)
    outlier: bool            # |skew| ≥ recipe.treat.skew and kurtosis ≥ recipe.treat.kurtosis
    n_winsorised: int
    log_transformed: bool


@dataclass(frozen=True)
class CorrelationTable:
    """Square matrices over ``codes`` (all nodes of the build, data nodes then aggregates).

    ``relation[i, j]`` is ``parent`` (one is a direct parent of the other), ``ancestor`` (an
    indirect one), ``sibling`` (they share a direct parent) or ``other``.
    """

    codes: tuple[str, ...]
    pearson: np.ndarray
    spearman: np.ndarray
    n: np.ndarray
    relation: np.ndarray

    def value(self, a: str, b: str, method: str = "pearson") -> float:
        i, j = self.codes.index(a), self.codes.index(b)
        return float(getattr(self, method)[i, j])


@dataclass(frozen=True)
class CorrelationFlag:
    """A pair worth a look: ``aggregate`` is the first aggregate they share (for
    ``weak_to_parent``: the parent ``b``), ``aggregates`` all of them."""

    kind: str
    a: str
    b: str
    value: float
    threshold: float
    aggregate: str
    aggregates: tuple[str, ...]


@dataclass(frozen=True)
class PcaResult:
    aggregate: str
    codes: tuple[str, ...]           # the children analysed
    variance_explained: float        # share of PC1 in the total variance
    eigenvalues: np.ndarray          # of the children's correlation matrix, descending
    loadings: np.ndarray             # PC1 unit eigenvector, sign fixed so the sum is ≥ 0
    n_units: int                     # complete cases used


@dataclass(frozen=True)
class MainEffect:
    """η² and r² of the index on one node, against the node's nominal effective weight.

    ``weight``: the node's effective weight in the index (product of within-aggregate normalised
    weights along each path, summed over paths), normalised over the nodes of its level.
    ``eta2_share``: η² over the sum of η² of the weighted nodes of the same level — the number to
    set against ``weight`` (Paruolo et al. 2013 compare the two normalised).
    """

    code: str
    level: int
    eta2: float
    r2: float
    weight: float
    eta2_share: float
    n: int


@dataclass(frozen=True)
class LeaveOneOut:
    """Rank change of the index across units when ``code`` is excluded from the recipe."""

    code: str
    mean_abs_rank_change: float
    max_abs_rank_change: float
    unit: str | None                 # a unit with the largest change (None when nothing moved)
    n: int                           # units ranked in both builds


@dataclass(frozen=True)
class Audit:
    indicators: tuple[IndicatorStats, ...]
    correlations: CorrelationTable
    flags: tuple[CorrelationFlag, ...]
    cronbach: dict[str, float]
    pca: dict[str, PcaResult]
    main_effects: tuple[MainEffect, ...]
    leave_one_out: tuple[LeaveOneOut, ...]


def audit(build: Build, *, collinear: float = COLLINEAR, negative: float = NEGATIVE,
          weak: float = WEAK) -> Audit:
    """The whole statistical audit of ``build`` (see the module docstring)."""
    weights = _plan_weights(build)
    table = _correlations(build)
    V = build.values[build.included]
    cronbach, pca = {}, {}
    for agg, children in weights.items():
        cols = [build.index(c) for c in children]
        cronbach[agg] = cronbach_alpha(V[:, cols])
        share, values, loadings, n = first_component(V[:, cols])
        pca[agg] = PcaResult(agg, tuple(build.codes[j] for j in cols), share, values, loadings, n)
    return Audit(
        indicators=_indicator_stats(build),
        correlations=table,
        flags=_flags(table, weights, collinear, negative, weak),
        cronbach=cronbach,
        pca=pca,
        main_effects=_main_effects(build, weights),
        leave_one_out=_leave_one_out(build),
    )


# ----------------------------------------------------------------------------------- pieces

def _plan_weights(b: Build) -> dict[str, dict[str, float]]:
    """Aggregate → {child: weight > 0 used in this build}, aggregates in plan order (children
    before parents)."""
    codes = b.codes
    out: dict[str, dict[str, float]] = {}
    for step in b.plan.steps:
        for k, target in enumerate(step.targets):
            column = step.weights[:, k]
            out[codes[target]] = {codes[i]: float(column[i]) for i in np.flatnonzero(column)}
    return {c: out[c] for c in b.plan.aggregate_codes if c in out}


def _indicator_stats(b: Build) -> tuple[IndicatorStats, ...]:
    inc = b.included
    X = b.imputed[inc]
    M = ~np.isnan(X)
    n = M.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        coverage = (~np.isnan(b.raw[inc])).sum(axis=0) / inc.sum()
        mean = np.where(M, X, 0.0).sum(axis=0) / n
        deviation = np.where(M, X - mean, 0.0)
        sd = np.sqrt((deviation * deviation).sum(axis=0) / (n - 1))
    sd = np.where(n >= 2, sd, np.nan)
    lo, hi = np.fmin.reduce(X, axis=0), np.fmax.reduce(X, axis=0)
    skew, kurt = skew_kurt_excel(X)
    spec = b.recipe.treat
    with np.errstate(invalid="ignore"):
        outlier = (np.abs(skew) >= spec.skew) & (kurt >= spec.kurtosis)
    n_imputed = (b.imputed_mask[inc] & M).sum(axis=0)
    t = b.treatment
    return tuple(
        IndicatorStats(code, float(coverage[j]), int(n[j]), int(n_imputed[j]), float(mean[j]),
                       float(sd[j]), float(lo[j]), float(hi[j]), float(skew[j]), float(kurt[j]),
                       bool(outlier[j]), int(t.n_winsorised[j]), bool(t.log_transformed[j]))
        for j, code in enumerate(b.plan.data_codes))


def _correlations(b: Build) -> CorrelationTable:
    V = b.values[b.included]
    R, N = pearson(V)
    codes = b.codes
    fw = b.framework
    parents = {c: set(fw[c].parents) for c in codes}
    below = {c: set(fw.descendants(c)) for c in codes}
    relation = np.full((len(codes), len(codes)), "other", dtype=object)
    for i, a in enumerate(codes):
        for j, c in enumerate(codes):
            if a in parents[c] or c in parents[a]:
                relation[i, j] = "parent"
            elif a in below[c] or c in below[a]:
                relation[i, j] = "ancestor"
            elif i != j and parents[a] & parents[c]:
                relation[i, j] = "sibling"
    return CorrelationTable(codes, R, spearman(V), N, relation)


def _flags(table: CorrelationTable, weights: dict[str, dict[str, float]], collinear: float,
           negative: float, weak: float) -> tuple[CorrelationFlag, ...]:
    index = {c: i for i, c in enumerate(table.codes)}
    R = table.pearson
    shared: dict[tuple[int, int], list[str]] = {}
    weak_flags = []
    for agg, children in weights.items():
        kids = sorted(index[c] for c in children)
        for pair in combinations(kids, 2):
            shared.setdefault(pair, []).append(agg)
        for i in kids:
            r = R[i, index[agg]]
            if r < weak:
                weak_flags.append(CorrelationFlag("weak_to_parent", table.codes[i], agg, float(r),
                                                  weak, agg, (agg,)))
    pairs = []
    for (i, j), aggs in sorted(shared.items()):
        r = R[i, j]
        for kind, threshold, hit in (("collinear", collinear, r > collinear),
                                     ("negative_within", negative, r < negative)):
            if hit:
                pairs.append(CorrelationFlag(kind, table.codes[i], table.codes[j], float(r),
                                             threshold, aggs[0], tuple(aggs)))
    order = {k: n for n, k in enumerate(FLAG_KINDS)}
    return tuple(sorted(pairs + weak_flags, key=lambda f: (order[f.kind], index[f.a], index[f.b])))


def _effective_weights(b: Build, weights: dict[str, dict[str, float]]) -> dict[str, float]:
    """Each node's nominal share of the root, normalised over the nodes of its framework level."""
    root = b.framework.root.code
    share = dict.fromkeys(b.codes, 0.0)
    share[root] = 1.0
    for agg in reversed(list(weights)):          # plan order is children first: parents first here
        total = sum(weights[agg].values())
        if share[agg] > 0 and total > 0:
            for child, w in weights[agg].items():
                share[child] += share[agg] * w / total
    level = {c: b.framework[c].level for c in b.codes}
    per_level: dict[int, float] = {}
    for c, s in share.items():
        per_level[level[c]] = per_level.get(level[c], 0.0) + s
    return {c: (s / per_level[level[c]] if per_level[level[c]] > 0 else 0.0)
            for c, s in share.items()}


def _main_effects(b: Build, weights: dict[str, dict[str, float]]) -> tuple[MainEffect, ...]:
    root = b.framework.root.code
    if root not in b.codes:
        return ()
    V = b.values[b.included]
    y = V[:, b.index(root)]
    nominal = _effective_weights(b, weights)
    rows = []
    for j, code in enumerate(b.codes):
        if code != root:
            eta2, r2, n = main_effect(V[:, j], y)
            rows.append((code, b.framework[code].level, eta2, r2, nominal[code], n))
    totals: dict[int, float] = {}
    for _code, level, eta2, _r2, w, _n in rows:
        if w > 0 and np.isfinite(eta2):
            totals[level] = totals.get(level, 0.0) + eta2
    return tuple(
        MainEffect(code, level, eta2, r2, w,
                   eta2 / totals[level] if totals.get(level, 0.0) > 0 else float("nan"), n)
        for code, level, eta2, r2, w, n in rows)


def _leave_one_out(b: Build) -> tuple[LeaveOneOut, ...]:
    fw = b.framework
    root = fw.root.code
    if root not in b.codes:
        return ()
    below = set(fw.descendants(root))
    base = b.rank(root)
    out = []
    for code in b.codes:
        if code not in below or code in b.recipe.exclude:
            continue
        try:
            variant = rebuild(b.data, fw, replace(b.recipe, exclude=b.recipe.exclude + (code,)))
            change = np.abs(variant.rank(root) - base)
        except DtiError:
            change = np.full(len(b.units), np.nan)
        change = np.where(b.included, change, np.nan)
        ok = np.isfinite(change)
        if not ok.any():
            out.append(LeaveOneOut(code, float("nan"), float("nan"), None, 0))
            continue
        worst = int(np.argmax(np.where(ok, change, -1.0)))
        top = float(change[worst])
        out.append(LeaveOneOut(code, float(change[ok].mean()), top,
                               b.units[worst] if top > 0 else None, int(ok.sum())))
    return tuple(out)


# ---------------------------------------------------------------------------------- records

RECORD_COLUMNS: dict[str, tuple[str, ...]] = {
    "indicators": ("code", "coverage", "n", "n_imputed", "mean", "sd", "min", "max", "skew",
                   "kurtosis", "outlier", "n_winsorised", "log_transformed"),
    "correlations": ("a", "b", "relation", "pearson", "spearman", "n"),
    "flags": ("kind", "a", "b", "value", "threshold", "aggregate", "aggregates"),
    "cronbach": ("aggregate", "alpha", "k"),
    "pca": ("aggregate", "code", "loading", "variance_explained", "n_units"),
    "main_effects": ("code", "level", "eta2", "r2", "weight", "eta2_share", "n"),
    "leave_one_out": ("code", "mean_abs_rank_change", "max_abs_rank_change", "unit", "n"),
}


def _plain(value: Any) -> Any:
    """JSON/CSV-ready: NaN → None, NumPy scalars → Python ones, tuples of codes → 'a b c'."""
    return " ".join(value) if isinstance(value, tuple) else plain_value(value)


def _rows(name: str, items) -> list[dict[str, Any]]:
    return [{c: _plain(getattr(item, c)) for c in RECORD_COLUMNS[name]} for item in items]


def audit_records(a: Audit) -> dict[str, list[dict[str, Any]]]:
    """Flat tables (lists of row mappings, columns as :data:`RECORD_COLUMNS`) for CSV/XLSX/JSON.

    ``correlations`` has one row per unordered pair of nodes; ``pca`` one row per aggregate and
    child; missing numbers are None.
    """
    t = a.correlations
    correlations = [
        {"a": t.codes[i], "b": t.codes[j], "relation": str(t.relation[i, j]),
         "pearson": _plain(t.pearson[i, j]), "spearman": _plain(t.spearman[i, j]),
         "n": int(t.n[i, j])}
        for i, j in combinations(range(len(t.codes)), 2)]
    pca = [{"aggregate": p.aggregate, "code": code, "loading": _plain(p.loadings[k]),
            "variance_explained": _plain(p.variance_explained), "n_units": p.n_units}
           for p in a.pca.values() for k, code in enumerate(p.codes)]
    cronbach = [{"aggregate": agg, "alpha": _plain(alpha),
                 "k": len(a.pca[agg].codes) if agg in a.pca else None}
                for agg, alpha in a.cronbach.items()]
    return {
        "indicators": _rows("indicators", a.indicators),
        "correlations": correlations,
        "flags": _rows("flags", a.flags),
        "cronbach": cronbach,
        "pca": pca,
        "main_effects": _rows("main_effects", a.main_effects),
        "leave_one_out": _rows("leave_one_out", a.leave_one_out),
    }
