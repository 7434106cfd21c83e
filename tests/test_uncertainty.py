"""Monte Carlo uncertainty: reproducibility, the nominal as a fixed point, failure accounting,
hand-checked statistics, spec problems, and the batched evaluator against a plain build() loop.

Data: a seeded synthetic data set over the 63 provinces with the 9-indicator structure of the
DTI 2022 framework (a DAG: the foundation indicators feed NEN_TANG and the three pillars), some
columns heavy-tailed so the JRC winsorisation has work; and small hand-built frameworks.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

import dti.analysis.batch as batch
from dti.analysis.batch import evaluate
from dti.analysis.failures import NEGATIVE_IN_MEAN, ZERO_IN_MEAN
from dti.analysis.spec import AnalysisSpec, AnalysisSpecError, runs_from_inputs, sample_design
from dti.analysis.spec import SCALE_NOTE as FW_SCALE_NOTE
from dti.analysis.uncertainty import SCORE_STATS, uncertainty, uncertainty_records
from dti.editions import load_edition
from dti.engine import Dataset, build
from dti.engine.aggregate import compile_plan
from dti.engine.recipe import AggregateSpec, NormaliseSpec, Recipe, ScreenSpec, TreatSpec
from dti.errors import InputError
from dti.framework.load import framework_from_dict
from dti.units import load_unit_set

EDITION = load_edition("dti-province-2022")
FW = EDITION.framework
# The nominal of the four-choice analysis: min-max, arithmetic, JRC with 5 points.
NOMINAL = replace(EDITION.recipe, treat=TreatSpec("jrc", max_points=5),
                  normalise=NormaliseSpec("minmax"), aggregate=AggregateSpec("arithmetic", 1.0, 1.0))
FOUR_CHOICES = [
    {"name": "weights", "noise": 0.25},
    {"name": "normalise.method", "alternatives": ["minmax", "zscore"]},
    {"name": "aggregate.method", "alternatives": ["arithmetic", "geometric"]},
    {"name": "treat.max_points", "alternatives": [1, 2, 3, 4, 5]},
]


def with_weights(recipe: Recipe, weights: dict[str, float]) -> Recipe:
    """The recipe with these weight overrides added to (or replacing) its own."""
    return replace(recipe, weights=tuple(sorted({**dict(recipe.weights), **weights}.items())))


def dti_data(seed: int = 2022, missing: int = 0) -> Dataset:
    """63 provinces × the 9 DTI indicators: ratios in (0, 1), three columns heavy-tailed;
    ``missing`` cells emptied at random."""
    units = load_unit_set("provinces-63")
    rng = np.random.default_rng(seed)
    columns = tuple(n.data_column for n in FW.data_nodes)
    values = rng.beta(rng.uniform(1.5, 4, len(columns)), rng.uniform(1.5, 4, len(columns)),
                      size=(len(units), len(columns)))
    for j in (0, 3, 6):   # heavy right tail: a few provinces far ahead
        tail = rng.lognormal(0.0, 1.3, len(units))
        values[:, j] = tail / tail.max()
    if missing:
        cells = rng.choice(values.size, missing, replace=False)
        values.flat[cells] = np.nan
    regions = tuple(units.get(c).region for c in units.codes)
    return Dataset(units.codes, columns, values, {"region": regions})


DATA = dti_data()


def spec_of(choices: list[dict], runs: int, seed: int = 11, **extra) -> AnalysisSpec:
    return AnalysisSpec.from_dict({"choices": choices, "runs": runs, "seed": seed, **extra},
                                  framework=FW)


def serialised(result) -> bytes:
    records = json.dumps(uncertainty_records(result), ensure_ascii=False, sort_keys=True)
    return b"|".join([records.encode(), result.ranks.tobytes(), result.scores.tobytes(),
                      result.failed.tobytes(), repr(result.samples).encode(),
                      json.dumps(result.failures, sort_keys=True).encode()])


# --------------------------------------------------------------------------- reproducibility

@pytest.mark.parametrize("design", ["random", "sobol"])
def test_same_seed_same_bytes_and_another_seed_other_bytes(design):
    spec = spec_of(FOUR_CHOICES, 256, seed=5, design=design)
    first = serialised(uncertainty(DATA, FW, NOMINAL, spec))
    again = serialised(uncertainty(DATA, FW, NOMINAL, spec))
    assert first == again
    other = uncertainty(DATA, FW, NOMINAL, replace(spec, seed=6))
    assert serialised(other) != first
    mine = uncertainty(DATA, FW, NOMINAL, spec)
    assert not np.array_equal(other.ranks, mine.ranks, equal_nan=True)
    assert other.samples != mine.samples


def test_the_thread_pool_and_chunking_change_no_byte(monkeypatch):
    spec = spec_of(FOUR_CHOICES, 300, seed=3)
    monkeypatch.setattr(batch, "WORKERS", 1)
    serial = uncertainty(DATA, FW, NOMINAL, spec)
    monkeypatch.setattr(batch, "WORKERS", 2)
    monkeypatch.setattr(batch, "POOL_CELLS", 0)
    monkeypatch.setattr(batch, "CHUNK_BYTES", 8 * 63 * 40 * 3)   # a handful of runs per chunk
    finished: list[int] = []
    pooled = uncertainty(DATA, FW, NOMINAL, spec, progress=finished.append)
    assert len(finished) > 20 and sum(finished) == 300
    np.testing.assert_array_equal(pooled.ranks, serial.ranks)
    np.testing.assert_allclose(pooled.scores, serial.scores, rtol=0, atol=1e-12)
    assert uncertainty_records(pooled) == uncertainty_records(serial)


# ------------------------------------------------------------------------ nominal fixed point

@pytest.mark.parametrize("recipe, choices", [
    # the published DTI recipe (ratio, points), weights noise 0: multipliers all exactly 1
    (EDITION.recipe, [{"name": "weights", "noise": 0.0},
                      {"name": "normalise.method", "alternatives": ["ratio"]}]),
    # the four-choice nominal with single alternatives equal to it and no weights choice
    (NOMINAL, [{"name": "normalise.method", "alternatives": ["minmax"]},
               {"name": "aggregate.method", "alternatives": ["arithmetic"]},
               {"name": "treat.max_points", "alternatives": [5]},
               {"name": "exclude", "alternatives": ["none"]}]),
])
def test_zero_noise_and_no_alternatives_reproduce_the_nominal_ranks_in_every_run(recipe, choices):
    result = uncertainty(DATA, FW, recipe, spec_of(choices, 200))
    nominal = build(DATA, FW, recipe)
    assert not result.failed.any() and result.failures == {}
    assert np.array_equal(result.nominal_rank, nominal.rank())
    np.testing.assert_array_equal(result.ranks, np.broadcast_to(nominal.rank(), result.ranks.shape))
    np.testing.assert_allclose(result.scores, np.broadcast_to(nominal.score(), (200, 63)),
                               rtol=0, atol=1e-12)
    stats = result.stats
    for key in ("median_rank", "rank_p05", "rank_p95", "mean_rank"):
        np.testing.assert_array_equal(stats[key], nominal.rank(), err_msg=key)
    for k in (1, 3, 5, 10):
        np.testing.assert_array_equal(stats[f"p_top_{k}"], (nominal.rank() <= k).astype(float))


# ------------------------------------------------------------------- the four-choice analysis

def test_the_four_choice_analysis_at_63_provinces():
    spec = spec_of(FOUR_CHOICES, 2000, seed=2022, rank_thresholds=[1, 3, 5, 10, 20, 63])
    result = uncertainty(DATA, FW, NOMINAL, spec)
    assert result.runs == 2000 and len(result.samples) == 2000
    methods = {(s[1], s[2]) for s in result.samples}
    assert methods == {(n, a) for n in ("minmax", "zscore") for a in ("arithmetic", "geometric")}
    assert {s[3] for s in result.samples} == {1, 2, 3, 4, 5}

    # A geometric mean of z-scores meets negative values, one of min-max values meets the 0 of
    # each indicator's lowest province: exactly the geometric runs fail, are counted under their
    # reason, and leave no rank or score behind.
    geometric = np.array([s[2] == "geometric" for s in result.samples])
    zscore = np.array([s[1] == "zscore" for s in result.samples])
    np.testing.assert_array_equal(result.failed, geometric)
    assert 400 < (geometric & zscore).sum() < 600 and 400 < (geometric & ~zscore).sum() < 600
    assert result.failures == {NEGATIVE_IN_MEAN: (geometric & zscore).sum(),
                               ZERO_IN_MEAN: (geometric & ~zscore).sum()}
    assert result.used == (~geometric).sum()
    (warning,) = result.warnings
    assert warning.startswith(f"aggregate.method = geometric: {geometric.sum():,} of "
                              f"{geometric.sum():,} runs fail (100%), mostly for ")
    assert np.isnan(result.ranks[result.failed]).all()
    assert np.isnan(result.scores[result.failed]).all()
    assert not np.isnan(result.ranks[~result.failed]).any()

    # Statistics over the runs that did not fail, and only those.
    good = result.ranks[~result.failed]
    stats = result.stats
    np.testing.assert_allclose(stats["mean_rank"], good.mean(axis=0), rtol=1e-13)
    np.testing.assert_array_equal(stats["median_rank"], np.median(good, axis=0))
    np.testing.assert_allclose(stats["rank_p05"], np.quantile(good, 0.05, axis=0), rtol=1e-13)
    np.testing.assert_allclose(stats["rank_p95"], np.quantile(good, 0.95, axis=0), rtol=1e-13)
    # min-max against z-scores: the runs' scores are on different scales, so no score statistic
    assert FW_SCALE_NOTE in result.notes and not set(SCORE_STATS) & set(stats)
    np.testing.assert_array_equal(stats["p_top_10"], (good <= 10).mean(axis=0))

    # The choices move ranks, yet the 5–95 % interval holds the nominal rank for most provinces.
    nominal = result.nominal_rank
    assert (stats["rank_p95"] > stats["rank_p05"]).sum() > 50
    inside = (stats["rank_p05"] <= nominal) & (nominal <= stats["rank_p95"])
    assert inside.mean() >= 0.9

    # P(rank ≤ k) rises with k, from a share of 1 / 63 at k = 1 (no ties) to 1 at k = 63.
    shares = np.array([stats[f"p_top_{k}"] for k in (1, 3, 5, 10, 20, 63)])
    assert (np.diff(shares, axis=0) >= 0).all() and (np.diff(shares, axis=0) > 0).any()
    np.testing.assert_array_equal(shares[-1], 1.0)
    assert shares[0].sum() == pytest.approx(1.0)

    rows = uncertainty_records(result)
    assert [r["nominal_rank"] for r in rows] == sorted(r["nominal_rank"] for r in rows)
    assert all(r[key] is None for r in rows for key in SCORE_STATS)
    first = result.units.index(rows[0]["code"])
    assert nominal[first] == 1
    assert rows[0]["p_top_1"] == round(float(stats["p_top_1"][first]), 6)
    assert rows[0]["rank_p95"] == int(stats["rank_p95"][first])


# --------------------------------------------------------------------- hand-checked statistics

def test_statistics_equal_a_hand_enumeration_on_three_units():
    """a = (3, 2, 1), b = (1, 3, 2) for x, y, z; the choice drops a or b.  Dropping a ranks by b:
    x 3rd, y 1st, z 2nd; dropping b ranks by a: x 1st, y 2nd, z 3rd.  A scrambled Sobol' design
    of 8 points puts exactly 4 in each half of [0, 1), so each alternative is taken 4 times."""
    fw = framework_from_dict({"id": "hand", "precision": 4, "nodes": [
        {"code": "a", "name_vi": "a", "parents": ["R"], "weight": 1},
        {"code": "b", "name_vi": "b", "parents": ["R"], "weight": 1},
        {"code": "R", "name_vi": "R", "type": "aggregate", "level": 2}]})
    data = Dataset(("x", "y", "z"), ("a", "b"), np.array([[3.0, 1.0], [2.0, 3.0], [1.0, 2.0]]))
    recipe = Recipe(normalise=NormaliseSpec("none"), aggregate=AggregateSpec("arithmetic"))
    spec = AnalysisSpec.from_dict({"runs": 8, "seed": 4, "design": "sobol",
                                   "rank_thresholds": [1, 2, 3],
                                   "choices": [{"name": "exclude", "alternatives": ["a", "b"]}]},
                                  framework=fw)
    result = uncertainty(data, fw, recipe, spec)
    assert sorted(s[0] for s in result.samples) == [("a",)] * 4 + [("b",)] * 4
    assert result.nominal_rank.tolist() == [2, 1, 3]   # means 2, 2.5, 1.5: x, y, z
    # ranks sorted per unit: x 1 1 1 1 3 3 3 3; y 1 1 1 1 2 2 2 2; z 2 2 2 2 3 3 3 3.
    # median at position 3.5 (halfway between the 4th and 5th); p05 at 0.35; p95 at 6.65.
    expected = {
        "median_rank": [2.0, 1.5, 2.5], "mean_rank": [2.0, 1.5, 2.5],
        "rank_p05": [1.0, 1.0, 2.0], "rank_p95": [3.0, 2.0, 3.0],
        "p_top_1": [0.5, 0.5, 0.0], "p_top_2": [0.5, 1.0, 0.5], "p_top_3": [1.0, 1.0, 1.0],
        # scores: the value of the indicator kept — x 1 or 3, y 3 or 2, z 2 or 1
        "score_mean": [2.0, 2.5, 1.5], "score_p05": [1.0, 2.0, 1.0],
        "score_p95": [3.0, 3.0, 2.0],
    }
    for key, values in expected.items():
        np.testing.assert_array_equal(result.stats[key], values, err_msg=key)
    rows = uncertainty_records(result)
    assert [(r["code"], r["nominal_rank"], r["median_rank"], r["rank_p95"], r["p_top_1"])
            for r in rows] == [("y", 1, 1.5, 2, 0.5), ("x", 2, 2.0, 3, 0.5), ("z", 3, 2.5, 3, 0.0)]


# ------------------------------------------------------------------------------ spec problems

def test_an_invalid_spec_lists_every_problem_with_its_place():
    raw = {"runs": 0, "design": "latin", "choices": [
        {"name": "weights", "noise": 1.5},
        {"name": "normalise.colour", "alternatives": ["red"]},
        {"name": "exclude", "alternatives": ["none", "NOPE"]},
        {"name": "treat.max_points", "alternatives": [1, 2], "range": [1, 5]},
        {"alternatives": [1]},
    ]}
    with pytest.raises(AnalysisSpecError) as caught:
        AnalysisSpec.from_dict(raw, file="spec.yaml", framework=FW)
    problems = caught.value.problems
    assert all(p.code.startswith("analysis.") and p.file == "spec.yaml" for p in problems)
    assert {(p.code, p.column) for p in problems} == {
        ("analysis.bad_runs", "runs"), ("analysis.bad_design", "design"),
        ("analysis.bad_choice", "choices[0]"), ("analysis.bad_choice", "choices[1]"),
        ("analysis.bad_choice", "choices[2]"), ("analysis.bad_choice", "choices[3]"),
        ("analysis.bad_choice", "choices[4]"),
    }
    assert "NOPE" in next(p.message for p in problems if p.column == "choices[2]")
    with pytest.raises(AnalysisSpecError) as empty:
        AnalysisSpec.from_dict({"choices": []})
    assert [p.code for p in empty.value.problems] == ["analysis.no_choices"]


def test_an_alternative_the_recipe_rejects_is_caught_when_the_spec_is_read():
    with pytest.raises(AnalysisSpecError) as caught:
        spec_of([{"name": "normalise.method", "alternatives": ["minmax", "banana"]}], 50)
    assert [(p.code, p.column) for p in caught.value.problems] == [
        ("analysis.bad_choice", "choices[0]")]
    assert caught.value.problems[0].message.startswith(
        "alternative 'banana' of 'normalise.method': normalise.method is 'banana'; choose one of")


# ------------------------------------------------------------------- against plain builds

def test_dropping_a_node_equals_a_build_with_recipe_exclude():
    spec = spec_of([{"name": "exclude", "alternatives": ["none", "HDXHS", "NEN_TANG"]}], 60)
    result = uncertainty(DATA, FW, NOMINAL, spec)
    assert {s[0] for s in result.samples} == {(), ("HDXHS",), ("NEN_TANG",)}
    builds = {drop: build(DATA, FW, replace(NOMINAL, exclude=drop))
              for drop in ((), ("HDXHS",), ("NEN_TANG",))}
    assert not np.array_equal(builds[("HDXHS",)].rank(), builds[()].rank())
    for r, (drop,) in enumerate(result.samples):
        np.testing.assert_allclose(result.scores[r], builds[drop].score(), rtol=0, atol=1e-12)
        np.testing.assert_array_equal(result.ranks[r], builds[drop].rank())


def per_run_builds(data, fw, runs, codes, r):
    """One run as a plain build: its recipe with each weighted node's weight × its multiplier."""
    recipe = runs.combinations[runs.combination_of_run[r]]
    weights = {}
    for j, code in enumerate(codes):
        node = fw[code]
        if node.parents and runs.multipliers is not None:
            weights[code] = node.effective_weight(recipe.aggregate.method) * runs.multipliers[r, j]
    return build(data, fw, with_weights(recipe, weights))


