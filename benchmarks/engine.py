"""Engine speed and memory: a full ``build()`` at DTI size and at commune size.

Run:  .venv/bin/python benchmarks/engine.py [--repeat 11] [--seed 2022]

Prints, for each case, the median (and min/max) wall time of a full build over ``--repeat`` runs
after one warm-up, the tracemalloc peak of one build, the time of each stage inside one build,
and the process's peak resident memory.  Targets: 63 × 100 < 5 ms, 10,000 × 200 < 1 s.
Not a test: figures go into the issue note.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
import tracemalloc
from contextlib import contextmanager
from typing import Callable, Iterator

import numpy as np

import dti.engine.build  # noqa: F401  (the module, for the stage timers below)
from dti.editions import load_edition
from dti.engine import Dataset, Recipe, build
from dti.engine.recipe import (AggregateSpec, ImputeSpec, NormaliseSpec, RankSpec, ScreenSpec,
                               TreatSpec)
from dti.framework.load import framework_from_dict
from dti.framework.model import Framework

BUILD_MODULE = sys.modules["dti.engine.build"]
STAGES = ("compile_plan", "denominate", "screen", "impute", "treat", "normalise", "aggregate",
          "descending_ranks", "group_ranks")
REGIONS = ("Đồng bằng sông Hồng", "Trung du và miền núi phía Bắc", "Bắc Trung Bộ",
           "Duyên hải Nam Trung Bộ", "Tây Nguyên", "Đông Nam Bộ", "Đồng bằng sông Cửu Long")

RECIPE = Recipe(
    impute=ImputeSpec("group_mean", "region"),
    screen=ScreenSpec(0.7),
    treat=TreatSpec("jrc", max_points=5),
    normalise=NormaliseSpec("minmax", 0.0, 100.0),
    aggregate=AggregateSpec("arithmetic"),
    rank=RankSpec("competition", decimals=4, groups=("region",)),
)


def synthetic_framework(n_indicators: int, n_sub_pillars: int, n_pillars: int,
                        rng: np.random.Generator) -> Framework:
    """Indicators → sub-pillars → pillars → index, with random weights and directions."""
    nodes = []
    for j in range(n_indicators):
        nodes.append({"code": f"i{j:03d}", "name_vi": f"Chỉ số {j}", "level": 1,
                      "parents": [f"S{j % n_sub_pillars:02d}"],
                      "weight": float(rng.integers(1, 5)),
                      "direction": int(rng.choice([1, 1, 1, -1]))})
    for s in range(n_sub_pillars):
        nodes.append({"code": f"S{s:02d}", "name_vi": f"Chỉ số thành phần {s}", "level": 2,
                      "type": "aggregate", "parents": [f"P{s % n_pillars}"], "weight": 1.0})
    for p in range(n_pillars):
        nodes.append({"code": f"P{p}", "name_vi": f"Trụ cột {p}", "level": 3, "type": "aggregate",
                      "parents": ["INDEX"], "weight": float(p + 1)})
    nodes.append({"code": "INDEX", "name_vi": "Chỉ số", "level": 4, "type": "aggregate"})
    return framework_from_dict({"id": f"bench-{n_indicators}", "precision": 4, "nodes": nodes})


def synthetic_data(fw: Framework, n_units: int, rng: np.random.Generator,
                   missing: float = 0.05) -> Dataset:
    """Lognormal values (a fifth of the columns heavy-tailed, so the JRC rule has work) with
    ``missing`` of the cells empty."""
    codes = [n.data_column for n in fw.data_nodes]
    sigma = np.where(np.arange(len(codes)) % 5 == 0, 1.5, 0.3)
    values = rng.lognormal(mean=2.0, sigma=sigma, size=(n_units, len(codes)))
    values[rng.random(values.shape) < missing] = np.nan
    regions = tuple(REGIONS[i % len(REGIONS)] for i in range(n_units))
    units = tuple(f"u{i:05d}" for i in range(n_units))
    return Dataset(units, tuple(codes), values, {"region": regions})


def timed(function: Callable[[], object], repeat: int) -> list[float]:
    function()  # warm-up: imports, caches
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        out.append(time.perf_counter() - start)
    return out


def traced_peak(function: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@contextmanager
def stage_timers() -> Iterator[dict[str, float]]:
    """Wrap the stage functions build() calls, accumulating their time (one build at a time)."""
    spent = {name: 0.0 for name in STAGES}
    originals = {name: getattr(BUILD_MODULE, name) for name in STAGES}

    def wrap(name: str, function: Callable) -> Callable:
        def timed_stage(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - start
        return timed_stage

    for name, function in originals.items():
        setattr(BUILD_MODULE, name, wrap(name, function))
    try:
        yield spent
    finally:
        for name, function in originals.items():
            setattr(BUILD_MODULE, name, function)


def stage_breakdown(function: Callable[[], object], repeat: int) -> dict[str, float]:
    """Median time of each stage over ``repeat`` builds."""
    runs: dict[str, list[float]] = {name: [] for name in STAGES}
    for _ in range(repeat):
        with stage_timers() as spent:
            function()
        for name, seconds in spent.items():
            runs[name].append(seconds)
    return {name: statistics.median(values) for name, values in runs.items()}


def fmt_time(seconds: float) -> str:
    return f"{seconds * 1e3:9.2f} ms"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--seed", type=int, default=2022)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)

    cases: list[tuple[str, Callable[[], object], float | None]] = []
    edition = load_edition("dti-province-2022")
    dti_data = edition.dataset()
    cases.append(("DTI 2022 edition (63 units × 9 indicators, points)",
                  lambda: build(dti_data, edition.framework, edition.recipe), None))
    for n_units, n_ind, n_sub, n_pil, target in ((63, 100, 10, 3, 5e-3),
                                                 (10_000, 200, 20, 4, 1.0)):
        fw = synthetic_framework(n_ind, n_sub, n_pil, rng)
        data = synthetic_data(fw, n_units, rng)
        cases.append((f"{n_units:,} units × {n_ind} indicators ({n_sub} sub-pillars, "
                      f"{n_pil} pillars)",
                      lambda data=data, fw=fw: build(data, fw, RECIPE), target))

    print(f"dti engine benchmark — numpy {np.__version__}, Python {sys.version.split()[0]}, "
          f"median of {args.repeat} runs after a warm-up, seed {args.seed}")
    print("recipe (synthetic cases): group-mean imputation by region, screen 70 %, JRC "
          "(5 points, log fallback), min-max 0–100, arithmetic, competition ranks + by region\n")
    header = f"{'case':<52} {'median':>12} {'min':>12} {'max':>12} {'target':>9} {'peak mem':>10}"
    print(header)
    print("-" * len(header))
    breakdowns = []
    for name, function, target in cases:
        times = timed(function, args.repeat)
        median = statistics.median(times)
        peak = traced_peak(function)
        verdict = "" if target is None else ("ok" if median < target else "MISSED")
        target_text = "—" if target is None else f"<{target * 1e3:g} ms"
        print(f"{name:<52} {fmt_time(median):>12} {fmt_time(min(times)):>12} "
              f"{fmt_time(max(times)):>12} {target_text:>9} {peak / 2**20:8.1f} MB {verdict}")
        breakdowns.append((name, median, stage_breakdown(function, args.repeat)))

    print("\nstage times inside one build (median; 'other' = build() glue, copies, checks)")
    short = [n.split(" (")[0].replace(" units × ", " × ").replace(" indicators", "")
             for n, _, _ in breakdowns]
    print(f"{'stage':<18}" + "".join(f"{s:>28}" for s in short))
    for stage in STAGES + ("other",):
        cells = []
        for _, total, stages in breakdowns:
            seconds = total - sum(stages.values()) if stage == "other" else stages[stage]
            cells.append(f"{fmt_time(max(seconds, 0.0))} {100 * max(seconds, 0.0) / total:5.1f} %")
        print(f"{stage:<18}" + "".join(f"{c:>28}" for c in cells))

    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"\nprocess peak resident memory (ru_maxrss, all cases): {maxrss / 1024:.1f} MB")


if __name__ == "__main__":
    main()
