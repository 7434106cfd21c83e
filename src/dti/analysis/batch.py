"""Evaluate many variants of a build at once: the core of Monte Carlo and Sobol analysis.

A run is a recipe (one of a few distinct *combinations* of discrete choices) plus a vector of
weight multipliers (noisy weights, or 0 for a dropped node).  Stages before aggregation depend
only on the combination, so they run once per combination through the ordinary :func:`build`;
aggregation and ranking then run for whole chunks of runs at once.  No Python loop runs once per
replication.

Aggregation here computes exactly what :func:`dti.engine.aggregate.aggregate` computes for a
runs × units × columns stack (same weighted means, renormalisation over available children,
power-mean rules for zero and negative children), arranged for speed: the normalised indicator
columns are the same in every run of a combination, so an aggregate's sum over them is one
matrix product ``(multipliers × weights) @ values.T`` (runs × children by children × units) —
runs × units × children multiply-adds, with no runs × units × columns stack ever built.  Sums
over aggregates (which differ per run) are runs × units arrays, one child at a time.  Only the
aggregates the requested outputs depend on are computed.  Chunks of runs go to a small thread
pool (numpy releases the GIL); results land in fixed rows, so they do not depend on the order
the threads finish in.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np

from dti.engine.aggregate import Plan, compile_plan
from dti.engine.build import build, prepare
from dti.engine.data import Dataset
from dti.engine.rank import descending_ranks, round_half_up
from dti.engine.recipe import Recipe
from dti.errors import DtiError, RecipeError
from dti.framework.model import Framework

# Memory per chunk: runs × units float64 arrays, one per computed aggregate plus temporaries.
CHUNK_BYTES = 16 * 2**20
# Threads over chunks (both cores of the target machine; 1 = run in the calling thread), used
# when a batch has at least POOL_CELLS run × unit cells: below that the chunks take a few
# milliseconds each and a pool buys nothing (measured: 10,000 runs × 63 units the same with one
# thread or two; 1,000 runs × 10,000 units about 20 % faster with two).
WORKERS = min(2, os.cpu_count() or 1)
POOL_CELLS = 2_000_000
ARITHMETIC = ("points", "arithmetic")
POWER = {"geometric": 0.0, "harmonic": -1.0}


@dataclass(frozen=True)
class BatchResult:
    """Scores and ranks of ``outputs`` (node codes) for every run: arrays runs × units."""

    units: tuple[str, ...]
    outputs: tuple[str, ...]
    scores: dict[str, np.ndarray]
    ranks: dict[str, np.ndarray]
    failed: np.ndarray          # bool per run: the combination could not be built
    errors: dict[int, str]      # combination index -> the error that made its runs fail


def evaluate(data: Dataset, framework: Framework, combinations: Sequence[Recipe],
             combination_of_run: np.ndarray, multipliers: np.ndarray | None = None,
             outputs: Sequence[str] | None = None,
             progress: Callable[[int], None] | None = None) -> BatchResult:
    """Scores and ranks of every run.

    ``combination_of_run[r]`` indexes ``combinations``; ``multipliers`` is runs × nodes (in the
    order of ``compile_plan(framework, recipe).codes``, the same for every recipe) or None.
    ``progress`` is called with the number of runs finished after each chunk.
    """
    outputs = tuple(outputs or (framework.root.code,))
    combination_of_run = np.asarray(combination_of_run, dtype=int)
    runs, n = len(combination_of_run), len(data.units)
    scores = {c: np.full((runs, n), np.nan) for c in outputs}
    ranks = {c: np.full((runs, n), np.nan) for c in outputs}
    failed = np.zeros(runs, dtype=bool)
    errors: dict[int, str] = {}
    prepared: dict[Recipe, tuple] = {}
    order = np.argsort(combination_of_run, kind="stable")
    starts = np.searchsorted(combination_of_run[order], np.arange(len(combinations) + 1))

    def work(combination: _Combination, members: np.ndarray) -> int:
        M = None if multipliers is None else multipliers[members]
        for code, (values, rank) in combination.evaluate(M).items():
            scores[code][members] = values
            ranks[code][members] = rank
        return len(members)

    # The builds before aggregation (mostly Python) run here while the pool aggregates and ranks
    # the chunks already prepared (numpy, GIL released).
    pool = ThreadPoolExecutor(WORKERS) if WORKERS > 1 and runs * n >= POOL_CELLS else None
    pending: deque[Future] = deque()
    try:
        for k, recipe in enumerate(combinations):
            members = order[starts[k]:starts[k + 1]]
            if not len(members):
                continue
            try:
                combination = _combination(data, framework, recipe, outputs, prepared)
            except (DtiError, ValueError) as exc:
                failed[members], errors[k] = True, str(exc)
                continue
            # Without multipliers every run of a combination is the same run: evaluate it once.
            chunk = len(members) if multipliers is None else \
                max(1, CHUNK_BYTES // (8 * n * (len(combination.targets) + 8)))
            for start in range(0, len(members), chunk):
                part = members[start:start + chunk]
                if pool is None:
                    done = work(combination, part)
                    if progress is not None:
                        progress(done)
                else:
                    pending.append(pool.submit(work, combination, part))
            while pending and pending[0].done():
                done = pending.popleft().result()
                if progress is not None:
                    progress(done)
        while pending:
            done = pending.popleft().result()
            if progress is not None:
                progress(done)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return BatchResult(data.units, outputs, scores, ranks, failed, errors)


@dataclass(frozen=True)
class _Target:
    """One aggregate column: its children split into run-invariant data columns (``s``) and
    aggregates computed per run (``q``), with their weights, and the data columns' transforms
    (units as columns, ready for ``(multipliers × weights) @ A``)."""

    column: int
    power: float | None             # None: arithmetic mean; else the power-mean exponent
    s: np.ndarray
    ws: np.ndarray
    q: tuple[int, ...]
    wq: tuple[float, ...]
    A: np.ndarray                   # children × units: values (0 where missing) or their transform
    ok: np.ndarray | None           # children × units availability (float); None when all present
    negative: np.ndarray | None     # children × units (float): ok & value < 0 (power means only)
    zero: np.ndarray | None         # children × units (float): ok & value == 0 (power means only)


@dataclass(frozen=True)
class _Combination:
    """One distinct recipe, compiled for batched evaluation."""

    included: np.ndarray
    decimals: int | None
    rank_method: str
    threshold: float
    targets: tuple[_Target, ...]
    outputs: dict[str, int]         # output code -> column
    data_values: np.ndarray         # units × data columns (an output may be a data column)

    def evaluate(self, M: np.ndarray | None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Scores and ranks (runs × units) of every output for the runs with multipliers ``M``
        (runs × columns; None: one run with the plan's own weights)."""
        columns: dict[int, np.ndarray] = {}
        for target in self.targets:
            columns[target.column] = self._target(target, columns, M)
        runs = 1 if M is None else M.shape[0]
        n = len(self.included)
        out = {}
        for code, j in self.outputs.items():
            values = columns.get(j)
            if values is None:   # a data column: the same in every run
                values = np.broadcast_to(self.data_values[:, j], (runs, n)).copy()
            values[:, ~self.included] = np.nan
            rank = descending_ranks(values.T, self.included[:, None], self.rank_method,
                                    self.decimals).T
            out[code] = (values, rank)
        return out

    def _target(self, t: _Target, columns: dict[int, np.ndarray], M: np.ndarray | None
                ) -> np.ndarray:
        """The weighted (power) mean of ``t``'s children, as aggregate._weighted_mean.

        Masks are only built where they can matter: a child aggregate with no missing value
        (and, for a power mean, no value ≤ 0) adds its weight to every unit's available weight."""
        Mw = t.ws[None, :] if M is None else M[:, t.s] * t.ws      # runs × shared children
        num = Mw @ t.A
        total = Mw.sum(axis=1, keepdims=True)                     # runs × 1
        available = Mw @ t.ok if t.ok is not None else total.copy()
        negative = zero = None
        if t.power is not None:
            on = None if M is None else (M[:, t.s] > 0) & (t.ws > 0)
            negative = _flagged(t.negative, t.ws, on)
            zero = _flagged(t.zero, t.ws, on)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            for j, w in zip(t.q, t.wq):
                X = columns[j]
                mw = w if M is None else (M[:, j] * w)[:, None]
                lowest = X.min()   # NaN when a value is missing
                if t.power is None:
                    if np.isnan(lowest):
                        ok = ~np.isnan(X)
                        num = num + np.where(ok, X, 0.0) * mw
                        available = available + ok * mw
                    else:
                        num = num + X * mw
                        available = available + mw
                else:
                    if lowest > 0:
                        term = np.log(X) if t.power == 0 else X ** t.power
                        num = num + term * mw
                        available = available + mw
                    else:
                        positive = X > 0
                        term = np.zeros_like(X)
                        if t.power == 0:
                            np.log(X, out=term, where=positive)
                        else:
                            np.power(X, t.power, out=term, where=positive)
                        term *= mw
                        num = num + term
                        available = available + (~np.isnan(X) * mw if np.isnan(lowest) else mw)
                        if w > 0:
                            weighted = M is None or (M[:, j] > 0).all()
                            below, at = X < 0, X == 0
                            if not weighted:
                                below &= (M[:, j] > 0)[:, None]
                                at &= (M[:, j] > 0)[:, None]
                            negative = _or(negative, below)
                            zero = _or(zero, at)
                total = total + mw
            mean = num / available
            if t.power is None:
                out = mean
            elif t.power == 0:
                out = np.exp(mean, out=mean)
            else:
                out = mean ** (1.0 / t.power)
            if t.power is not None:
                if t.power <= 0 and zero is not None:
                    out = np.where(zero, 0.0, out)
                if negative is not None:
                    out = np.where(negative, np.nan, out)
            share = available / np.where(total > 0, total, np.nan)
            keep = (share >= self.threshold) & (available > 0)
        return out if keep.all() else np.where(keep, out, np.nan)


