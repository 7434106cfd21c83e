"""Evaluate many variants of a build at once: the core of Monte Carlo and Sobol analysis.

A run is a recipe (one of a few distinct *combinations* of discrete choices) plus a vector of
weight multipliers (noisy weights, or 0 for a dropped node).  Stages before aggregation depend
only on the combination, so they run once per combination through the ordinary
:func:`~dti.engine.build.prepare`; aggregation and ranking then run for whole chunks of runs at
once.  No Python loop runs once per replication.

Aggregation here computes exactly what :func:`dti.engine.aggregate.aggregate` computes, with the
same rules (power transform, zero and negative children, availability threshold: the helpers of
:mod:`dti.engine.aggregate`), arranged for speed: the normalised indicator columns are the same in
every run of a combination, so an aggregate's sum over them is one matrix product
``(multipliers × weights) @ values.T`` (runs × children by children × units) — runs × units ×
children multiply-adds, with no runs × units × columns stack ever built.  Sums over aggregates
(which differ per run) are runs × units arrays, one child at a time.  Only the aggregates the
requested outputs depend on are computed.

Memory stays bounded: combinations are taken group by group, a group being those that share the
stages before aggregation (they differ only in aggregation, ranking, weights or exclusions), and
a group's normalised matrix is dropped when the group is done — a range over a pre-aggregation
field (e.g. ``normalise.upper``) makes every run its own group, and keeping them all would hold
one units × indicators matrix per run.  Chunks of runs go to a small thread pool (numpy releases
the GIL), from at most :data:`MAX_AHEAD` combinations at a time while the next one is prepared;
results land in fixed rows, so they do not depend
on the order the threads finish in.

Only a :class:`~dti.errors.DtiError` while preparing a combination makes its runs *failed*; any
other exception is a bug and propagates.  The values stay those of the engine, but a run that takes
a geometric or power mean over a negative value, or a geometric or harmonic mean over a zero one,
for a unit that is ranked is marked in ``undefined`` (reason -> runs), so that the analyses can
fail it with its reason (:mod:`dti.analysis.failures`) instead of ranking the engine's limit 0.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Sequence

import numpy as np

from dti.analysis.failures import NEGATIVE_IN_MEAN, UNDEFINED_MEANS, ZERO_IN_MEAN
from dti.analysis.spec import AnalysisSpec, AnalysisSpecError
from dti.engine.aggregate import (Plan, availability_threshold, compile_plan, from_power_mean,
                                  keep_available, power_of, transformed, zero_and_negative_rules)
from dti.engine.build import build, prepare
from dti.engine.data import Dataset
from dti.engine.rank import descending_ranks, round_half_up
from dti.engine.recipe import Recipe
from dti.errors import DtiError, InputError, Problem, RecipeError
from dti.framework.model import Framework

# Memory per chunk: runs × units float64 arrays, one per computed aggregate plus temporaries.
CHUNK_BYTES = 16 * 2**20
# Threads over chunks (both cores of the target machine; 1 = run in the calling thread), used
# when a batch has at least POOL_CELLS run × unit cells: below that the chunks take a few
# milliseconds each and a pool buys nothing (measured: 10,000 runs × 63 units the same with one
# thread or two; 1,000 runs × 10,000 units about 20 % faster with two).
WORKERS = min(2, os.cpu_count() or 1)
POOL_CELLS = 2_000_000
# Combinations with chunks waiting in the pool at most (each holds its arrays) before the next
# one is prepared: enough to keep the pool busy while the calling thread prepares.
MAX_AHEAD = 2


@dataclass(frozen=True)
class BatchResult:
    """Scores and ranks of ``outputs`` (node codes) for every run: arrays runs × units."""

    units: tuple[str, ...]
    outputs: tuple[str, ...]
    scores: dict[str, np.ndarray]
    ranks: dict[str, np.ndarray]
    failed: np.ndarray          # bool per run: the combination could not be built
    errors: dict[int, str]      # combination index -> the error that made its runs fail
    # reason (failures.UNDEFINED_MEANS) -> bool per run: took such a mean for a ranked unit
    undefined: dict[str, np.ndarray] = field(default_factory=dict)


def check_outputs(framework: Framework, outputs: Sequence[str]) -> None:
    """Raise an InputError (``analysis.unknown_output``) for an output that is no node with a
    value (the aggregates are listed)."""
    codes = set(compile_plan(framework, Recipe()).codes)
    unknown = [c for c in outputs if c not in codes]
    if unknown:
        aggregates = ", ".join(n.code for n in framework.aggregates)
        raise InputError([Problem("analysis.unknown_output", f"{', '.join(map(str, unknown))} is "
                                  f"not a node of {framework.id}; the output must be an aggregate "
                                  f"({aggregates}) or an indicator", column="output",
                                  value=unknown[0])])


def check_inputs(framework: Framework, spec: AnalysisSpec, output: str) -> None:
    """What the uncertainty and Sobol analyses check before any run: the output is a node, and
    the spec fits the framework (also a spec read without one)."""
    check_outputs(framework, (output,))
    problems = spec.problems_for(framework, output=output)
    if problems:
        raise AnalysisSpecError(problems)


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
    check_outputs(framework, outputs)
    combination_of_run = np.asarray(combination_of_run, dtype=int)
    runs, n = len(combination_of_run), len(data.units)
    result = BatchResult(data.units, outputs, {c: np.full((runs, n), np.nan) for c in outputs},
                         {c: np.full((runs, n), np.nan) for c in outputs},
                         np.zeros(runs, dtype=bool), {},
                         {reason: np.zeros(runs, dtype=bool) for reason in UNDEFINED_MEANS})
    evaluation = _Evaluation(data, framework, outputs, multipliers, result)
    members = _members(combination_of_run, len(combinations))
    # The builds before aggregation (mostly Python) run here while the pool aggregates and ranks
    # the chunks already prepared (numpy, GIL released).
    with _Runner(runs * n, progress) as runner:
        cache: dict = {}
        for group in _groups(combinations, members):
            # This group's stages before aggregation.  The last group's are dropped only once
            # these exist: freeing first lets the allocator hand the memory back to the system
            # and fault it in again for every group (measured: a third slower).
            cache = {"previous": cache}
            for k in group:
                evaluation.submit(k, combinations[k], members[k], cache, runner)
                cache.pop("previous", None)
    return result


def _members(combination_of_run: np.ndarray, count: int) -> list[np.ndarray]:
    """The runs of each combination, in run order."""
    order = np.argsort(combination_of_run, kind="stable")
    starts = np.searchsorted(combination_of_run[order], np.arange(count + 1))
    return [order[starts[k]:starts[k + 1]] for k in range(count)]


def _groups(combinations: Sequence[Recipe], members: list[np.ndarray]) -> list[list[int]]:
    """The combinations with runs, grouped by what the stages before aggregation depend on (in
    order of first appearance)."""
    groups: dict[Any, list[int]] = {}
    for k, recipe in enumerate(combinations):
        if len(members[k]):
            key = _preparation_key(recipe)
            try:
                hash(key)
            except TypeError:   # a malformed recipe: its own group (its check will fail)
                key = ("unhashable", k)
            groups.setdefault(key, []).append(k)
    return list(groups.values())


def _preparation_key(recipe: Recipe) -> Recipe:
    """The part of a recipe the stages before aggregation depend on."""
    return replace(recipe, aggregate=Recipe().aggregate, rank=Recipe().rank, weights=(),
                   exclude=())


@dataclass(frozen=True)
class _Evaluation:
    """What every chunk of one :func:`evaluate` call shares; results land in ``result``."""

    data: Dataset
    framework: Framework
    outputs: tuple[str, ...]
    multipliers: np.ndarray | None
    result: BatchResult

    def submit(self, k: int, recipe: Recipe, members: np.ndarray, cache: dict,
               runner: "_Runner") -> None:
        """Compile combination ``k`` and hand its runs to ``runner`` in chunks; a combination
        that cannot be built marks its runs failed."""
        runner.make_room(MAX_AHEAD)
        try:
            combination = _combination(self.data, self.framework, recipe, self.outputs, cache)
        except DtiError as exc:
            self.result.failed[members], self.result.errors[k] = True, str(exc)
            return
        # Without multipliers every run of a combination is the same run: evaluate it once.
        n = len(self.data.units)
        chunk = len(members) if self.multipliers is None else \
            max(1, CHUNK_BYTES // (8 * n * (len(combination.targets) + 8)))
        for start in range(0, len(members), chunk):
            runner.submit(k, self.work, combination, members[start:start + chunk])

    def work(self, combination: "_Combination", members: np.ndarray) -> int:
        M = None if self.multipliers is None else self.multipliers[members]
        outputs, undefined = combination.evaluate(M)
        for code, (values, rank) in outputs.items():
            self.result.scores[code][members] = values
            self.result.ranks[code][members] = rank
        for reason, runs in undefined.items():
            self.result.undefined[reason][members] = runs
        return len(members)


class _Runner:
    """Runs chunks in the calling thread, or in a small pool (for batches of at least
    :data:`POOL_CELLS` cells); reports each finished chunk to ``progress``.  Each chunk is
    tagged with its combination, so :meth:`make_room` can bound the combinations in flight."""

    def __init__(self, cells: int, progress: Callable[[int], None] | None) -> None:
        self.pool = ThreadPoolExecutor(WORKERS) if WORKERS > 1 and cells >= POOL_CELLS else None
        self.pending: deque[tuple[Future, int]] = deque()
        self.progress = progress

    def submit(self, tag: int, function: Callable[..., int], *args: Any) -> None:
        if self.pool is None:
            self._done(function(*args))
            return
        self.pending.append((self.pool.submit(function, *args), tag))
        while self.pending and self.pending[0][0].done():
            self._done(self.pending.popleft()[0].result())

    def make_room(self, combinations: int) -> None:
        """Wait until chunks of fewer than ``combinations`` combinations are pending."""
        while self.pending and len({tag for _, tag in self.pending}) >= combinations:
            self._done(self.pending.popleft()[0].result())

    def _done(self, count: int) -> None:
        if self.progress is not None:
            self.progress(count)

    def __enter__(self) -> "_Runner":
        return self

    def __exit__(self, kind: Any, *_: Any) -> None:
        try:
            while kind is None and self.pending:
                self._done(self.pending.popleft()[0].result())
        finally:
            if self.pool is not None:
                self.pool.shutdown(cancel_futures=True)


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

    @property
    def all_included(self) -> bool:
        return bool(self.included.all())

    def evaluate(self, M: np.ndarray | None) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]],
                                                      dict[str, np.ndarray]]:
        """Scores and ranks (runs × units) of every output for the runs with multipliers ``M``
        (runs × columns; None: one run with the plan's own weights), and the runs that took an
        undefined mean (reason -> bool per run, or of shape (1,) when every run did alike)."""
        columns: dict[int, np.ndarray] = {}
        undefined: dict[str, np.ndarray] = {}
        for target in self.targets:
            columns[target.column] = self._target(target, columns, M, undefined)
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
        return out, undefined

    def _target(self, t: _Target, columns: dict[int, np.ndarray], M: np.ndarray | None,
                undefined: dict[str, np.ndarray]) -> np.ndarray:
        """The weighted (power) mean of ``t``'s children, as the engine's aggregate; a power
        mean over a counted child ≤ 0 marks its runs in ``undefined``.

        Masks are only built where they can matter: a child aggregate with no missing value
        (and, for a power mean, no value ≤ 0) adds its weight to every unit's available weight."""
        sums = _shared_sums(t, M)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            for j, w in zip(t.q, t.wq):
                _add_child(sums, columns[j], w, None if M is None else M[:, j], t.power)
            out = from_power_mean(sums.num / sums.available, t.power)
            if t.power is not None:
                out = zero_and_negative_rules(out, t.power, sums.zero, sums.negative)
                self._mark(undefined, NEGATIVE_IN_MEAN, sums.negative)
                if t.power <= 0:   # p > 0: a zero child just adds 0, a defined mean
                    self._mark(undefined, ZERO_IN_MEAN, sums.zero)
        return keep_available(out, sums.available, sums.total, self.threshold)

    def _mark(self, undefined: dict[str, np.ndarray], reason: str,
              cells: np.ndarray | None) -> None:
        """Mark the runs (rows of ``cells``: runs × units, or 1 × units) where a ranked unit
        has a flagged cell."""
        if cells is None:
            return
        runs = (cells if self.all_included else cells & self.included).any(axis=1)
        undefined[reason] = runs if reason not in undefined else undefined[reason] | runs


@dataclass
class _Sums:
    """Running sums of one aggregate over its children (runs × units, or 1 × units)."""

    num: np.ndarray                  # Σ weight × value (or its power transform)
    available: np.ndarray            # Σ weight of the children present
    total: np.ndarray                # Σ weight (runs × 1)
    negative: np.ndarray | None = None   # a counted child < 0 (power means)
    zero: np.ndarray | None = None       # a counted child = 0 (power means)


def _shared_sums(t: _Target, M: np.ndarray | None) -> _Sums:
    """The sums over the data children, the same in every run but for the multipliers: one
    matrix product each."""
    Mw = t.ws[None, :] if M is None else M[:, t.s] * t.ws      # runs × shared children
    total = Mw.sum(axis=1, keepdims=True)                      # runs × 1
    sums = _Sums(Mw @ t.A, Mw @ t.ok if t.ok is not None else total.copy(), total)
    if t.power is not None:
        on = None if M is None else (M[:, t.s] > 0) & (t.ws > 0)
        sums.negative = _flagged(t.negative, t.ws, on)
        sums.zero = _flagged(t.zero, t.ws, on)
    return sums


def _add_child(sums: _Sums, X: np.ndarray, w: float, m: np.ndarray | None,
               power: float | None) -> None:
    """Add one aggregate child (values ``X``: runs × units, weight ``w``, per-run multipliers
    ``m`` or None) to ``sums``."""
    mw = w if m is None else (m * w)[:, None]
    lowest = X.min()   # NaN when a value is missing
    if power is None and np.isnan(lowest):
        ok = ~np.isnan(X)
        sums.num = sums.num + np.where(ok, X, 0.0) * mw
        sums.available = sums.available + ok * mw
    elif power is None or lowest > 0:
        sums.num = sums.num + (X if power is None else transformed(X, power)) * mw
        sums.available = sums.available + mw
    else:
        term = transformed(X, power, X > 0)
        term *= mw
        sums.num = sums.num + term
        sums.available = sums.available + (~np.isnan(X) * mw if np.isnan(lowest) else mw)
        if w > 0:
            below, at = X < 0, X == 0
            if m is not None and not (m > 0).all():
                below &= (m > 0)[:, None]
                at &= (m > 0)[:, None]
            sums.negative = _or(sums.negative, below)
            sums.zero = _or(sums.zero, at)
    sums.total = sums.total + mw


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
    return _Combination(included, decimals, recipe.rank.method,
                        availability_threshold(recipe.aggregate.min_availability),
                        _targets(plan, normalised, [index[c] for c in outputs]),
                        {c: index[c] for c in outputs}, normalised)


def _prepared(data: Dataset, framework: Framework, recipe: Recipe, cache: dict) -> tuple:
    """The stages before aggregation, once per distinct pre-aggregation recipe."""
    key = _preparation_key(recipe)
    if key not in cache:
        p = prepare(data, framework, recipe)
        cache[key] = (p.normalised, p.included)
    return cache[key]


def _targets(plan: Plan, normalised: np.ndarray, wanted: list[int]) -> tuple[_Target, ...]:
    """The aggregate columns ``wanted`` depends on, in the plan's order, compiled."""
    feeds = {int(column): (power_of(step.method, step.p), step.weights[:, k])
             for step in plan.steps for k, column in enumerate(step.targets)}
    needed: set[int] = set()
    stack = [j for j in wanted if j in feeds]
    while stack:
        j = stack.pop()
        if j not in needed:
            needed.add(j)
            stack.extend(int(c) for c in np.flatnonzero(feeds[j][1]) if c in feeds)
    ok = ~np.isnan(normalised)
    return tuple(_target(column, *feeds[column], normalised, ok)
                 for step in plan.steps for column in map(int, step.targets) if column in needed)


def _target(column: int, power: float | None, w: np.ndarray, normalised: np.ndarray,
            ok0: np.ndarray) -> _Target:
    """One aggregate column compiled: data children's values (or transforms) and flags."""
    children = np.flatnonzero(w)
    s = children[children < normalised.shape[1]]
    q = tuple(int(c) for c in children[children >= normalised.shape[1]])
    X, ok = normalised[:, s], ok0[:, s]
    if power is None:
        A, negative, zero = np.where(ok, X, 0.0), None, None
    else:
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            A = transformed(X, power, ok & (X > 0))
        negative, zero = _cells(ok & (X < 0)), _cells(ok & (X == 0))
    return _Target(column, power, s, w[s], q, tuple(float(w[c]) for c in q),
                   np.ascontiguousarray(A.T), None if ok.all() else _cells(ok), negative, zero)


def _cells(flags: np.ndarray) -> np.ndarray | None:
    """Children × units flags as floats (for a matrix product), or None when none is set."""
    return np.ascontiguousarray(flags.T, dtype=float) if flags.any() else None


def nominal_ranks(data: Dataset, framework: Framework, recipe: Recipe, outputs: Sequence[str]
                  ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], tuple[str, ...]]:
    """Scores (rounded as published) and ranks of the nominal build, and the units its
    screening leaves out (in data order): no run ranks them, and every output says so."""
    b = build(data, framework, recipe)
    return ({c: round_half_up(b.score(c), b.decimals) for c in outputs},
            {c: b.rank(c).copy() for c in outputs},
            tuple(u for u, kept in zip(b.units, b.included) if not kept))