@pytest.mark.parametrize("missing, screen", [(0, None), (25, 0.85)])
def test_the_batched_path_equals_a_build_loop_on_random_runs(missing, screen):
    """Weights noise and all four choices plus dropping a node, on the DTI DAG; with missing
    cells (no imputation, so aggregates renormalise over present children and a screened-out
    province is left unranked) and without."""
    data = dti_data(7, missing)
    recipe = replace(NOMINAL, screen=ScreenSpec(screen), aggregate=AggregateSpec("arithmetic"))
    spec = spec_of(FOUR_CHOICES + [{"name": "exclude", "alternatives": ["none", "ATTT", "HOAT_DONG"]}],
                   20, seed=31)
    rng = np.random.default_rng(spec.seed)
    codes = compile_plan(FW, recipe).codes
    runs = runs_from_inputs(sample_design(spec, 20, rng), spec, recipe, codes, FW, rng,
                            fresh_weights=True)
    outputs = ("DTI", "NEN_TANG", "HOAT_DONG", "CQS", "HDKTS")
    result = evaluate(data, FW, runs.combinations, runs.combination_of_run, runs.multipliers,
                      outputs)
    assert not result.failed.any()
    geometric = [r for r in range(20)
                 if runs.combinations[runs.combination_of_run[r]].aggregate.method == "geometric"]
    assert 0 < len(geometric) < 20
    for r in range(20):
        plain = per_run_builds(data, FW, runs, codes, r)
        for code in outputs:
            np.testing.assert_allclose(result.scores[code][r], plain.score(code), rtol=0,
                                       atol=1e-12, err_msg=f"run {r} {code}")
            np.testing.assert_array_equal(result.ranks[code][r], plain.rank(code),
                                          err_msg=f"run {r} {code}")
    if screen:
        assert np.isnan(result.ranks["DTI"]).any(axis=1).all()


