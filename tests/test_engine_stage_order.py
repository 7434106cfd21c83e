"""Where screening happens: ``screen.after`` (COINr's build order is denominate → impute → screen).

One hand-built table of six units, three indicators and two regions; the expected units and
values are worked out in each test from the table below.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from dti.analysis.batch import evaluate
from dti.analysis.spec import AnalysisSpec
from dti.analysis.uncertainty import uncertainty
from dti.cli import main
from dti.engine import Dataset, Recipe, build
from dti.engine.recipe import ImputeSpec, ScreenSpec, TreatSpec
from dti.errors import RecipeError
from dti.framework.load import framework_from_dict

nan = math.nan
UNITS = ("u1", "u2", "u3", "u4", "u5", "u6")
#                  x     y       z
TABLE = np.array([[1.0, 10.0, 5.0],      # region A
                  [2.0, 20.0, 6.0],      # A
                  [3.0, 30.0, 7.0],      # A
                  [4.0, nan, 8.0],       # A: y imputed from A = mean(10, 20, 30) = 20
                  [nan, 5000.0, 9.0],    # B: no one in B has x, so x stays empty
                  [nan, 60.0, nan]])     # B: z imputed from B = 9; x stays empty
REGIONS = ("A", "A", "A", "A", "B", "B")
# Availability before imputing: 1, 1, 1, 2/3, 2/3, 1/3; after: 1, 1, 1, 1, 2/3, 2/3.
FRAMEWORK = framework_from_dict({"id": "order", "precision": 4, "nodes": [
    {"code": "x", "name_vi": "x", "parents": ["R"], "weight": 1},
    {"code": "y", "name_vi": "y", "parents": ["R"], "weight": 1},
    {"code": "z", "name_vi": "z", "parents": ["R"], "weight": 1},
    {"code": "R", "name_vi": "R", "type": "aggregate", "level": 2}]})
DATA = Dataset(UNITS, ("x", "y", "z"), TABLE, {"region": REGIONS})


def recipe(after: str, **more) -> Recipe:
    return Recipe(impute=ImputeSpec("group_mean", "region"),
                  screen=ScreenSpec(min_availability=0.9, after=after), **more)


def same(actual, expected) -> None:
    np.testing.assert_allclose(np.asarray(actual, dtype=float), np.asarray(expected, dtype=float),
                               rtol=0, atol=1e-12, equal_nan=True)


def test_screening_before_imputation_keeps_the_three_complete_units():
    b = build(DATA, FRAMEWORK, recipe("denominate"))
    assert b.included.tolist() == [True, True, True, False, False, False]
    same(b.availability, [1, 1, 1, 2 / 3, 2 / 3, 1 / 3])
    assert not b.imputed_mask.any()                  # screened-out units are not imputed
    # x, y, z over u1..u3 are each 0, 50, 100 after min-max; R is their mean
    same(b.score(), [0, 50, 100, nan, nan, nan])
    same(b.rank(), [3, 2, 1, nan, nan, nan])
    assert b.stages == ("denominate", "screen", "impute", "treat", "normalise", "aggregate",
                        "rank")


def test_screening_after_imputation_keeps_the_imputed_unit_too():
    b = build(DATA, FRAMEWORK, recipe("impute"))
    assert b.included.tolist() == [True, True, True, True, False, False]
    same(b.availability, [1, 1, 1, 1, 2 / 3, 2 / 3])
    # everyone was imputed, the dropped u6 too, before screening
    assert b.imputed[3, 1] == 20.0 and b.imputed[5, 2] == 9.0
    assert b.imputed_mask[3].tolist() == [False, True, False]
    # min-max over u1..u4 only: x 1..4, y 10..30 (u4: 20), z 5..8 (u5's 9 counts for no one)
    same(b.normalised[:4], [[0, 0, 0], [100 / 3, 50, 100 / 3], [200 / 3, 100, 200 / 3],
                            [100, 50, 100]])
    same(b.score(), [0, (100 / 3 + 50 + 100 / 3) / 3, (200 / 3 + 100 + 200 / 3) / 3,
                     250 / 3, nan, nan])
    same(b.rank(), [4, 3, 2, 1, nan, nan])
    assert b.stages == ("denominate", "impute", "screen", "treat", "normalise", "aggregate",
                        "rank")


def test_a_unit_screened_out_after_imputation_does_not_move_the_treatment():
    # u5's y of 5000 would make y fail the JRC test; over u1..u4 (10, 20, 30, 20) it passes.
    treat = TreatSpec(method="jrc", max_points=0, fallback="log_ct")
    b = build(DATA, FRAMEWORK, recipe("impute", treat=treat))
    assert not b.treatment.log_transformed.any()
    same(b.normalised[:4, 1], [0, 50, 100, 50])


def test_screening_after_treatment_treats_every_unit_first():
    # y over all six units (10, 20, 30, 20, 5000, 60) fails; log_ct with min 10, max 5000:
    # a = 0.01 · 4990 = 49.9, y' = ln(y − 10 + 49.9).  Min-max then over u1..u4 only.
    treat = TreatSpec(method="jrc", max_points=0, fallback="log_ct")
    b = build(DATA, FRAMEWORK, recipe("treat", treat=treat))
    assert b.included.tolist() == [True, True, True, True, False, False]
    assert b.treatment.log_forms == ("", "log_ct", "")
    low, mid, high = math.log(49.9), math.log(59.9), math.log(69.9)
    same(b.normalised[:4, 1], [0, 100 * (mid - low) / (high - low), 100, 100 * (mid - low) /
                               (high - low)])
    assert b.stages[:4] == ("denominate", "impute", "treat", "screen")


def test_screening_after_normalisation_normalises_every_unit_first():
    # z over all six (5, 6, 7, 8, 9, 9 imputed): min 5, max 9, so u4's 8 is 75, not 100
    b = build(DATA, FRAMEWORK, recipe("normalise"))
    assert b.included.tolist() == [True, True, True, True, False, False]
    same(b.normalised[:4, 2], [0, 25, 50, 75])
    same(b.score()[4:], [nan, nan])


def test_screening_on_the_raw_data_ignores_a_missing_denominator():
    fw = framework_from_dict({"id": "per-head", "nodes": [
        {"code": "pop", "name_vi": "pop", "type": "denominator"},
        {"code": "x", "name_vi": "x", "parents": ["R"], "weight": 1, "denominator": "pop"},
        {"code": "y", "name_vi": "y", "parents": ["R"], "weight": 1},
        {"code": "R", "name_vi": "R", "type": "aggregate", "level": 2}]})
    data = Dataset(("u1", "u2", "u3"), ("pop", "x", "y"),
                   np.array([[10.0, 1.0, 1.0], [20.0, 4.0, 2.0], [nan, 9.0, 3.0]]))
    raw = build(data, fw, Recipe(screen=ScreenSpec(0.9, "raw")))
    denominated = build(data, fw, Recipe(screen=ScreenSpec(0.9)))
    assert raw.included.tolist() == [True, True, True]          # x is there as read
    assert denominated.included.tolist() == [True, True, False]  # x / missing pop is empty
    assert raw.stages[:2] == ("screen", "denominate")


def test_without_a_threshold_no_order_drops_anyone():
    for after in ("raw", "denominate", "impute", "treat", "normalise"):
        b = build(DATA, FRAMEWORK, replace(recipe(after), screen=ScreenSpec(None, after)))
        assert b.included.all(), after


def test_the_default_order_is_unchanged():
    assert ScreenSpec().after == "denominate"
    assert Recipe.from_dict({"screen": {"min_availability": 0.9}}).screen.after == "denominate"
    a = build(DATA, FRAMEWORK, recipe("denominate"))
    b = build(DATA, FRAMEWORK, Recipe(impute=ImputeSpec("group_mean", "region"),
                                      screen=ScreenSpec(0.9)))
    np.testing.assert_array_equal(a.values, b.values)


def test_the_recipe_round_trips_the_screening_position():
    read = Recipe.from_dict({"screen": {"min_availability": 0.9, "after": "impute"},
                             "treat": {"method": "jrc", "fallback": "log_ct"}})
    assert read.screen == ScreenSpec(0.9, "impute")
    written = read.to_dict()
    assert written["screen"] == {"min_availability": 0.9, "after": "impute"}
    assert Recipe.from_dict(written) == read


@pytest.mark.parametrize("after", ["aggregate", "rank", "Impute", "imputed"])
def test_an_unknown_or_refused_position_is_a_located_recipe_error(after):
    with pytest.raises(RecipeError) as caught:
        Recipe.from_dict({"screen": {"min_availability": 0.9, "after": after}}, file="R.yaml")
    [problem] = caught.value.problems
    assert (problem.code, problem.column, problem.file) == ("recipe.bad_choice", "screen.after",
                                                            "R.yaml")
    assert "denominate" in problem.message and "impute" in problem.message
    with pytest.raises(RecipeError):
        build(DATA, FRAMEWORK, replace(recipe("impute"), screen=ScreenSpec(0.9, after)))


def test_the_batched_path_follows_the_screening_position():
    orders = [recipe("denominate"), recipe("impute")]
    batch = evaluate(DATA, FRAMEWORK, orders, np.array([0, 1, 1]), outputs=("R",))
    assert not batch.failed.any()
    for run, k in enumerate([0, 1, 1]):
        one = build(DATA, FRAMEWORK, orders[k])
        same(batch.scores["R"][run], one.score("R"))
        same(batch.ranks["R"][run], one.rank("R"))


def test_an_analysis_varying_the_new_choices_gives_the_same_bytes_for_the_same_seed():
    spec = AnalysisSpec.from_dict({"runs": 64, "seed": 7, "choices": [
        {"name": "weights", "noise": 0.25},
        {"name": "screen.after", "alternatives": ["denominate", "impute"]},
        {"name": "treat.fallback", "alternatives": ["log", "log_ct", "log_ct_plus"]}]},
        framework=FRAMEWORK)
    # the nominal screens first: a run that drops a unit the nominal scores counts as failed
    nominal = recipe("denominate", treat=TreatSpec(method="jrc", max_points=0))

    def run(seed: int) -> bytes:
        r = uncertainty(DATA, FRAMEWORK, nominal, replace(spec, seed=seed))
        assert not r.failed.any()
        return b"|".join([r.ranks.tobytes(), r.scores.tobytes(), repr(r.samples).encode()])

    first = run(7)
    assert run(7) == first
    assert run(8) != first
    # both positions were drawn, and they keep different units (u4 is ranked only after imputing)
    r = uncertainty(DATA, FRAMEWORK, nominal, spec)
    kept_u4 = ~np.isnan(r.ranks[:, 3])
    assert kept_u4.any() and not kept_u4.all()


# ------------------------------------------------------------------ COINr's own tables (ASEM)

ASEM = Path(__file__).parent / "data" / "coinr-asem"
COINR_ORDER = """\
impute: {method: group_mean, group: EurAsia_group}
screen: {min_availability: 0.9, after: impute}
treat: {method: jrc, max_points: 5, fallback: log_ct}
normalise: {method: minmax, lower: 0, upper: 100}
aggregate: {method: arithmetic}
"""


def asem_results(tmp_path: Path, capsys, recipe_text: str) -> dict:
    (tmp_path / "R.yaml").write_text(recipe_text, encoding="utf-8")
    out = tmp_path / "out.json"
    code = main(["compute", "--framework", str(ASEM / "ASEM_iMeta.csv"),
                 "--data", str(ASEM / "ASEM_iData.csv"), "--recipe", str(tmp_path / "R.yaml"),
                 "-f", "json", "--lang", "en", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.mark.skipif(not ASEM.is_dir(), reason="COINr's ASEM tables are not in tests/data")
def test_coinr_build_order_keeps_all_51_asem_units(tmp_path, capsys):
    coinr = asem_results(tmp_path, capsys, COINR_ORDER)
    assert coinr["recipe"]["screen"] == {"min_availability": 0.9, "after": "impute"}
    assert len(coinr["results"]) == 51
    assert all(r["included"] and r["scores"]["Index"] is not None for r in coinr["results"])
    # screening first (COINr's example purse screens the raw data) keeps 46, as COINr reports
    first = asem_results(tmp_path, capsys, COINR_ORDER.replace("after: impute", "after: raw"))
    assert sum(r["included"] for r in first["results"]) == 46