def _flagged(cells: np.ndarray | None, ws: np.ndarray, on: np.ndarray | None) -> np.ndarray | None:
    """Units (runs × units, or 1 × units) with a flagged child that counts (weight > 0 and, per
    run, multiplier > 0); None when no child is flagged."""
    if cells is None:
        return None
    if on is None or on.all():
        return ((ws > 0).astype(float) @ cells > 0)[None, :]
    return on.astype(float) @ cells > 0


def _or(a: np.ndarray | None, b: np.ndarray) -> np.ndarray:
    return b if a is None else a | b


def _combination(data: Dataset, framework: Framework, recipe: Recipe, outputs: tuple[str, ...],
                 cache: dict) -> _Combination:
    # Checked per combination, as build() checks its recipe: the cache below is shared by
    # recipes that differ in weights and exclusions, which these checks look at.
    problems = recipe.problems() + recipe.problems_for(framework)
    if problems:
        raise RecipeError(problems)
    normalised, included = _prepared(data, framework, recipe, cache)
    plan = compile_plan(framework, recipe)
    decimals = recipe.rank.decimals if recipe.rank.decimals is not None else framework.precision
    index = {c: i for i, c in enumerate(plan.codes)}
    missing = [c for c in outputs if c not in index]
    if missing:
        raise ValueError(f"{', '.join(missing)}: not a node of {framework.id}")
    threshold = 1e-12 if recipe.aggregate.min_availability is None \
        else recipe.aggregate.min_availability - 1e-12
    return _Combination(included, decimals, recipe.rank.method, threshold,
                        _targets(plan, normalised, [index[c] for c in outputs]),
                        {c: index[c] for c in outputs}, normalised)


