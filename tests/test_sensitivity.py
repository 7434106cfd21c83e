"""Sobol sensitivity: the vectorised estimators against SALib and analytic values, and the
analysis on hand-built composite-index cases where the answer is known."""

from __future__ import annotations

from importlib import import_module

import numpy as np
import pytest
from SALib.analyze import sobol as salib_analyze
from SALib.sample import sobol as salib_sample
from SALib.test_functions import Ishigami

from dti.analysis.failures import NEGATIVE_IN_MEAN, ZERO_IN_MEAN
from dti.analysis.sensitivity import sensitivity, sensitivity_records, sobol_estimate
from dti.analysis.spec import SCALE_NOTE, AnalysisSpec, AnalysisSpecError
from dti.engine import Dataset, Recipe
from dti.engine.recipe import NormaliseSpec
from dti.framework.load import framework_from_dict

# the module (dti.analysis.sensitivity is the function, as dti.engine.build is)
sens = import_module("dti.analysis.sensitivity")


def problem(d: int, low: float = 0.0, high: float = 1.0) -> dict:
    return {"num_vars": d, "names": [f"x{i}" for i in range(d)], "bounds": [[low, high]] * d}


def assert_matches_salib(mine, salib, j=slice(None)) -> None:
    for ours, theirs in ((mine.first, "S1"), (mine.first_ci, "S1_conf"), (mine.total, "ST"),
                         (mine.total_ci, "ST_conf")):
        np.testing.assert_allclose(ours, salib[theirs][j], rtol=0, atol=1e-12, err_msg=theirs)


# ------------------------------------------------------------------------------------ estimators

def test_salib_row_layout_is_a_then_ab_i_then_b():
    X = salib_sample.sample(problem(3), 8, calc_second_order=False, seed=3)
    blocks = X.reshape(8, 5, 3)
    A, B = blocks[:, 0], blocks[:, 4]
    assert not np.isclose(A, B).any()
    for i in range(3):
        expected = A.copy()
        expected[:, i] = B[:, i]
        np.testing.assert_array_equal(blocks[:, 1 + i], expected)


def test_estimator_equals_salib_on_ishigami_and_on_every_column_at_once():
    X = salib_sample.sample(problem(3, -np.pi, np.pi), 512, calc_second_order=False, seed=7)
    y = Ishigami.evaluate(X)
    ys = [y, np.sin(X[:, 0]) * X[:, 2] ** 2, X[:, 1] + 0.1 * X[:, 0] ** 3]
    expected = [salib_analyze.analyze(problem(3, -np.pi, np.pi), v, calc_second_order=False,
                                      num_resamples=100, seed=11) for v in ys]
    assert_matches_salib(sobol_estimate(y, 3, seed=11), expected[0])   # a vector: shape (d,)
    together = sobol_estimate(np.column_stack(ys), 3, seed=11)          # all outputs at once
    assert together.first.shape == (3, 3)
    for k, salib in enumerate(expected):
        assert_matches_salib(together.column(k), salib)
    assert together.first_ci[0].min() > 0 and together.total_ci[0].min() > 0


def test_estimator_on_a_linear_model_matches_salib_and_the_analytic_indices():
    a = np.array([1.0, 2.0, 3.0, 0.0])
    X = salib_sample.sample(problem(4), 1024, calc_second_order=False, seed=5)
    y = X @ a
    mine = sobol_estimate(y, 4, seed=9)
    assert_matches_salib(mine, salib_analyze.analyze(problem(4), y, calc_second_order=False,
                                                     seed=9))
    analytic = a ** 2 / (a ** 2).sum()   # additive: first = total = a_i² / Σ a²
    assert np.all(np.abs(mine.first - analytic) <= mine.first_ci)
    assert np.all(np.abs(mine.total - analytic) <= mine.total_ci + 1e-12)
    assert mine.first[3] == 0 and mine.total[3] == 0   # x3 does not enter y: AB⁽³⁾ = A exactly