def three_level_framework() -> tuple:
    """8 indicators → 3 sub-pillars → root, which also has a data child (i7, the one indicator
    without goalposts)."""
    nodes = [{"code": f"i{j}", "name_vi": f"i{j}", "parents": [f"S{j % 3}"],
              "weight": 1 + j % 4, "direction": -1 if j == 5 else 1, "goalposts": [0, 20]}
             for j in range(7)]
    nodes.append({"code": "i7", "name_vi": "i7", "parents": ["T"], "weight": 2})  # no goalposts
    nodes += [{"code": f"S{k}", "name_vi": f"S{k}", "type": "aggregate", "level": 2,
               "parents": ["T"], "weight": k + 1} for k in range(3)]
    nodes.append({"code": "T", "name_vi": "T", "type": "aggregate", "level": 3})
    fw = framework_from_dict({"id": "three", "precision": 4, "nodes": nodes})
    rng = np.random.default_rng(9)
    values = rng.normal(10, 3, size=(40, 8))
    values[rng.random(values.shape) < 0.06] = np.nan
    values[3, 2] = values[:, 2].min() - 1   # a zero after min-max: geometric means meet 0
    data = Dataset(tuple(f"u{i:02d}" for i in range(40)), tuple(f"i{j}" for j in range(8)), values)
    return fw, data


