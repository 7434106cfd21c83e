"""Monte Carlo uncertainty analysis: how certain is each unit's rank under the recipe's choices?

Per unit: nominal rank, median and mean rank, the 5th–95th percentile rank interval,
P(rank ≤ k), and the score distribution.  Per run: the value each choice took.  Runs that fail
(a combination that cannot be built, a geometric mean over a zero or negative value, a unit left
without a score: :mod:`dti.analysis.failures`) are counted per reason and left out of the
statistics, which say how many runs they rest on (``used``); a note says so when fewer than 90 %
of the runs are left, and a warning names an alternative that makes most of its runs fail.  The
units the nominal screening leaves out (``screened_out``) are in no run's ranking.

When a choice varies the normalisation (``spec.changes_scale``), the runs' scores are on
different scales (0–1 ratios, 0–100 min-max, z-scores around their mean), so the score
statistics (``score_mean``, ``score_p05``, ``score_p95``) are left out — ``None`` in the records —
and a note says only ranks are compared.  Ranks are unaffected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from dti.analysis.batch import check_inputs, evaluate, nominal_ranks
from dti.analysis.failures import classify_failures, coverage_note, failure_warnings
from dti.analysis.spec import (SCALE_NOTE, AnalysisSpec, choice_value, plain_value,
                               runs_from_inputs, sample_design)
from dti.engine.aggregate import compile_plan
from dti.engine.data import Dataset
from dti.engine.recipe import Recipe
from dti.framework.model import Framework

RANK_STATS = ("median_rank", "mean_rank", "rank_p05", "rank_p95")
SCORE_STATS = ("score_mean", "score_p05", "score_p95")


@dataclass(frozen=True)
class UncertaintyResult:
    units: tuple[str, ...]
    output: str
    nominal_score: np.ndarray
    nominal_rank: np.ndarray
    ranks: np.ndarray                 # runs × units (NaN where the run failed or left no score)
    scores: np.ndarray                # runs × units (on each run's own scale: see the notes)
    failed: np.ndarray                # bool per run
    failures: dict[str, int]          # reason -> number of runs
    samples: tuple[tuple[Any, ...], ...]
    spec: AnalysisSpec
    recipe: Recipe
    stats: dict[str, np.ndarray] = field(default_factory=dict)   # no score_* if changes_scale
    notes: tuple[str, ...] = ()       # what a reader must know: scales, runs left
    warnings: tuple[str, ...] = ()    # alternatives that make most of their runs fail
    screened_out: tuple[str, ...] = ()   # units the nominal screening leaves unranked

    @property
    def runs(self) -> int:
        return len(self.failed)

    @property
    def used(self) -> int:
        """The runs the statistics rest on: those that did not fail."""
        return int((~self.failed).sum())


def uncertainty(data: Dataset, framework: Framework, recipe: Recipe, spec: AnalysisSpec,
                output: str | None = None,
                progress: Callable[[int], None] | None = None) -> UncertaintyResult:
    """Run ``spec.runs`` replications of ``recipe`` varied by ``spec.choices`` (seeded)."""
    output = output or framework.root.code
    check_inputs(framework, spec, output)
    rng = np.random.default_rng(spec.seed)
    U = sample_design(spec, spec.runs, rng)
    codes = compile_plan(framework, recipe).codes
    runs = runs_from_inputs(U, spec, recipe, codes, framework, rng, fresh_weights=True)
    result = evaluate(data, framework, runs.combinations, runs.combination_of_run,
                      runs.multipliers, (output,), progress)
    scores_of, ranks_of, screened_out = nominal_ranks(data, framework, recipe, (output,))
    nominal_score, nominal_rank = scores_of[output], ranks_of[output]
    scored = ~np.isnan(nominal_score)
    failures = classify_failures(result.failed, result.errors, runs.combination_of_run,
                                 result.scores[output][:, scored], result.undefined)
    failed, counts = failures.failed, failures.counts()
    ranks = np.where(failed[:, None], np.nan, result.ranks[output])
    scores = np.where(failed[:, None], np.nan, result.scores[output])
    stats = _unit_stats(ranks, None if spec.changes_scale else scores, spec.rank_thresholds)
    notes = (SCALE_NOTE if spec.changes_scale else None,
             coverage_note(int((~failed).sum()), len(failed), "statistics", "runs", counts))
    return UncertaintyResult(data.units, output, nominal_score, nominal_rank, ranks, scores, failed,
                             counts, runs.values, spec, recipe, stats,
                             tuple(n for n in notes if n),
                             failure_warnings(spec, runs.inputs, failures), screened_out)


def _unit_stats(ranks: np.ndarray, scores: np.ndarray | None, thresholds: tuple[int, ...]
                ) -> dict[str, np.ndarray]:
    """Rank statistics per unit over the runs that did not fail; score statistics unless
    ``scores`` is None (scores on different scales)."""
    ok = ~np.isnan(ranks)
    count = ok.sum(axis=0)
    median, p05, p95 = _quantiles(ranks, (0.5, 0.05, 0.95), whole=ranks.shape[1] < 2**15 - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        stats = {"median_rank": median, "mean_rank": np.nansum(ranks, axis=0) / count,
                 "rank_p05": p05, "rank_p95": p95}
        if scores is not None:
            score_p05, score_p95 = _quantiles(scores, (0.05, 0.95))
            stats |= {"score_mean": np.nansum(scores, axis=0) / count,
                      "score_p05": score_p05, "score_p95": score_p95}
        for k in thresholds:
            stats[f"p_top_{k}"] = (ok & (ranks <= k)).sum(axis=0) / count
    return stats


def _quantiles(X: np.ndarray, qs: tuple[float, ...], whole: bool = False) -> list[np.ndarray]:
    """Column quantiles over the non-missing runs (linear interpolation, as numpy's default).

    Works on the units × runs transpose (each unit's runs contiguous) and orders each row once:
    ``whole`` values (ranks: whole numbers in [0, 2¹⁵ − 1)) by a radix sort as int16, others by a
    partial sort at the order statistics needed when every unit has the same number of runs,
    else by a full sort.  Missing values order last in all three."""
    T = np.ascontiguousarray(X.T)
    missing = np.isnan(T)
    count = T.shape[1] - missing.sum(axis=1)
    last = np.maximum(count - 1, 0)
    positions = [q * last for q in qs]
    lows = [np.floor(p).astype(int) for p in positions]
    highs = [np.minimum(low + 1, last) for low in lows]
    if whole:
        S = np.sort(np.where(missing, 2**15 - 1, T).astype(np.int16), axis=1, kind="stable")
    elif count.size and (count == count[0]).all() and count[0] > 0:
        kth = sorted({int(i[0]) for i in lows + highs})
        S = np.partition(T, kth, axis=1)
    else:
        S = np.sort(T, axis=1)
    out = []
    for position, low, high in zip(positions, lows, highs):
        a = np.take_along_axis(S, low[:, None], axis=1)[:, 0].astype(float)
        b = np.take_along_axis(S, high[:, None], axis=1)[:, 0].astype(float)
        with np.errstate(invalid="ignore"):
            out.append(np.where(count > 0, a + (b - a) * (position - low), np.nan))
    return out


def uncertainty_records(result: UncertaintyResult, names: dict[str, str] | None = None
                        ) -> list[dict[str, Any]]:
    """One row per unit, ordered by nominal rank (the units screened out last, flagged and
    without statistics); the same columns whatever the spec (a score statistic left out is
    None)."""
    keys = (*RANK_STATS, *SCORE_STATS, *(f"p_top_{k}" for k in result.spec.rank_thresholds))
    screened = set(result.screened_out)
    rows = []
    for i, unit in enumerate(result.units):
        row: dict[str, Any] = {"code": unit, "name": (names or {}).get(unit, unit),
                               "screened_out": unit in screened,
                               "nominal_score": plain_value(result.nominal_score[i], 6),
                               "nominal_rank": plain_value(result.nominal_rank[i], whole=True)}
        for key in keys:
            values = result.stats.get(key)
            row[key] = None if values is None else \
                plain_value(values[i], 6, whole=key.startswith("rank_p"))
        rows.append(row)
    rows.sort(key=lambda r: (r["nominal_rank"] is None, r["nominal_rank"] or 0, r["code"]))
    return rows


def run_records(result: UncertaintyResult) -> list[dict[str, Any]]:
    """One row per run: the value each choice took (a weights choice: the number of its weight
    draw) and whether the run failed."""
    labels = [c.label() for c in result.spec.choices]
    return [{"run": r, **{label: choice_value(v) for label, v in zip(labels, values)},
             "failed": bool(result.failed[r])} for r, values in enumerate(result.samples)]
