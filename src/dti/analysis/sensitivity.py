"""Variance-based sensitivity analysis: which uncertain choice drives the ranking, and each rank.

Design: SALib's Saltelli extension of the scrambled Sobol' sequence without second order
(``SALib.sample.sobol.sample``), one factor u ∈ [0, 1) per choice of the spec.  Its rows come in
blocks of d + 2 per base sample j: A_j, AB⁽¹⁾_j … AB⁽ᵈ⁾_j (A_j with column i taken from B_j), B_j,
i.e. N·(d + 2) runs.  Every row is one run (``runs_from_inputs`` with ``fresh_weights=False``, so a
weights factor value means the same weight set wherever it recurs), and all runs are evaluated in
one batched call.

Estimators (exactly those of ``SALib.analyze.sobol.analyze``, and of COINr): each output column is
standardised over all used runs, then with V = Var([f_A; f_B])

    S_i  = mean(f_B · (f_ABi − f_A)) / V                (Saltelli et al. 2010)
    ST_i = ½ · mean((f_A − f_ABi)²) / V                  (Jansen)

and the confidence half-width is z₀.₉₇₅ · sd over ``resamples`` bootstrap resamples of the N base
samples (SALib's ``S1_conf``/``ST_conf``).  Here they run for every output at once: the mean
absolute rank shift against the nominal ranks (the JRC/COINr scalar), every unit's own rank and
every unit's own score (unless the scales differ: below).  A bootstrap mean is a count-weighted mean, so all resamples of all
outputs are one matrix product (resample counts × per-sample terms), taken in chunks of outputs.

Conventions:

* An output that never varies (its range at most 1e-9 of its magnitude, which absorbs float noise
  in e.g. a weighted mean of equal values) or whose A/B values never vary gets indices 0 and
  intervals 0: no choice moves it.
* A failed run (a combination that cannot be built, a geometric mean over a zero or negative
  value, or a unit with a nominal score left without one: :mod:`dti.analysis.failures`) is
  counted in ``failed``; its whole base-sample block (A, B and every AB⁽ⁱ⁾ of that j) is
  left out of the estimators, which need all d + 2 runs of a block.
  ``samples_used`` says how many base samples the indices rest on, ``failures`` why runs failed
  (reason → runs), and a note is added when fewer than 90 % of the N base samples are left: the
  indices are then conditional on the choices that could be built.  ``warnings`` name an
  alternative that makes most of its runs fail.
* ``N`` defaults to ``spec.runs`` rounded to the nearest power of two; ``requested`` keeps what
  was asked and a note says so when the two differ.
* Units the nominal screening leaves out (``screened_out``) are in no run's ranking.
* Units without a nominal score have no per-unit indices and do not enter the rank shift.
* When a choice varies the normalisation (``spec.changes_scale``) the runs' scores are on
  different scales, so no per-unit *score* indices are computed (``unit_score`` is empty) and a
  note says only ranks are compared; the ranking and per-unit rank indices are unaffected.
* ``spec.design`` is ignored: Sobol indices need the Saltelli design (``result.design``).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Callable

import numpy as np

from dti.analysis.batch import BatchResult, check_inputs, evaluate, nominal_ranks
from dti.analysis.failures import classify_failures, coverage_note, failure_warnings
from dti.analysis.spec import (SCALE_NOTE, AnalysisSpec, AnalysisSpecError, Runs, plain_value,
                               runs_from_inputs)
from dti.engine.aggregate import compile_plan
from dti.engine.data import Dataset
from dti.engine.recipe import Recipe
from dti.errors import ComputeError, Problem
from dti.framework.model import Framework

# Memory per chunk of outputs in the bootstrap: the per-sample terms, N × (2d + 2) × outputs.
CHUNK_BYTES = 32 * 2**20
# An output whose range is at most this share of its magnitude does not vary.
CONSTANT_TOLERANCE = 1e-9


@dataclass(frozen=True)
class SobolIndices:
    """First-order and total indices per choice (for one output, or choices × outputs), with the
    half-width of their 95 % bootstrap interval (SALib's ``conf``)."""

    first: np.ndarray
    first_ci: np.ndarray
    total: np.ndarray
    total_ci: np.ndarray

    def column(self, k: int) -> "SobolIndices":
        """The indices of output ``k`` of a choices × outputs result."""
        return SobolIndices(self.first[:, k], self.first_ci[:, k], self.total[:, k],
                            self.total_ci[:, k])


@dataclass(frozen=True)
class SensitivityResult:
    choices: tuple[str, ...]                 # Choice.label() of each factor
    N: int                                   # base samples of the design
    samples_used: int                        # base samples whose d + 2 runs all succeeded:
    #                                          the indices rest on these only
    failures: dict[str, int]                 # reason -> number of runs
    notes: tuple[str, ...]                   # what a reader must know: scales, samples left
    runs: int                                # runs evaluated: N · (d + 2)
    failed: int                              # runs that failed (their blocks are left out)
    ranking: SobolIndices                    # mean absolute rank shift against nominal
    unit_rank: dict[str, SobolIndices]       # per unit code: its own rank
    unit_score: dict[str, SobolIndices]      # per unit code: its own score (empty if scales differ)
    nominal_rank: dict[str, float]
    spec: AnalysisSpec
    recipe: Recipe
    output: str
    seed: int
    design: str = "saltelli"                 # always: the spec's design is not used
    warnings: tuple[str, ...] = ()           # alternatives that make most of their runs fail
    screened_out: tuple[str, ...] = ()       # units the nominal screening leaves unranked
    requested: int | None = None             # the base samples asked for (spec.runs), if not N

    @property
    def rounded(self) -> bool:
        """The runs asked for were not a power of two: N differs from them."""
        return self.requested is not None and self.requested != self.N


def sensitivity(data: Dataset, framework: Framework, recipe: Recipe, spec: AnalysisSpec,
                N: int | None = None, *, output: str | None = None, resamples: int = 100,
                progress: Callable[[int], None] | None = None) -> SensitivityResult:
    """Sobol indices of every choice of ``spec`` for the ranking and each unit's rank and score.

    ``N`` base samples (a power of two; default ``spec.runs`` rounded to the nearest power of
    two, said in a note) make N · (d + 2) runs.  Seeded by ``spec.seed``: the design, the
    weight sets and the bootstrap resamples.
    """
    output = output or framework.root.code
    check_inputs(framework, spec, output)
    d = len(spec.choices)
    requested = spec.runs if N is None else None
    N = _base_samples(spec.runs) if N is None else _checked_base_samples(N)
    runs = _saltelli_runs(spec, N, recipe, framework)
    result, inverse = _evaluate_distinct(data, framework, runs, spec, output, progress)
    scores_of, ranks_of, screened_out = nominal_ranks(data, framework, recipe, (output,))
    nominal_score, nominal_rank = scores_of[output], ranks_of[output]
    scored = ~np.isnan(nominal_score)
    ranks = result.ranks[output][np.ix_(inverse, scored)]
    scores = result.scores[output][np.ix_(inverse, scored)]
    classified = classify_failures(result.failed[inverse], result.errors, runs.combination_of_run,
                                   scores, {r: u[inverse] for r, u in result.undefined.items()})
    failed, failures = classified.failed, classified.counts()
    shift = np.abs(ranks - nominal_rank[scored]).mean(axis=1)
    Y = np.column_stack([shift, ranks] + ([] if spec.changes_scale else [scores]))
    Y[failed] = np.nan
    indices = sobol_estimate(Y, d, resamples=resamples, seed=[spec.seed, 1])
    units = [u for u, ok in zip(data.units, scored) if ok]
    used = int((~failed.reshape(N, d + 2).any(axis=1)).sum())
    notes = (rounding_note(requested, N, d), SCALE_NOTE if spec.changes_scale else None,
             coverage_note(used, N, "indices", "samples", failures))
    return SensitivityResult(
        choices=tuple(c.label() for c in spec.choices), N=N, samples_used=used,
        failures=failures, notes=tuple(n for n in notes if n), runs=len(failed),
        failed=int(failed.sum()), ranking=indices.column(0),
        unit_rank={u: indices.column(1 + i) for i, u in enumerate(units)},
        unit_score={} if spec.changes_scale else
        {u: indices.column(1 + len(units) + i) for i, u in enumerate(units)},
        nominal_rank={u: float(r) for u, r in zip(units, nominal_rank[scored])},
        spec=spec, recipe=recipe, output=output, seed=spec.seed,
        warnings=failure_warnings(spec, runs.inputs, classified), screened_out=screened_out,
        requested=requested)


def _saltelli_runs(spec: AnalysisSpec, N: int, recipe: Recipe, framework: Framework) -> Runs:
    """SALib's Saltelli design without second order, N · (d + 2) rows, as runs."""
    from SALib.sample import sobol as sobol_sample  # imported here: only this analysis needs it

    d = len(spec.choices)
    problem = {"num_vars": d, "names": [c.label() for c in spec.choices],
               "bounds": [[0.0, 1.0]] * d}
    U = sobol_sample.sample(problem, N, calc_second_order=False, seed=spec.seed)
    rng = np.random.default_rng(spec.seed)
    codes = compile_plan(framework, recipe).codes
    return runs_from_inputs(U, spec, recipe, codes, framework, rng, fresh_weights=False)


def _evaluate_distinct(data: Dataset, framework: Framework, runs: Runs, spec: AnalysisSpec,
                       output: str, progress: Callable[[int], None] | None
                       ) -> tuple[BatchResult, np.ndarray]:
    """Evaluate each distinct run once; ``inverse`` maps every design row to its distinct run.

    The design repeats runs (AB⁽ⁱ⁾ = A whenever u_i and its replacement pick the same
    alternative or weight set)."""
    picks = [[row[j] for row in runs.values] for j, c in enumerate(spec.choices) if c.is_weights]
    key = np.column_stack([runs.combination_of_run, *picks])
    _, distinct, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    result = evaluate(data, framework, runs.combinations, runs.combination_of_run[distinct],
                      None if runs.multipliers is None else runs.multipliers[distinct],
                      (output,), progress)
    if progress is not None and len(distinct) < len(key):
        progress(len(key) - len(distinct))
    return result, inverse.ravel()


def _base_samples(runs: int) -> int:
    """The power of two nearest ``runs`` (on a log scale), at least 2."""
    return 2 ** max(1, int(np.round(np.log2(max(runs, 1)))))


def rounding_note(requested: int | None, N: int, d: int) -> str | None:
    """What a reader must know when the runs asked for were rounded to a power of two."""
    if requested is None or requested == N:
        return None
    way = "up" if N > requested else "down"
    return (f"runs: {requested:,} asked for, rounded {way} to N = {N:,} base samples (a Sobol "
            f"design needs a power of two), so {N * (d + 2):,} runs for {d} choices")


def _checked_base_samples(N: int) -> int:
    if N < 2 or N & (N - 1):
        raise AnalysisSpecError([Problem("analysis.bad_runs", "a Sobol analysis needs a power of "
                                         "two base samples (at least 2), e.g. 1024 or 4096",
                                         column="N", value=N)])
    return int(N)


def sobol_estimate(Y: np.ndarray, d: int, *, resamples: int = 100,
                   seed: int | list[int] | None = None, conf_level: float = 0.95) -> SobolIndices:
    """First-order and total Sobol indices of every column of ``Y``, with bootstrap intervals.

    ``Y`` holds outputs in SALib's row order (N blocks of A, AB⁽¹⁾ … AB⁽ᵈ⁾, B), one column per
    output (or a vector for one output).  A block with a NaN anywhere is left out.  The result
    has arrays of shape (d,) for a vector, (d, outputs) for a matrix.  With the same ``seed`` the
    resamples are SALib's (``default_rng(seed).integers(N, size=(N, resamples))``), so for a
    column without NaN the result equals ``SALib.analyze.sobol.analyze(..., seed=seed)``.
    """
    Y = np.asarray(Y, dtype=float)
    vector = Y.ndim == 1
    Y = Y.reshape(len(Y), -1)
    step = d + 2
    if len(Y) % step:
        raise ValueError(f"{len(Y)} rows are not whole blocks of d + 2 = {step} runs")
    blocks = Y.reshape(len(Y) // step, step, Y.shape[1])
    blocks = blocks[~np.isnan(blocks).any(axis=(1, 2))]
    n = len(blocks)
    if n < 2:
        raise ComputeError("fewer than two complete base samples: every block of runs has a "
                           "failed run, so no Sobol index can be estimated")
    draws = np.random.default_rng(seed).integers(n, size=(n, resamples))
    # counts[b, j]: how often base sample j is drawn in resample b
    counts = np.bincount((draws + n * np.arange(resamples)).ravel(),
                         minlength=n * resamples).reshape(resamples, n).astype(float)
    z = NormalDist().inv_cdf(0.5 + conf_level / 2)
    outputs = blocks.shape[2]
    out = [np.zeros((d, outputs)) for _ in range(4)]
    chunk = max(1, CHUNK_BYTES // (8 * n * (2 * d + 2) * 2))
    for start in range(0, outputs, chunk):
        part = slice(start, min(start + chunk, outputs))
        for target, values in zip(out, _estimate(blocks[:, :, part], counts, z)):
            target[:, part] = values
    if vector:
        out = [o[:, 0] for o in out]
    return SobolIndices(*out)


def _estimate(blocks: np.ndarray, counts: np.ndarray, z: float) -> tuple[np.ndarray, ...]:
    """S1, S1 half-width, ST, ST half-width (each d × outputs) of blocks N × (d + 2) × outputs."""
    n, step, k = blocks.shape
    d = step - 2
    flat = blocks.reshape(n * step, k)
    low, high = flat.min(axis=0), flat.max(axis=0)
    varies = (high - low) > CONSTANT_TOLERANCE * np.maximum(np.abs(flat).max(axis=0), 1.0)
    sd = flat.std(axis=0)
    mean = flat.mean(axis=0)
    Z = np.where(varies, (blocks - mean) / np.where(varies, sd, 1.0), 0.0)
    A, AB, B = Z[:, 0], Z[:, 1:-1], Z[:, -1]
    first_terms = B[:, None] * (AB - A[:, None])          # n × d × k
    total_terms = 0.5 * (A[:, None] - AB) ** 2
    AB_pool = np.concatenate([A, B])
    var = AB_pool.var(axis=0)
    ok = varies & (var > np.finfo(float).eps)
    first = _ratio(first_terms.mean(axis=0), var, ok)
    total = _ratio(total_terms.mean(axis=0), var, ok)
    # Bootstrap: each resample's means are count-weighted means over the base samples.
    terms = np.concatenate([first_terms.reshape(n, d * k), total_terms.reshape(n, d * k),
                            A + B, A * A + B * B], axis=1)
    means = counts @ terms / n
    first_b = means[:, : d * k].reshape(-1, d, k)
    total_b = means[:, d * k: 2 * d * k].reshape(-1, d, k)
    mean_b = means[:, 2 * d * k: 2 * d * k + k] / 2
    var_b = means[:, 2 * d * k + k:] / 2 - mean_b ** 2
    ok_b = ok & (var_b > np.finfo(float).eps)
    first_ci = z * _ratio(first_b, var_b[:, None], ok_b[:, None]).std(axis=0, ddof=1)
    total_ci = z * _ratio(total_b, var_b[:, None], ok_b[:, None]).std(axis=0, ddof=1)
    return (first, np.where(ok, first_ci, 0.0), total, np.where(ok, total_ci, 0.0))


def _ratio(numerator: np.ndarray, denominator: np.ndarray, ok: np.ndarray) -> np.ndarray:
    ok = np.broadcast_to(ok, np.broadcast_shapes(numerator.shape, ok.shape))
    return np.divide(numerator, denominator, out=np.zeros(ok.shape), where=ok)


def sensitivity_records(result: SensitivityResult, names: dict[str, str] | None = None
                        ) -> dict[str, list[dict[str, Any]]]:
    """``ranking``: one row per choice for the mean rank shift; ``units``: one row per unit,
    output (rank, and score unless the scales differ) and choice, units ordered by nominal
    rank."""
    ranking = [{"choice": c, **_row(result.ranking, j)} for j, c in enumerate(result.choices)]
    order = sorted(result.unit_rank, key=lambda u: (result.nominal_rank.get(u, np.inf), u))
    units = []
    for unit in order:
        for kind, table in (("rank", result.unit_rank), ("score", result.unit_score)):
            for j, choice in enumerate(result.choices if unit in table else ()):
                units.append({"code": unit, "name": (names or {}).get(unit, unit),
                              "choice": choice, "output": kind, **_row(table[unit], j)})
    return {"ranking": ranking, "units": units}


def _row(indices: SobolIndices, j: int) -> dict[str, Any]:
    return {"S1": plain_value(indices.first[j], 6), "S1_conf": plain_value(indices.first_ci[j], 6),
            "ST": plain_value(indices.total[j], 6), "ST_conf": plain_value(indices.total_ci[j], 6)}