@pytest.mark.parametrize("method", ["arithmetic", "geometric", "harmonic", "generalised"])
def test_evaluate_equals_builds_with_zero_multipliers_and_mixed_children(method):
    """Multipliers straight into evaluate (zeros drop a child in that run), an aggregate whose
    children are data and aggregates together, missing cells, z-scores (negatives) and zeros."""
    fw, data = three_level_framework()
    rng = np.random.default_rng(12)
    recipes = [Recipe(normalise=NormaliseSpec(norm), aggregate=AggregateSpec(method, p=0.5,
                                                                             min_availability=m))
               for norm in ("minmax", "zscore") for m in (None, 0.6)]
    codes = compile_plan(fw, recipes[0]).codes
    runs = 24
    which = np.arange(runs) % len(recipes)
    M = rng.uniform(0.5, 1.5, size=(runs, len(codes)))
    M[rng.random(M.shape) < 0.15] = 0.0
    result = evaluate(data, fw, recipes, which, M, ("T", "S0", "S2"))
    for r in range(runs):
        recipe = recipes[which[r]]
        weights = {c: fw[c].effective_weight(method) * M[r, j]
                   for j, c in enumerate(codes) if fw[c].parents}
        plain = build(data, fw, with_weights(recipe, weights))
        for code in ("T", "S0", "S2"):
            np.testing.assert_allclose(result.scores[code][r], plain.score(code), rtol=0,
                                       atol=1e-12, err_msg=f"run {r} {code}")
            np.testing.assert_array_equal(result.ranks[code][r], plain.rank(code),
                                          err_msg=f"run {r} {code}")


