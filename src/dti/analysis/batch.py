"""Evaluate many variants of a build at once: the core of Monte Carlo and Sobol analysis.

A run is a recipe (one of a few distinct *combinations* of discrete choices) plus a vector of
weight multipliers (noisy weights, or 0 for a dropped node).  Stages before aggregation depend
only on the combination, so they run once per combination through the ordinary :func:`build`;
aggregation and ranking then run for whole chunks of runs as batched matrix products
(runs × units × columns).  No Python loop runs once per replication.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np

from dti.engine.aggregate import aggregate, compile_plan
from dti.engine.build import build
from dti.engine.data import Dataset
from dti.engine.rank import descending_ranks, round_half_up
from dti.engine.recipe import Recipe
from dti.errors import DtiError
from dti.framework.model import Framework

# Memory per chunk: runs × units × columns float64 values, a few temporaries of that size.
CHUNK_BYTES = 64 * 2**20


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
    runs, n = len(combination_of_run), len(data.units)
    scores = {c: np.full((runs, n), np.nan) for c in outputs}
    ranks = {c: np.full((runs, n), np.nan) for c in outputs}
    failed = np.zeros(runs, dtype=bool)
    errors: dict[int, str] = {}
    prepared: dict[Recipe, tuple] = {}
    for k, recipe in enumerate(combinations):
        members = np.flatnonzero(combination_of_run == k)
        if not len(members):
            continue
        try:
            base = _prepared(data, framework, recipe, prepared)
        except (DtiError, ValueError) as exc:
            failed[members], errors[k] = True, str(exc)
            continue
        _run_members(base, recipe, members, multipliers, outputs, scores, ranks, progress)
    return BatchResult(data.units, outputs, scores, ranks, failed, errors)


def _prepared(data: Dataset, framework: Framework, recipe: Recipe, cache: dict) -> tuple:
    """The stages before aggregation, once per distinct pre-aggregation recipe."""
    key = replace(recipe, aggregate=Recipe().aggregate, rank=Recipe().rank, weights=(), exclude=())
    if key not in cache:
        b = build(data, framework, recipe)
        cache[key] = (b.normalised, b.included, b.decimals)
    normalised, included, decimals = cache[key]
    plan = compile_plan(framework, recipe)
    return normalised, included, decimals, plan


def _run_members(base: tuple, recipe: Recipe, members: np.ndarray, multipliers: np.ndarray | None,
                 outputs: tuple[str, ...], scores: dict, ranks: dict, progress) -> None:
    normalised, included, decimals, plan = base
    n, cols = normalised.shape[0], len(plan.codes)
    index = [plan.codes.index(c) for c in outputs]
    V0 = np.full((n, cols), np.nan)
    V0[:, : normalised.shape[1]] = normalised
    chunk = max(1, CHUNK_BYTES // (8 * n * cols * 4))
    for start in range(0, len(members), chunk):
        runs = members[start:start + chunk]
        M = None if multipliers is None else multipliers[runs]
        V = aggregate(np.broadcast_to(V0, (len(runs), n, cols)), plan, recipe.aggregate, M)
        V[:, ~included] = np.nan
        for code, j in zip(outputs, index):
            values = V[:, :, j]
            scores[code][runs] = values
            ranks[code][runs] = descending_ranks(values.T, included[:, None], recipe.rank.method,
                                                 decimals).T
        if progress is not None:
            progress(len(runs))


def nominal_ranks(data: Dataset, framework: Framework, recipe: Recipe,
                  outputs: Sequence[str]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Scores (rounded as published) and ranks of the nominal build."""
    b = build(data, framework, recipe)
    return ({c: round_half_up(b.score(c), b.decimals) for c in outputs},
            {c: b.rank(c).copy() for c in outputs})