def test_estimator_drops_whole_blocks_with_a_nan_and_bootstraps_in_chunks(monkeypatch):
    X = salib_sample.sample(problem(3, -np.pi, np.pi), 256, calc_second_order=False, seed=1)
    Y = np.column_stack([Ishigami.evaluate(X), X[:, 0] - X[:, 2]])
    broken = Y.copy()
    broken[[5 * 10 + 2, 5 * 40]] = np.nan          # one AB run of block 10, the A run of block 40
    kept = np.delete(Y.reshape(256, 5, 2), [10, 40], axis=0).reshape(-1, 2)
    for k in range(2):
        salib = salib_analyze.analyze(problem(3), kept[:, k], calc_second_order=False, seed=4)
        assert_matches_salib(sobol_estimate(broken, 3, seed=4).column(k), salib)
    whole = sobol_estimate(Y, 3, seed=4)
    monkeypatch.setattr(sens, "CHUNK_BYTES", 1)   # one output per chunk
    chunked = sobol_estimate(Y, 3, seed=4)
    for field in ("first", "first_ci", "total", "total_ci"):   # equal but for summation order
        np.testing.assert_allclose(getattr(chunked, field), getattr(whole, field), rtol=0,
                                   atol=1e-14)


def test_an_output_that_never_varies_gets_zero_indices_and_intervals():
    X = salib_sample.sample(problem(2), 64, calc_second_order=False, seed=2)
    noisy_constant = 100.0 + 1e-12 * X[:, 0]       # float noise is not variation
    result = sobol_estimate(np.column_stack([np.full(len(X), 3.0), noisy_constant, X[:, 0]]), 2,
                            seed=1)
    for field in ("first", "first_ci", "total", "total_ci"):
        values = getattr(result, field)
        assert np.all(values[:, :2] == 0), field
        assert np.isfinite(values).all()
    assert result.first[0, 2] > 0.9


# ---------------------------------------------------------------------- the analysis on a build

UNITS = 12


def case(dominant: bool = False) -> tuple:
    """Two pillars (A0: i0, i1; A1: i2) under R, uniform random values: the indicators disagree
    about the order, so weights move ranks, and no two scores tie at 4 decimals."""
    nodes = [{"code": "i0", "name_vi": "i0", "level": 1, "parents": ["A0"], "weight": 1.0},
             {"code": "i1", "name_vi": "i1", "level": 1, "parents": ["A0"], "weight": 1.0},
             {"code": "i2", "name_vi": "i2", "level": 1, "parents": ["A1"], "weight": 1.0},
             {"code": "A0", "name_vi": "A0", "type": "aggregate", "level": 2, "parents": ["R"],
              "weight": 1.0},
             {"code": "A1", "name_vi": "A1", "type": "aggregate", "level": 2, "parents": ["R"],
              "weight": 1.0},
             {"code": "R", "name_vi": "R", "type": "aggregate", "level": 3}]
    fw = framework_from_dict({"id": "sobol-case", "precision": 4, "nodes": nodes})
    rng = np.random.default_rng(42)
    values = rng.uniform(1.0, 10.0, size=(UNITS, 3))
    if dominant:
        values[0] = values.max(axis=0) + 1.0       # u00 is best on every indicator
    units = tuple(f"u{i:02d}" for i in range(UNITS))
    return fw, Dataset(units, ("i0", "i1", "i2"), values)


def make_spec(*choices: dict, seed: int = 7) -> AnalysisSpec:
    return AnalysisSpec.from_dict({"seed": seed, "runs": 256, "choices": list(choices)})


WEIGHTS = {"name": "weights", "noise": 0.6}