def test_evaluate_counts_a_combination_that_cannot_be_built_and_goes_on():
    fw, data = three_level_framework()
    good = Recipe(normalise=NormaliseSpec("minmax"))
    bad = Recipe(impute=replace(Recipe().impute, method="group_mean", group="region"))
    result = evaluate(data, fw, [good, bad], np.array([0, 1, 0, 1, 1]))
    assert result.failed.tolist() == [False, True, False, True, True]
    assert list(result.errors) == [1] and "region" in result.errors[1]
    assert np.isnan(result.scores["T"][result.failed]).all()
    np.testing.assert_allclose(result.scores["T"][0], build(data, fw, good).score(), atol=1e-12)


def test_each_combination_is_checked_like_its_own_build_whatever_the_order():
    """Goalposts normalisation is possible only when i7 (no goalposts) is dropped; the two
    recipes share their pre-aggregation cache, so the check must not depend on which comes first."""
    fw, data = three_level_framework()
    dropped = Recipe(normalise=NormaliseSpec("goalposts"), exclude=("i7",))
    kept = Recipe(normalise=NormaliseSpec("goalposts"))
    with pytest.raises(InputError):
        build(data, fw, kept)
    expected = build(data, fw, dropped).score()
    for combinations, which in (([dropped, kept], [0, 1, 0]), ([kept, dropped], [1, 0, 1])):
        result = evaluate(data, fw, combinations, np.array(which))
        assert result.failed.tolist() == [False, True, False]
        assert list(result.errors) == [combinations.index(kept)]
        assert "i7" in next(iter(result.errors.values()))
        np.testing.assert_allclose(result.scores["T"][0], expected, rtol=0, atol=1e-12)


# ------------------------------------------------------- scores on different scales (review 1)

@pytest.mark.parametrize("choice, changes", [
    ({"name": "normalise.method", "alternatives": ["minmax", "zscore"]}, True),
    ({"name": "normalise", "alternatives": [{"method": "minmax"}, {"method": "ratio"}]}, True),
    ({"name": "normalise.upper", "range": [50, 150]}, True),
    ({"name": "aggregate.method", "alternatives": ["arithmetic", "geometric"]}, False),
    ({"name": "weights", "noise": 0.2}, False),
])
def test_a_choice_of_normalisation_changes_the_scale(choice, changes):
    assert spec_of([choice], 10).changes_scale is changes


def test_scores_on_different_scales_get_no_score_statistics_but_ranks_are_kept():
    """0–1 ratios against 0–100 min-max: a mean of the two would be meaningless."""
    choice = {"name": "normalise.method", "alternatives": ["ratio", "minmax"]}
    result = uncertainty(DATA, FW, NOMINAL, spec_of([choice], 64))
    by_method = {s[0] for s in result.samples}
    assert by_method == {"ratio", "minmax"}
    assert np.nanmax(result.scores) > 10 > np.nanmin(result.scores[[s[0] == "ratio"
                                                                   for s in result.samples]])
    assert not set(SCORE_STATS) & set(result.stats)
    assert result.notes == (FW_SCALE_NOTE,)
    rows = uncertainty_records(result)
    assert all(r["score_mean"] is None and r["score_p05"] is None and r["score_p95"] is None
               and r["median_rank"] is not None for r in rows)
    # without a normalisation choice the score statistics are there
    same_scale = uncertainty(DATA, FW, NOMINAL, spec_of([{"name": "weights", "noise": 0.2}], 64))
    assert set(SCORE_STATS) <= set(same_scale.stats) and same_scale.notes == ()
    assert uncertainty_records(same_scale)[0]["score_mean"] is not None


# ------------------------------------------- choices that would do nothing (review 3)

