"""Analysis speed and memory: Monte Carlo uncertainty and Sobol sensitivity, batched.

Run:  .venv/bin/python benchmarks/analysis.py [--repeat 5] [--seed 2022] [--skip-large]
      taskset -c 0 .venv/bin/python benchmarks/analysis.py     # pinned to one core
      .venv/bin/python benchmarks/analysis.py --workers 1      # no thread pool over chunks

Prints the median (and min/max) wall time over ``--repeat`` runs after one warm-up of:

(a) 10,000 uncertainty runs at 63 units × 100 indicators (10 sub-pillars, 3 pillars, min-max
    nominal) with weights ±25 %, min-max vs z-score, arithmetic vs geometric and winsorisation
    1–5 points — must be under 1 s, aim 0.25 s;
(b) a Sobol analysis with those 4 choices and N = 4,096 (Saltelli design without second order:
    N × (d + 2) = 24,576 runs) — ``dti.analysis.sensitivity.sensitivity`` when that module exists,
    otherwise ``evaluate`` over the same design (said in the output) — target under 10 s;
(c) 1,000 uncertainty runs at 10,000 units × 100 indicators — target under 60 s and peak memory
    under 4 GB (tracemalloc peak of one run, and the process's peak resident memory).

and the ratio against COINr's published ~0.2 s for each single run of the 63 × 100 case
(2,000 s for 10,000 runs).  Not a test: figures go into the issue note.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import os
import resource
import statistics
import sys
from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine import (synthetic_data, synthetic_framework, timed,  # noqa: E402  (benchmarks/engine.py)
                    traced_peak)

import dti.analysis.batch as batch  # noqa: E402
from dti.analysis.spec import AnalysisSpec, runs_from_inputs  # noqa: E402
from dti.analysis.uncertainty import uncertainty  # noqa: E402
from dti.engine.aggregate import compile_plan  # noqa: E402
from dti.engine.recipe import (AggregateSpec, ImputeSpec, NormaliseSpec, Recipe,  # noqa: E402
                               TreatSpec)

# The nominal recipe: min-max 0–100, arithmetic, JRC treatment (so the winsorisation choice bites).
RECIPE = Recipe(
    impute=ImputeSpec("mean"),
    treat=TreatSpec("jrc", max_points=5),
    normalise=NormaliseSpec("minmax", 0.0, 100.0),
    aggregate=AggregateSpec("arithmetic"),
)
CHOICES = {"choices": [
    {"name": "weights", "noise": 0.25},
    {"name": "normalise.method", "alternatives": ["minmax", "zscore"]},
    {"name": "aggregate.method", "alternatives": ["arithmetic", "geometric"]},
    {"name": "treat.max_points", "alternatives": [1, 2, 3, 4, 5]},
]}
COINR_SECONDS_PER_RUN = 0.2   # COINr, one Monte Carlo replication of a similar set-up


def fmt_time(seconds: float) -> str:
    return f"{seconds:9.3f} s"


def sobol_case(data, fw, n: int, seed: int) -> tuple[str, Callable[[], object]]:
    """The Sobol analysis of (b): the real one if dti.analysis.sensitivity exists."""
    spec = AnalysisSpec.from_dict({**CHOICES, "runs": n, "seed": seed, "design": "sobol"},
                                  framework=fw)
    if importlib.util.find_spec("dti.analysis.sensitivity") is not None:
        from dti.analysis.sensitivity import sensitivity

        parameters = inspect.signature(sensitivity).parameters
        kwargs = {"N": n} if "N" in parameters else {}
        return ("dti.analysis.sensitivity.sensitivity",
                lambda: sensitivity(data, fw, RECIPE, spec, **kwargs))

    from SALib.sample import sobol as saltelli

    problem = {"num_vars": len(spec.choices), "names": [c.label() for c in spec.choices],
               "bounds": [[0.0, 1.0]] * len(spec.choices)}

    def run() -> object:
        rng = np.random.default_rng(seed)
        U = saltelli.sample(problem, n, calc_second_order=False, seed=seed)
        codes = compile_plan(fw, RECIPE).codes
        runs = runs_from_inputs(U, spec, RECIPE, codes, fw, rng, fresh_weights=False)
        return batch.evaluate(data, fw, runs.combinations, runs.combination_of_run,
                              runs.multipliers)

    return ("evaluate() on the Saltelli design (dti.analysis.sensitivity not there yet)", run)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--workers", type=int, default=None,
                        help="threads over chunks in evaluate() (default: the module's own)")
    parser.add_argument("--skip-large", action="store_true", help="skip case (c)")
    args = parser.parse_args(argv)
    if args.workers is not None and hasattr(batch, "WORKERS"):
        batch.WORKERS = args.workers
    rng = np.random.default_rng(args.seed)

    fw = synthetic_framework(100, 10, 3, rng)
    small = synthetic_data(fw, 63, rng)
    large = synthetic_data(fw, 10_000, rng)
    spec_small = AnalysisSpec.from_dict({**CHOICES, "runs": 10_000, "seed": args.seed},
                                        framework=fw)
    spec_large = replace(spec_small, runs=1_000)
    sobol_what, sobol_run = sobol_case(small, fw, 4096, args.seed)

    cases: list[tuple[str, Callable[[], object], float, int]] = [
        ("(a) 10,000 runs, 63 units × 100 indicators",
         lambda: uncertainty(small, fw, RECIPE, spec_small), 1.0, args.repeat),
        ("(b) Sobol, 4 choices, N = 4,096 (24,576 runs), 63 × 100", sobol_run, 10.0, args.repeat),
    ]
    if not args.skip_large:
        cases.append(("(c) 1,000 runs, 10,000 units × 100 indicators",
                      lambda: uncertainty(large, fw, RECIPE, spec_large), 60.0,
                      max(1, min(args.repeat, 3))))

    print(f"dti analysis benchmark — numpy {np.__version__}, Python {sys.version.split()[0]}, "
          f"seed {args.seed}, {len(os.sched_getaffinity(0))} core(s) available, evaluate() "
          f"thread pool: {getattr(batch, 'WORKERS', 1)} workers from "
          f"{getattr(batch, 'POOL_CELLS', 0):,} run × unit cells")
    print("choices: weights ±25 %, normalise minmax|zscore, aggregate arithmetic|geometric, "
          "treat.max_points 1–5 (JRC); nominal min-max 0–100, arithmetic, mean imputation")
    print(f"(b) times: {sobol_what}\n")
    header = (f"{'case':<58} {'median':>11} {'min':>11} {'max':>11} {'target':>8} "
              f"{'traced peak':>12}")
    print(header)
    print("-" * len(header))
    medians = {}
    for name, function, target, repeat in cases:
        times = timed(function, repeat)
        median = statistics.median(times)
        medians[name[:3]] = median
        peak = traced_peak(function)
        verdict = "ok" if median < target else "MISSED"
        print(f"{name:<58} {fmt_time(median):>11} {fmt_time(min(times)):>11} "
              f"{fmt_time(max(times)):>11} {f'<{target:g} s':>8} {peak / 2**20:9.1f} MB {verdict}"
              f"  (×{repeat})")

    a = medians["(a)"]
    coinr = 10_000 * COINR_SECONDS_PER_RUN
    print(f"\n(a) per run: {a / 10_000 * 1e6:.1f} µs; COINr ~{COINR_SECONDS_PER_RUN} s per run, "
          f"{coinr:,.0f} s for 10,000 runs: {coinr / a:,.0f}× faster")
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"process peak resident memory (ru_maxrss, all cases): {maxrss / 1024:.1f} MB"
          + ("" if args.skip_large else " (target for (c): < 4 GB)"))


if __name__ == "__main__":
    main()