def test_a_choice_that_cannot_change_any_rank_has_indices_zero_within_their_interval():
    # min-max to [0, upper] with arithmetic means scales every score by upper/100: ranks stay.
    fw, data = case()
    spec = make_spec(WEIGHTS, {"name": "normalise.upper", "range": [50, 150]})
    result = sensitivity(data, fw, Recipe(), spec, 256)
    assert result.choices == ("weights ±60%", "normalise.upper")
    assert (result.N, result.runs, result.failed, result.samples_used) == (256, 1024, 0, 256)
    outputs = [result.ranking, *result.unit_rank.values()]
    assert len(outputs) == 1 + UNITS
    for s in outputs:
        assert abs(s.first[1]) <= s.first_ci[1] + 1e-12 and abs(s.first[1]) < 1e-9
        assert abs(s.total[1]) <= s.total_ci[1] + 1e-12 and abs(s.total[1]) < 1e-9
    assert result.ranking.total[0] > 0.8            # the weights do move the ranking (true: 1)
    moved = [u for u, s in result.unit_rank.items() if s.total[0] > 0.5]
    assert len(moved) >= UNITS // 2
    # the same choice rescales every score: scores of different runs are not comparable, so
    # there are no score indices, and the result says why
    assert result.unit_score == {} and SCALE_NOTE in result.notes


def test_a_choice_that_decides_everything_has_first_and_total_index_near_one():
    # Dropping i0 leaves ranks by i1 and i2, dropping i1 by i0 and i2.  Competition and dense
    # ranks agree on tie-free scores, so rank.method is inert.
    fw, data = case()
    spec = make_spec({"name": "exclude", "alternatives": ["i0", "i1"]},
                     {"name": "rank.method", "alternatives": ["competition", "dense"]})
    result = sensitivity(data, fw, Recipe(), spec, 512)
    s = result.ranking
    assert abs(s.total[0] - 1) <= max(s.total_ci[0], 0.05) and abs(s.first[0] - 1) <= 0.05
    assert s.total[1] == 0 and s.first[1] == 0
    for unit, u in result.unit_rank.items():
        if u.total[0]:                             # the unit's rank depends on the exclusion
            assert u.first[0] > 0.9 and u.total[0] > 0.9, unit
    assert sum(u.total[0] > 0.9 for u in result.unit_rank.values()) >= UNITS // 2


def test_same_seed_same_result_and_another_seed_another_design():
    fw, data = case()
    choices = (WEIGHTS, {"name": "aggregate.method", "alternatives": ["arithmetic", "geometric"]})
    one, two = (sensitivity(data, fw, Recipe(), make_spec(*choices, seed=3), 64, resamples=50)
                for _ in range(2))
    other = sensitivity(data, fw, Recipe(), make_spec(*choices, seed=4), 64, resamples=50)

    def arrays(r):
        blocks = [r.ranking] + [r.unit_rank[u] for u in r.unit_rank] + \
                 [r.unit_score[u] for u in r.unit_score]
        return np.concatenate([np.r_[b.first, b.first_ci, b.total, b.total_ci] for b in blocks])

    np.testing.assert_array_equal(arrays(one), arrays(two))
    assert sensitivity_records(one) == sensitivity_records(two)
    assert not np.array_equal(arrays(one), arrays(other))
    assert one.seed == 3 and other.seed == 4


def test_a_unit_first_under_every_choice_has_all_zero_indices():
    fw, data = case(dominant=True)
    spec = make_spec(WEIGHTS, {"name": "rank.method", "alternatives": ["competition", "dense"]})
    result = sensitivity(data, fw, Recipe(), spec, 128)
    assert result.nominal_rank["u00"] == 1
    for table in (result.unit_rank, result.unit_score):   # rank 1 and score 100 in every run
        s = table["u00"]
        for field in ("first", "first_ci", "total", "total_ci"):
            assert np.all(getattr(s, field) == 0), field
    assert max(result.unit_rank[u].total[0] for u in data.units[1:]) > 0.5