@pytest.mark.parametrize("choices, bad, words", [
    ([{"name": "exclude", "alternatives": ["none", "DTI"]}], [0], "cannot drop DTI"),
    # CQS is a parentless aggregate beside the index: dropping it cannot move the DTI rank
    ([{"name": "exclude", "alternatives": ["HDXHS", "CQS"]}], [0], "not below DTI"),
    ([{"name": "weights", "noise": 0.2, "level": 7}], [0], "levels with weighted nodes: 1, 2"),
    ([{"name": "weights", "noise": 0.2, "level": "pillars"}], [0], "whole number"),
    ([{"name": "weights", "noise": 0.2, "level": 2.5}], [0], "whole number"),
    ([{"name": "normalise.method", "alternatives": ["minmax"]},
      {"name": "normalise.method", "alternatives": ["zscore"]}], [1], "appears twice"),
    ([{"name": "exclude", "alternatives": ["HDXHS"]},
      {"name": "exclude", "alternatives": ["NTS"]}], [1], "appears twice (also choices[0])"),
    ([{"name": "weights", "noise": 0.2}, {"name": "weights", "noise": 0.1, "level": 1}], [1],
     "overlaps choices[0]"),
    ([{"name": "weights", "noise": 0.2, "level": 1}, {"name": "weights", "noise": 0.1, "level": 1}],
     [1], "different level"),
    ([{"name": "normalise", "alternatives": [{"method": "minmax"}, {"method": "zscore"}]},
      {"name": "normalise.method", "alternatives": ["rank"]}], [1], "normalise.method is also"),
    ([{"name": "weights", "noise": 0.2, "alternatives": [1, 2]}], [0],
     "alternatives is not a key of a 'weights' choice; use name, noise, level"),
    ([{"name": "aggregate.method", "alternative": ["geometric"]}], [0], "alternative is not"),
])
def test_choices_that_would_silently_do_nothing_are_rejected_where_they_stand(choices, bad, words):
    with pytest.raises(AnalysisSpecError) as caught:
        AnalysisSpec.from_dict({"choices": choices}, file="s.yaml", framework=FW)
    problems = caught.value.problems
    assert [(p.code, p.column) for p in problems] == [("analysis.bad_choice", f"choices[{i}]")
                                                      for i in bad]
    assert words in problems[0].message and problems[0].file == "s.yaml"


def test_weights_on_two_different_levels_are_fine_and_a_level_limits_the_noise():
    spec = spec_of([{"name": "weights", "noise": 0.2, "level": 1},
                    {"name": "weights", "noise": 0.3, "level": 2}], 20)
    assert [c.label() for c in spec.choices] == ["weights ±20% (level 1)", "weights ±30% (level 2)"]
    only_pillars = spec_of([{"name": "weights", "noise": 0.3, "level": 2}], 20)
    codes = compile_plan(FW, NOMINAL).codes
    rng = np.random.default_rng(1)
    runs = runs_from_inputs(sample_design(only_pillars, 20, rng), only_pillars, NOMINAL, codes, FW,
                            rng, fresh_weights=True)
    moved = {c for j, c in enumerate(codes) if (runs.multipliers[:, j] != 1).any()}
    assert moved == {"NEN_TANG", "HOAT_DONG"}


def test_a_spec_read_without_a_framework_is_checked_when_the_analysis_starts():
    spec = AnalysisSpec.from_dict({"runs": 10, "choices": [
        {"name": "exclude", "alternatives": ["none", "DTI"]}]})
    with pytest.raises(AnalysisSpecError) as caught:
        uncertainty(DATA, FW, NOMINAL, spec)
    assert [(p.code, p.column) for p in caught.value.problems] == [
        ("analysis.bad_choice", "choices[0]")]
    # against the node studied: HDXHS is not below CQS, so dropping it cannot move CQS ranks
    spec = AnalysisSpec.from_dict({"runs": 10, "choices": [
        {"name": "exclude", "alternatives": ["none", "HDXHS"]}]}, framework=FW)
    with pytest.raises(AnalysisSpecError, match="not below CQS"):
        uncertainty(DATA, FW, NOMINAL, spec, output="CQS")


# ------------------------------------------------------ spec values that crashed (review 4)

@pytest.mark.parametrize("raw, code, column", [
    ({"rank_thresholds": 5}, "analysis.bad_thresholds", "rank_thresholds"),
    ({"rank_thresholds": [1, 0]}, "analysis.bad_thresholds", "rank_thresholds"),
    ({"rank_thresholds": ["top"]}, "analysis.bad_thresholds", "rank_thresholds"),
    ({"runs": "abc"}, "analysis.bad_runs", "runs"),
    ({"runs": 2.5}, "analysis.bad_runs", "runs"),
    ({"runs": True}, "analysis.bad_runs", "runs"),
    ({"runs": 10_000_001}, "analysis.bad_runs", "runs"),
    ({"seed": -1}, "analysis.bad_seed", "seed"),
    ({"seed": 1.5}, "analysis.bad_seed", "seed"),
    ({"seed": "x"}, "analysis.bad_seed", "seed"),
    ({"run": 100}, "analysis.unknown_key", "run"),
    ({"choices": 5}, "analysis.bad_choice", "choices"),
    ({"choices": [{"name": "normalise.method", "alternatives": "minmax"}]},
     "analysis.bad_choice", "choices[0]"),
    ({"choices": [{"name": "treat.max_points", "range": [1.5, 4]}]},
     "analysis.bad_choice", "choices[0]"),
    ({"choices": [{"name": "normalise.method", "range": [0, 1]}]},
     "analysis.bad_choice", "choices[0]"),
    ({"choices": [{"name": "denominate.enabled", "range": [0, 1]}]},
     "analysis.bad_choice", "choices[0]"),
    ({"choices": [{"name": "aggregate.min_availability", "range": [0.5, 1.2]}]},
     "analysis.bad_choice", "choices[0]"),
    ({"choices": [{"name": "aggregate.min_availability", "range": [-0.5, 0.9]}]},
     "analysis.bad_choice", "choices[0]"),
    ({"choices": [{"name": "treat.max_points", "range": [-1, 3]}]},
     "analysis.bad_choice", "choices[0]"),
    ({"choices": [{"name": "normalise.upper", "range": [150, 50]}]},
     "analysis.bad_choice", "choices[0]"),
    ({"choices": [{"name": "normalise.upper", "range": [50, "inf"]}]},
     "analysis.bad_choice", "choices[0]"),
    ({"choices": [{"name": "exclude", "range": [0, 1]}]}, "analysis.bad_choice", "choices[0]"),
])
def test_spec_values_that_crashed_are_located_problems(raw, code, column):
    raw = {"choices": [{"name": "weights", "noise": 0.1}], **raw}
    with pytest.raises(AnalysisSpecError) as caught:
        AnalysisSpec.from_dict(raw, file="s.yaml", framework=FW)
    assert [(p.code, p.column) for p in caught.value.problems] == [(code, column)]


