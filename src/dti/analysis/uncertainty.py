"""Monte Carlo uncertainty analysis: how certain is each unit's rank under the recipe's choices?

Per unit: nominal rank, median and mean rank, the 5th–95th percentile rank interval,
P(rank ≤ k), and the score distribution.  Per run: the value each choice took.  Runs that fail
(a combination that cannot be built, or a unit left without a score, e.g. a geometric mean of
negative z-scores) are counted and reported, never silently dropped from the count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from dti.analysis.batch import evaluate, nominal_ranks
from dti.analysis.spec import AnalysisSpec, runs_from_inputs, sample_design
from dti.engine.aggregate import compile_plan
from dti.engine.data import Dataset
from dti.engine.recipe import Recipe
from dti.framework.model import Framework


@dataclass(frozen=True)
class UncertaintyResult:
    units: tuple[str, ...]
    output: str
    nominal_score: np.ndarray
    nominal_rank: np.ndarray
    ranks: np.ndarray                 # runs × units (NaN where the run failed or left no score)
    scores: np.ndarray                # runs × units
    failed: np.ndarray                # bool per run
    failures: dict[str, int]          # reason -> number of runs
    samples: tuple[tuple[Any, ...], ...]
    spec: AnalysisSpec
    recipe: Recipe
    stats: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def runs(self) -> int:
        return len(self.failed)


def uncertainty(data: Dataset, framework: Framework, recipe: Recipe, spec: AnalysisSpec,
                output: str | None = None,
                progress: Callable[[int], None] | None = None) -> UncertaintyResult:
    """Run ``spec.runs`` replications of ``recipe`` varied by ``spec.choices`` (seeded)."""
    output = output or framework.root.code
    rng = np.random.default_rng(spec.seed)
    U = sample_design(spec, spec.runs, rng)
    codes = compile_plan(framework, recipe).codes
    runs = runs_from_inputs(U, spec, recipe, codes, framework, rng, fresh_weights=True)
    result = evaluate(data, framework, runs.combinations, runs.combination_of_run,
                      runs.multipliers, (output,), progress)
    nominal_score, nominal_rank = (d[output] for d in nominal_ranks(data, framework, recipe, (output,)))
    scored = ~np.isnan(nominal_score)
    ranks, scores = result.ranks[output], result.scores[output]
    missing = np.isnan(scores[:, scored]).any(axis=1) & ~result.failed
    failures = {}
    if result.failed.any():
        for k, message in result.errors.items():
            failures[f"cannot build: {message}"] = int((runs.combination_of_run == k).sum())
    if missing.any():
        failures["a unit with a nominal score got none (e.g. a geometric mean of values ≤ 0)"] = \
            int(missing.sum())
    failed = result.failed | missing
    ranks = np.where(failed[:, None], np.nan, ranks)
    scores = np.where(failed[:, None], np.nan, scores)
    stats = _unit_stats(ranks, scores, spec.rank_thresholds)
    return UncertaintyResult(data.units, output, nominal_score, nominal_rank, ranks, scores, failed,
                             failures, runs.values, spec, recipe, stats)


def _unit_stats(ranks: np.ndarray, scores: np.ndarray, thresholds: tuple[int, ...]
                ) -> dict[str, np.ndarray]:
    ok = ~np.isnan(ranks)
    count = ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        stats = {
            "median_rank": _quantile(ranks, 0.5), "mean_rank": np.nansum(ranks, axis=0) / count,
            "rank_p05": _quantile(ranks, 0.05), "rank_p95": _quantile(ranks, 0.95),
            "score_mean": np.nansum(scores, axis=0) / count,
            "score_p05": _quantile(scores, 0.05), "score_p95": _quantile(scores, 0.95),
        }
        for k in thresholds:
            stats[f"p_top_{k}"] = (ok & (ranks <= k)).sum(axis=0) / count
    return stats


def _quantile(X: np.ndarray, q: float) -> np.ndarray:
    """Column quantile over the non-missing runs (linear interpolation, as numpy's default)."""
    S = np.sort(X, axis=0)  # NaN sorts last
    count = (~np.isnan(X)).sum(axis=0)
    position = q * np.maximum(count - 1, 0)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, np.maximum(count - 1, 0))
    a = np.take_along_axis(S, low[None, :], axis=0)[0]
    b = np.take_along_axis(S, high[None, :], axis=0)[0]
    return np.where(count > 0, a + (b - a) * (position - low), np.nan)


def uncertainty_records(result: UncertaintyResult, names: dict[str, str] | None = None
                        ) -> list[dict[str, Any]]:
    """One row per unit, ordered by nominal rank."""
    rows = []
    for i, unit in enumerate(result.units):
        row: dict[str, Any] = {"code": unit, "name": (names or {}).get(unit, unit),
                               "nominal_score": _clean(result.nominal_score[i]),
                               "nominal_rank": _clean(result.nominal_rank[i], True)}
        for key, values in result.stats.items():
            row[key] = _clean(values[i], key.startswith("rank_p"))
        rows.append(row)
    rows.sort(key=lambda r: (r["nominal_rank"] is None, r["nominal_rank"] or 0, r["code"]))
    return rows


def _clean(x: float, integer: bool = False) -> Any:
    if np.isnan(x):
        return None
    return int(round(x)) if integer and float(x).is_integer() else round(float(x), 6)