def test_failed_runs_are_counted_and_their_blocks_left_out():
    # z-scores are negative for half the units and min-max gives the lowest unit 0: every
    # geometric mean fails, each run under its own reason.
    fw, data = case()
    spec = make_spec({"name": "normalise.method", "alternatives": ["minmax", "zscore"]},
                     {"name": "aggregate.method", "alternatives": ["arithmetic", "geometric"]})
    result = sensitivity(data, fw, Recipe(), spec, 64)
    U = salib_sample.sample(problem(2), 64, calc_second_order=False, seed=7)
    zscore, geometric = U[:, 0] >= 0.5, U[:, 1] >= 0.5
    assert result.failed == geometric.sum() > 0
    assert result.failures == {NEGATIVE_IN_MEAN: (geometric & zscore).sum(),
                               ZERO_IN_MEAN: (geometric & ~zscore).sum()}
    used = (~geometric.reshape(64, 4).any(axis=1)).sum()
    assert result.samples_used == used < 0.9 * 64
    assert np.isfinite(result.ranking.first).all() and np.isfinite(result.ranking.total).all()
    # the indices are conditional on the runs that could be built: the result says so plainly
    note = next(n for n in result.notes if n.startswith("indices rest on"))
    assert note == (f"indices rest on {used} of 64 samples: {NEGATIVE_IN_MEAN} "
                    f"({(geometric & zscore).sum()} runs); {ZERO_IN_MEAN} "
                    f"({(geometric & ~zscore).sum()} runs)")
    assert SCALE_NOTE in result.notes and result.design == "saltelli"
    (warning,) = result.warnings
    assert warning.startswith(f"aggregate.method = geometric: {geometric.sum()} of "
                              f"{geometric.sum()} runs fail (100%)")


def test_no_note_when_almost_every_sample_survives():
    fw, data = case()
    spec = make_spec(WEIGHTS, {"name": "aggregate.method", "alternatives": ["arithmetic",
                                                                              "harmonic"]})
    # min-max onto [1, 100]: no zero, so the harmonic mean is defined everywhere
    result = sensitivity(data, fw, Recipe(normalise=NormaliseSpec("minmax", 1.0)), spec, 64)
    assert result.failures == {} and result.samples_used == result.N == 64
    assert result.notes == () and result.design == "saltelli"
    assert set(result.unit_score) == set(result.unit_rank)    # one scale: score indices too


def test_an_unknown_output_is_an_input_error_before_any_run():
    from dti.errors import InputError

    fw, data = case()
    with pytest.raises(InputError) as caught:
        sensitivity(data, fw, Recipe(), make_spec(WEIGHTS), 8, output="NOPE")
    (problem,) = caught.value.problems
    assert problem.code == "analysis.unknown_output" and "A0, A1, R" in problem.message


def test_records_and_base_sample_checks():
    fw, data = case()
    spec = make_spec(WEIGHTS, {"name": "normalise.upper", "range": [50, 150]})
    done: list[int] = []
    result = sensitivity(data, fw, Recipe(), spec, 32, resamples=20, progress=done.append)
    assert sum(done) == result.runs == 32 * 4        # repeated design rows count as done too
    records = sensitivity_records(result, {"u03": "Tỉnh 3"})
    assert [r["choice"] for r in records["ranking"]] == list(result.choices)
    assert set(records["ranking"][0]) == {"choice", "S1", "S1_conf", "ST", "ST_conf"}
    assert len(records["units"]) == UNITS * 2          # ranks only: normalise.upper rescales
    assert {r["output"] for r in records["units"]} == {"rank"}
    first = records["units"][0]
    assert result.nominal_rank[first["code"]] == 1 and first["output"] == "rank"
    assert {r["name"] for r in records["units"] if r["code"] == "u03"} == {"Tỉnh 3"}
    assert records["ranking"][0]["ST"] == round(float(result.ranking.total[0]), 6)
    with pytest.raises(AnalysisSpecError):
        sensitivity(data, fw, Recipe(), spec, 100)
    assert sens._base_samples(1000) == 1024 and sens._base_samples(5000) == 4096