def test_the_range_ends_name_what_the_recipe_allows():
    with pytest.raises(AnalysisSpecError) as caught:
        spec_of([{"name": "aggregate.min_availability", "range": [0.5, 1.2]}], 10)
    (problem,) = caught.value.problems
    assert problem.message.startswith("range end 1.2 of 'aggregate.min_availability': "
                                      "aggregate.min_availability is a share")
    with pytest.raises(AnalysisSpecError, match="runs must be a whole number from 1 to "
                                                "10,000,000.*memory"):
        spec_of([{"name": "weights", "noise": 0.1}], 10**8)


def test_a_range_on_a_whole_number_field_takes_each_whole_number_equally_often():
    """[1, 5] on treat.max_points: 1, 2, 3, 4, 5 each a fifth of the runs — the same runs as the
    alternatives [1, 2, 3, 4, 5] would give (not rounding, which would halve the ends)."""
    ranged = spec_of([{"name": "treat.max_points", "range": [1, 5]}], 1000, seed=8)
    listed = spec_of([{"name": "treat.max_points", "alternatives": [1, 2, 3, 4, 5]}], 1000, seed=8)
    a, b = (uncertainty(DATA, FW, NOMINAL, s) for s in (ranged, listed))
    taken = [s[0] for s in a.samples]
    assert taken == [s[0] for s in b.samples]
    assert all(type(v) is int for v in taken)
    counts = np.bincount(taken)[1:]
    assert counts.sum() == 1000 and counts.min() > 160
    np.testing.assert_array_equal(a.ranks, b.ranks)
    assert [c.treat.max_points for c in runs_of(ranged).combinations] == [1, 2, 3, 4, 5]


def runs_of(spec, recipe=NOMINAL):
    rng = np.random.default_rng(spec.seed)
    return runs_from_inputs(sample_design(spec, spec.runs, rng), spec, recipe,
                            compile_plan(FW, recipe).codes, FW, rng, fresh_weights=True)