def _prepared(data: Dataset, framework: Framework, recipe: Recipe, cache: dict) -> tuple:
    """The stages before aggregation, once per distinct pre-aggregation recipe."""
    key = replace(recipe, aggregate=Recipe().aggregate, rank=Recipe().rank, weights=(), exclude=())
    if key not in cache:
        p = prepare(data, framework, recipe)
        cache[key] = (p.normalised, p.included)
    return cache[key]


def _targets(plan: Plan, normalised: np.ndarray, wanted: list[int]) -> tuple[_Target, ...]:
    """The aggregate columns ``wanted`` depends on, in the plan's order, compiled."""
    n_data = normalised.shape[1]
    feeds: dict[int, tuple] = {}
    for step in plan.steps:
        if step.method not in ARITHMETIC and step.method not in POWER \
                and step.method != "generalised":
            raise ValueError(f"unknown aggregation {step.method!r}")
        power = None if step.method in ARITHMETIC else POWER.get(step.method, step.p)
        for k, column in enumerate(step.targets):
            feeds[int(column)] = (power, step.weights[:, k])
    needed: set[int] = set()
    stack = [j for j in wanted if j in feeds]
    while stack:
        j = stack.pop()
        if j in needed:
            continue
        needed.add(j)
        stack.extend(int(c) for c in np.flatnonzero(feeds[j][1]) if c in feeds)
    ok0 = ~np.isnan(normalised)
    out = []
    for step in plan.steps:
        for column in step.targets:
            column = int(column)
            if column not in needed:
                continue
            power, w = feeds[column]
            children = np.flatnonzero(w)
            s = children[children < n_data]
            q = tuple(int(c) for c in children[children >= n_data])
            X, ok = normalised[:, s], ok0[:, s]
            if power is None:
                A = np.where(ok, X, 0.0)
                negative = zero = None
            else:
                positive = ok & (X > 0)
                safe = np.where(positive, X, 1.0)
                with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                    term = np.log(safe) if power == 0 else safe ** power
                A = np.where(positive, term, 0.0)
                negative = _cells(ok & (X < 0))
                zero = _cells(ok & (X == 0))
            out.append(_Target(column, power, s, w[s], q, tuple(float(w[c]) for c in q),
                               np.ascontiguousarray(A.T), None if ok.all() else _cells(ok),
                               negative, zero))
    return tuple(out)


def _cells(flags: np.ndarray) -> np.ndarray | None:
    """Children × units flags as floats (for a matrix product), or None when none is set."""
    return np.ascontiguousarray(flags.T, dtype=float) if flags.any() else None


def nominal_ranks(data: Dataset, framework: Framework, recipe: Recipe,
                  outputs: Sequence[str]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Scores (rounded as published) and ranks of the nominal build."""
    b = build(data, framework, recipe)
    return ({c: round_half_up(b.score(c), b.decimals) for c in outputs},
            {c: b.rank(c).copy() for c in outputs})