@pytest.mark.parametrize("spec_text, code", [
    ("rank_thresholds: 5\nchoices: [{name: weights, noise: 0.1}]\n", "analysis.bad_thresholds"),
    ("runs: abc\nchoices: [{name: weights, noise: 0.1}]\n", "analysis.bad_runs"),
    ("seed: -1\nchoices: [{name: weights, noise: 0.1}]\n", "analysis.bad_seed"),
    ("choices: [{name: treat.max_points, range: [1.5, 3]}]\n", "analysis.bad_choice"),
    ("choices: [{name: exclude, alternatives: [DTI]}]\n", "analysis.bad_choice"),
])
def test_the_command_line_shows_one_located_line_and_no_traceback(capsys, tmp_path, spec_text,
                                                                  code):
    from dti.cli import main

    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text, encoding="utf-8")
    assert main(["analyse", "uncertainty", "--demo", "--spec", str(spec)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    assert err.startswith("error: spec.yaml, column ") and err.strip().endswith(f"[{code}]")


# ---------------------------------------------------------------- unknown output (review 5)

def test_an_unknown_output_is_an_input_error_naming_the_aggregates_before_any_run():
    spec = spec_of([{"name": "weights", "noise": 0.1}], 10)
    with pytest.raises(InputError) as caught:
        uncertainty(DATA, FW, NOMINAL, spec, output="NOPE")
    (problem,) = caught.value.problems
    assert problem.code == "analysis.unknown_output" and problem.value == "NOPE"
    assert "NEN_TANG, HOAT_DONG, CQS, KTS, XHS, DTI" in problem.message
    with pytest.raises(InputError, match="analysis.unknown_output"):
        evaluate(DATA, FW, [NOMINAL], np.zeros(3, dtype=int), outputs=("DTI", "NOPE"))


def test_only_a_dti_error_makes_runs_fail_a_bug_propagates(monkeypatch):
    fw, data = three_level_framework()

    def broken(*args, **kwargs):
        raise ValueError("a bug, not a failed combination")

    monkeypatch.setattr(batch, "prepare", broken)
    with pytest.raises(ValueError, match="a bug"):
        evaluate(data, fw, [Recipe()], np.zeros(4, dtype=int))


# ------------------------------------------------------ bounded memory of ranges (review 6)

@pytest.mark.parametrize("pool", [False, True])
def test_a_range_on_a_pre_aggregation_field_keeps_few_normalised_matrices(pool, monkeypatch):
    """Every run of normalise.upper is its own combination.  Keeping each one's normalised
    matrix (400 units × 60 indicators = 192 KB) for 300 runs took 58 MB; a group's matrix is now
    dropped once its runs are done, and the thread pool holds chunks of few combinations."""
    import tracemalloc

    if pool:
        monkeypatch.setattr(batch, "WORKERS", 2)
        monkeypatch.setattr(batch, "POOL_CELLS", 0)

    nodes = [{"code": f"i{j}", "name_vi": f"i{j}", "parents": [f"S{j % 4}"], "weight": 1}
             for j in range(60)]
    nodes += [{"code": f"S{k}", "name_vi": f"S{k}", "type": "aggregate", "level": 2,
               "parents": ["T"], "weight": 1} for k in range(4)]
    nodes.append({"code": "T", "name_vi": "T", "type": "aggregate", "level": 3})
    fw = framework_from_dict({"id": "wide", "precision": 4, "nodes": nodes})
    rng = np.random.default_rng(2)
    data = Dataset(tuple(f"u{i:03d}" for i in range(400)), tuple(f"i{j}" for j in range(60)),
                   rng.lognormal(size=(400, 60)))
    spec = AnalysisSpec.from_dict({"runs": 300, "seed": 1, "choices": [
        {"name": "normalise.upper", "range": [50, 150]}, {"name": "weights", "noise": 0.2}]})
    recipe = Recipe(normalise=NormaliseSpec("minmax"))
    tracemalloc.start()
    try:
        result = uncertainty(data, fw, recipe, spec)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not result.failed.any() and len({s[0] for s in result.samples}) == 300
    assert peak < 12 * 2**20, f"peak {peak / 2**20:.1f} MiB"


def test_combinations_sharing_their_stages_before_aggregation_are_prepared_once(monkeypatch):
    """Grouping by the pre-aggregation recipe: aggregation and rank methods, weights and
    exclusions share one preparation however the combinations are interleaved."""
    fw, data = three_level_framework()
    calls: list[str] = []
    real = batch.prepare

    def counted(data, framework, recipe):
        calls.append(recipe.normalise.method)
        return real(data, framework, recipe)

    monkeypatch.setattr(batch, "prepare", counted)
    recipes = [Recipe(normalise=NormaliseSpec(n), aggregate=AggregateSpec(a))
               for a in ("arithmetic", "geometric") for n in ("minmax", "rank")]
    result = evaluate(data, fw, recipes, np.array([0, 1, 2, 3, 3, 2, 1, 0]))
    assert sorted(calls) == ["minmax", "rank"]
    for r, k in enumerate([0, 1, 2, 3, 3, 2, 1, 0]):
        np.testing.assert_allclose(result.scores["T"][r], build(data, fw, recipes[k]).score(),
                                   rtol=0, atol=1e-12)


# ------------------------------------------------- one home for the aggregation rules (review 8)

def test_the_batch_uses_the_engines_aggregation_rules_and_the_engine_has_no_batch_path():
    import inspect

    import dti.engine.aggregate as engine

    assert "multipliers" not in inspect.signature(engine.aggregate).parameters
    source = inspect.getsource(batch)
    for copy in ("1e-12", '"geometric"', '"harmonic"', '"points"', "np.exp(", "np.log("):
        assert copy not in source, copy
    for shared in ("power_of", "transformed", "from_power_mean", "zero_and_negative_rules",
                   "keep_available", "availability_threshold"):
        assert getattr(batch, shared) is getattr(engine, shared)


def test_the_shared_power_mean_rules_on_hand_values():
    from dti.engine.aggregate import (availability_threshold, keep_available, power_of,
                                      transformed, zero_and_negative_rules)

    assert [power_of(m, 0.5) for m in ("points", "arithmetic", "geometric", "harmonic",
                                       "generalised")] == [None, None, 0.0, -1.0, 0.5]
    X = np.array([[4.0, 0.0, -1.0, np.nan]])
    np.testing.assert_array_equal(transformed(X, -1.0, X > 0), [[0.25, 0, 0, 0]])
    out = np.array([2.0, 3.0, 4.0])
    zero, negative = np.array([True, False, False]), np.array([False, False, True])
    np.testing.assert_array_equal(zero_and_negative_rules(out, 0.0, zero, negative),
                                  [0.0, 3.0, np.nan])
    np.testing.assert_array_equal(zero_and_negative_rules(out, 2.0, zero, negative),
                                  [2.0, 3.0, np.nan])            # p > 0: a zero just adds 0
    # a share a rounding hair below 0.7 passes a 0.7 minimum; 0.69 does not; no weight never
    threshold = availability_threshold(0.7)
    kept = keep_available(out, np.array([0.7 - 1e-15, 0.69, 0.0]), np.array([1.0, 1.0, 0.0]),
                          threshold)
    np.testing.assert_array_equal(kept, [2.0, np.nan, np.nan])
    assert 0 < availability_threshold(None) < 1e-11
