"""Each engine stage against hand-computed values on small tables, and golden DTI 2022 figures.

Expected numbers are worked out in the test (literals or plain Python), never taken from the engine.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import replace

import numpy as np
import pytest

from dti.editions import load_edition
from dti.engine import Dataset, Recipe, build, compare, rebase
from dti.engine.denominate import denominate
from dti.engine.impute import impute
from dti.engine.normalise import ColumnInfo, normalise
from dti.engine.rank import descending_ranks, group_ranks, round_half_up
from dti.engine.recipe import (AggregateSpec, DenominateSpec, ImputeSpec, NormaliseSpec, RankSpec,
                               ScreenSpec)
from dti.engine.screen import screen
from dti.framework.load import framework_from_dict
from dti.units import load_crosswalk

nan = math.nan


def column(*xs: float) -> np.ndarray:
    return np.array(xs, dtype=float)[:, None]


def info(n: int = 1, *, direction=1, scale="value", max_points=nan, goal=(nan, nan),
         target=nan) -> ColumnInfo:
    return ColumnInfo(directions=np.full(n, float(direction)), scales=(scale,) * n,
                      max_points=np.full(n, float(max_points)), goal_lower=np.full(n, goal[0]),
                      goal_upper=np.full(n, goal[1]), targets=np.full(n, float(target)))


def same(actual, expected) -> None:
    """Equal within 1e-12, NaN where NaN is expected."""
    np.testing.assert_allclose(np.asarray(actual, dtype=float), np.asarray(expected, dtype=float),
                               rtol=0, atol=1e-12, equal_nan=True)


# ------------------------------------------------------------------------------------ denominate

def test_denominate_divides_scales_and_zero_denominator_gives_nan():
    X = np.array([[10.0, 5.0], [20.0, 6.0], [30.0, 7.0], [nan, 8.0]])
    population = np.array([[200.0], [0.0], [nan], [50.0]])
    out = denominate(X, population, np.array([0, -1]), DenominateSpec(scale=1000.0))
    same(out[:, 0], [10 / 200 * 1000, nan, nan, nan])   # 0 and missing denominators → NaN
    same(out[:, 1], [5, 6, 7, 8])                       # no denominator: untouched
    assert not np.isinf(out).any()
    same(X[:, 0], [10, 20, 30, nan])                    # input not modified


def test_denominate_disabled_returns_values_unchanged():
    X = np.array([[10.0], [20.0]])
    out = denominate(X, np.array([[2.0], [4.0]]), np.array([0]), DenominateSpec(enabled=False))
    same(out, X)


# ---------------------------------------------------------------------------------------- impute

def test_impute_mean_and_median_per_column():
    X = np.array([[1.0, 10.0], [nan, 20.0], [5.0, nan], [6.0, 40.0], [100.0, 50.0]])
    mean, mask = impute(X, ImputeSpec("mean"))
    assert mean[1, 0] == pytest.approx((1 + 5 + 6 + 100) / 4)
    assert mean[2, 1] == pytest.approx((10 + 20 + 40 + 50) / 4)
    assert mask.tolist() == [[False, False], [True, False], [False, True], [False, False],
                             [False, False]]
    median, _ = impute(X, ImputeSpec("median"))
    assert median[1, 0] == pytest.approx((5 + 6) / 2)     # median of 1, 5, 6, 100
    assert median[2, 1] == pytest.approx((20 + 40) / 2)   # median of 10, 20, 40, 50
    same(np.delete(median, [1, 2], axis=0), np.delete(X, [1, 2], axis=0))


def test_impute_group_mean_and_group_median_use_the_units_own_group():
    X = column(1, 2, nan, 9, 10, 30, nan)
    regions = ("north", "north", "north", "south", "south", "south", "south")
    by_mean, mask = impute(X, ImputeSpec("group_mean", "region"), regions)
    assert by_mean[2, 0] == pytest.approx((1 + 2) / 2)
    assert by_mean[6, 0] == pytest.approx((9 + 10 + 30) / 3)
    assert mask[:, 0].tolist() == [False, False, True, False, False, False, True]
    by_median, _ = impute(X, ImputeSpec("group_median", "region"), regions)
    assert by_median[2, 0] == pytest.approx(1.5)
    assert by_median[6, 0] == pytest.approx(10.0)


def test_impute_group_with_no_value_in_the_group_leaves_the_gap():
    X = column(nan, 4, 6)
    out, mask = impute(X, ImputeSpec("group_mean", "region"), ("a", "b", "b"))
    assert math.isnan(out[0, 0]) and not mask[0, 0]


def test_impute_row_mean_within_the_parent_block():
    # columns 0-2 share one parent, 3-4 another
    X = np.array([[1.0, nan, 5.0, 10.0, nan],
                  [nan, nan, nan, 2.0, 4.0]])
    out, mask = impute(X, ImputeSpec("row_mean"), blocks=[np.array([0, 1, 2]), np.array([3, 4])])
    assert out[0, 1] == pytest.approx((1 + 5) / 2)
    assert out[0, 4] == pytest.approx(10.0)
    assert np.isnan(out[1, :3]).all()           # nothing in the block to average
    assert mask.sum() == 2


def test_row_mean_in_a_build_uses_the_framework_parents():
    fw = framework_from_dict({"id": "rows", "nodes": [
        {"code": "a", "name_vi": "a", "parents": ["A"], "weight": 1},
        {"code": "b", "name_vi": "b", "parents": ["A"], "weight": 1},
        {"code": "c", "name_vi": "c", "parents": ["B"], "weight": 1},
        {"code": "A", "name_vi": "A", "type": "aggregate", "level": 2, "parents": ["R"], "weight": 1},
        {"code": "B", "name_vi": "B", "type": "aggregate", "level": 2, "parents": ["R"], "weight": 1},
        {"code": "R", "name_vi": "R", "type": "aggregate", "level": 3}]})
    data = Dataset(("u1", "u2"), ("a", "b", "c"), np.array([[4.0, nan, 100.0], [2.0, 6.0, 8.0]]))
    b = build(data, fw, Recipe(impute=ImputeSpec("row_mean"), normalise=NormaliseSpec("none")))
    assert b.imputed[0, 1] == 4.0                # the mean of its block (a only), not of a and c
    assert b.imputed_mask[0].tolist() == [False, True, False]


# ---------------------------------------------------------------------------------------- screen

def test_screen_at_a_threshold_counts_required_columns_only():
    X = np.array([[1.0, 2.0, 3.0, 4.0, nan],
                  [1.0, nan, 3.0, 4.0, nan],
                  [nan, nan, 3.0, 4.0, 5.0],
                  [nan, nan, nan, 4.0, 5.0]])
    required = np.array([True, True, True, True, False])   # last column does not count
    availability, included = screen(X, ScreenSpec(0.75), required)
    same(availability, [4 / 4, 3 / 4, 2 / 4, 1 / 4])
    assert included.tolist() == [True, True, False, False]   # 0.75 itself passes
    _, everyone = screen(X, ScreenSpec(None), required)
    assert everyone.all()


def test_screened_out_unit_gets_no_score_and_does_not_move_minmax():
    fw = framework_from_dict({"id": "s", "nodes": [
        {"code": "x", "name_vi": "x", "parents": ["R"], "weight": 1},
        {"code": "y", "name_vi": "y", "parents": ["R"], "weight": 1},
        {"code": "R", "name_vi": "R", "type": "aggregate", "level": 2}]})
    data = Dataset(("u1", "u2", "u3", "u4"), ("x", "y"),
                   np.array([[0.0, 10.0], [5.0, 20.0], [10.0, 30.0], [1000.0, nan]]))
    b = build(data, fw, Recipe(screen=ScreenSpec(0.9), normalise=NormaliseSpec("minmax")))
    assert b.included.tolist() == [True, True, True, False]
    # min and max of x over u1..u3 only: 0 and 10
    same(b.normalised[:3, 0], [0, 50, 100])
    same(b.score(), [0, 50, 100, nan])
    same(b.rank(), [3, 2, 1, nan])


# ------------------------------------------------------------------------------------- normalise

def test_ratio_keeps_ratio_scale_and_divides_points_by_max_points():
    X = np.array([[0.8, 15.0], [0.25, 40.0]])
    ci = ColumnInfo(directions=np.array([1.0, 1.0]), scales=("ratio", "points"),
                    max_points=np.array([100.0, 50.0]), goal_lower=np.full(2, nan),
                    goal_upper=np.full(2, nan), targets=np.full(2, nan))
    out = normalise(X, NormaliseSpec("ratio"), ci)
    same(out, [[0.8, 15 / 50], [0.25, 40 / 50]])


def test_minmax_to_0_100_with_negative_direction():
    X = column(2, 4, 10, nan)
    up = normalise(X, NormaliseSpec("minmax"), info())
    same(up[:, 0], [0, (4 - 2) / 8 * 100, 100, nan])
    down = normalise(X, NormaliseSpec("minmax"), info(direction=-1))
    same(down[:, 0], [100, (10 - 4) / 8 * 100, 0, nan])
    scaled = normalise(X, NormaliseSpec("minmax", lower=1, upper=7), info(direction=-1))
    same(scaled[:, 0], [7, 1 + 6 * (10 - 4) / 8, 1, nan])


def test_zscore_uses_the_sample_standard_deviation():
    xs = [2.0, 4.0, 4.0, 6.0]
    mean, sd = statistics.mean(xs), statistics.stdev(xs)     # stdev: n − 1 in the denominator
    out = normalise(column(*xs), NormaliseSpec("zscore"), info())
    same(out[:, 0], [(x - mean) / sd for x in xs])
    shifted = normalise(column(*xs), NormaliseSpec("zscore", mean=100, sd=10), info(direction=-1))
    same(shifted[:, 0], [100 - 10 * (x - mean) / sd for x in xs])


def test_goalposts_clip_to_the_posts():
    X = column(-5, 0, 25, 50, 80)
    out = normalise(X, NormaliseSpec("goalposts"), info(goal=(0.0, 50.0)))
    same(out[:, 0], [0, 0, 50, 100, 100])
    down = normalise(X, NormaliseSpec("goalposts", lower=0, upper=1), info(direction=-1,
                                                                            goal=(0.0, 50.0)))
    same(down[:, 0], [1, 1, 0.5, 0, 0])


def test_distance_to_target_caps_at_the_target():
    X = column(10, 20, 30, 50)
    up = normalise(X, NormaliseSpec("distance_to_target"), info(target=40))
    same(up[:, 0], [0, (20 - 10) / (40 - 10) * 100, (30 - 10) / 30 * 100, 100])
    down = normalise(X, NormaliseSpec("distance_to_target"), info(direction=-1, target=20))
    same(down[:, 0], [100, 100, (50 - 30) / (50 - 20) * 100, 0])


def test_rank_normalisation_averages_ties():
    out = normalise(column(3, 1, 3, 7, nan), NormaliseSpec("rank"), info())
    same(out[:, 0], [2.5, 1, 2.5, 4, nan])
    flipped = normalise(column(3, 1, 3, 7), NormaliseSpec("rank"), info(direction=-1))
    same(flipped[:, 0], [2.5, 4, 2.5, 1])


def test_percentile_uses_the_lowest_rank_of_ties():
    out = normalise(column(3, 1, 3, 7, 9), NormaliseSpec("percentile"), info())
    n = 5
    same(out[:, 0], [(2 - 1) / (n - 1) * 100, 0, (2 - 1) / (n - 1) * 100, 3 / 4 * 100, 100])


def test_percentile_maps_to_the_recipe_bounds():
    out = normalise(column(3, 1, 7), NormaliseSpec("percentile", lower=0, upper=1), info())
    same(out[:, 0], [0.5, 0, 1])


# ------------------------------------------------------------------------------------- aggregate

def tree(method: str | None = None, weights=(2.0, 1.0, 1.0)) -> object:
    nodes = [{"code": c, "name_vi": c, "parents": ["R"], "weight": w}
             for c, w in zip(("a", "b", "c"), weights)]
    nodes.append({"code": "R", "name_vi": "R", "type": "aggregate", "level": 2,
                  **({"method": method} if method else {})})
    return framework_from_dict({"id": "tree", "nodes": nodes})


def aggregate_rows(rows, method="arithmetic", p=1.0, min_availability=None, weights=(2, 1, 1)):
    data = Dataset(tuple(f"u{i}" for i in range(len(rows))), ("a", "b", "c"),
                   np.array(rows, dtype=float))
    recipe = Recipe(normalise=NormaliseSpec("none"),
                    aggregate=AggregateSpec(method, p, min_availability))
    return build(data, tree(weights=weights), recipe).score("R")


def test_points_is_ratio_times_max_points_over_total_points():
    fw = framework_from_dict({"id": "pts", "nodes": [
        {"code": "a", "name_vi": "a", "parents": ["T"], "max_points": 100, "scale": "ratio"},
        {"code": "b", "name_vi": "b", "parents": ["T"], "max_points": 50, "scale": "points"},
        {"code": "z", "name_vi": "z", "parents": ["T"], "max_points": 0, "scored": False,
         "scale": "ratio"},
        {"code": "T", "name_vi": "T", "type": "aggregate", "level": 2, "method": "points"}]})
    data = Dataset(("u1", "u2"), ("a", "b", "z"), np.array([[0.8, 25.0, 0.1], [1.0, 10.0, nan]]))
    b = build(data, fw, Recipe(normalise=NormaliseSpec("ratio"),
                               aggregate=AggregateSpec("points", min_availability=1.0)))
    same(b.score("T"), [(0.8 * 100 + 0.5 * 50) / 150, (1.0 * 100 + 0.2 * 50) / 150])


def test_arithmetic_renormalises_weights_over_available_children():
    out = aggregate_rows([[10, 20, 30], [nan, 20, 30], [nan, nan, nan]])
    same(out, [(2 * 10 + 20 + 30) / 4, (20 + 30) / 2, nan])


def test_geometric_harmonic_and_generalised_means():
    same(aggregate_rows([[8, 1, nan]], "geometric"), [math.exp((2 * math.log(8) + 0) / 3)])
    same(aggregate_rows([[4, 9, 1]], "geometric", weights=(1, 1, 0)), [6.0])
    same(aggregate_rows([[2, 6, 100]], "harmonic", weights=(1, 1, 0)), [2 / (1 / 2 + 1 / 6)])
    same(aggregate_rows([[3, 4, 12]], "generalised", p=2.0),
         [math.sqrt((2 * 9 + 16 + 144) / 4)])
    same(aggregate_rows([[1, 4, nan]], "generalised", p=-1.0), [3 / (2 / 1 + 1 / 4)])


def test_zero_child_gives_zero_not_missing_and_negative_gives_missing():
    # the limit of the geometric/harmonic mean at a zero child is 0; dropping the child instead
    # would let the parent renormalise over the others and *reward* the zero
    same(aggregate_rows([[0, 4, 9]], "geometric"), [0.0])
    same(aggregate_rows([[0, 4, 9]], "harmonic"), [0.0])
    same(aggregate_rows([[0, 4, 9]], "generalised", p=-2.0), [0.0])
    same(aggregate_rows([[0, 4, 9]], "generalised", p=2.0), [math.sqrt((16 + 81) / 4)])
    same(aggregate_rows([[-1, 4, 9]], "geometric"), [nan])


def test_min_availability_is_a_share_of_the_weight():
    rows = [[10, 20, nan],    # available weight 3 of 4 = 0.75
            [nan, 20, 30],    # 2 of 4 = 0.5
            [10, 20, 30]]
    same(aggregate_rows(rows, min_availability=0.6), [(2 * 10 + 20) / 3, nan, 70 / 4])
    same(aggregate_rows(rows, min_availability=0.5), [(2 * 10 + 20) / 3, 25, 70 / 4])


def test_aggregation_over_two_levels_uses_child_aggregates():
    fw = framework_from_dict({"id": "two", "nodes": [
        {"code": "a", "name_vi": "a", "parents": ["A"], "weight": 1},
        {"code": "b", "name_vi": "b", "parents": ["A"], "weight": 3},
        {"code": "c", "name_vi": "c", "parents": ["B"], "weight": 1},
        {"code": "A", "name_vi": "A", "type": "aggregate", "level": 2, "parents": ["R"], "weight": 1},
        {"code": "B", "name_vi": "B", "type": "aggregate", "level": 2, "parents": ["R"], "weight": 4},
        {"code": "R", "name_vi": "R", "type": "aggregate", "level": 3}]})
    data = Dataset(("u",), ("a", "b", "c"), np.array([[4.0, 8.0, 2.0]]))
    b = build(data, fw, Recipe(normalise=NormaliseSpec("none")))
    a_value = (4 + 3 * 8) / 4
    same(b.score("A"), [a_value])
    same(b.score(), [(a_value + 4 * 2) / 5])


# ------------------------------------------------------------------------------------------ rank

def test_competition_and_dense_ranks():
    scores = np.array([0.7, 0.9, 0.8, 0.8, nan, 0.6])
    same(descending_ranks(scores, method="competition")[:, 0], [4, 1, 2, 2, nan, 5])   # "1224"
    same(descending_ranks(scores, method="dense")[:, 0], [3, 1, 2, 2, nan, 4])         # "1223"


def test_ties_are_judged_at_the_published_precision():
    scores = np.array([0.70004, 0.70001, 0.71, 0.69])
    same(descending_ranks(scores, decimals=4)[:, 0], [2, 2, 1, 4])   # both are 0.7000
    same(descending_ranks(scores, decimals=None)[:, 0], [2, 3, 1, 4])
    same(descending_ranks(scores, method="dense", decimals=4)[:, 0], [2, 2, 1, 3])


def test_ranks_within_groups():
    scores = np.array([[0.5], [0.9], [0.7], [0.7], [0.1]])
    labels = ("north", "south", "north", "north", "")
    out = group_ranks(scores, labels, np.ones(5, dtype=bool), "competition", 4)
    same(out[:, 0], [3, 1, 1, 1, nan])                 # an empty label has no group rank
    some = group_ranks(scores, labels, np.array([True, True, False, True, True]), "competition", 4)
    same(some[:, 0], [2, 1, nan, 1, nan])


def test_group_ranks_in_a_build():
    fw = tree()
    data = Dataset(("u1", "u2", "u3", "u4"), ("a", "b", "c"),
                   np.array([[1.0, 1, 1], [2, 2, 2], [3, 3, 3], [4, 4, 4]]),
                   groups={"region": ("N", "S", "N", "S")})
    b = build(data, fw, Recipe(normalise=NormaliseSpec("none"),
                               rank=RankSpec(groups=("region",))))
    same(b.rank(), [4, 3, 2, 1])
    same(b.group_ranks["region"][:, b.index("R")], [2, 2, 1, 1])


@pytest.mark.parametrize(("value", "decimals", "expected"), [
    (0.716355, 4, 0.7164), (0.71635, 4, 0.7164), (0.716349, 4, 0.7163), (0.00005, 4, 0.0001),
    (2.5, 0, 3.0), (0.8001750000000001, 4, 0.8002)])
def test_round_half_up(value, decimals, expected):
    assert round_half_up(np.array([value]), decimals)[0] == pytest.approx(expected, abs=1e-12)


# --------------------------------------------------------------------- golden: DTI 2022 (63 tỉnh)

DA_NANG, QUANG_NINH, HUE, CAN_THO, HCM = "48", "22", "46", "92", "79"


@pytest.fixture(scope="module")
def dti_2022():
    edition = load_edition("dti-province-2022")
    return edition, build(edition.dataset(), edition.framework, edition.recipe)


@pytest.mark.parametrize(("unit", "published"), [
    (DA_NANG, 0.8002), (QUANG_NINH, 0.7024), (HUE, 0.6975), (CAN_THO, 0.6924)])
def test_dti_2022_total_matches_the_published_figure(dti_2022, unit, published):
    edition, b = dti_2022
    assert edition.results().score("DTI", unit) == published
    assert b.published_score()[b.unit_row(unit)] == pytest.approx(published, abs=1e-12)


def test_dti_2022_hcm_computes_7164_where_the_ministry_published_7163(dti_2022):
    # Σ ratio × points / 1000 from HCM's published main indicators is exactly 0.716355, which
    # rounds half-up to 0.7164; the ministry published 0.7163 (its indicator ratios are themselves
    # rounded to 4 decimals, so the unrounded total was probably just below .71635).
    edition, b = dti_2022
    ratios = {"NTS": 0.8917, "TCS": 0.9000, "HTS": 0.8258, "NLS": 0.6267, "ATTT": 0.5580,
              "HDCQS": 0.8406, "HDKTS": 0.7611, "HDXHS": 0.3590}
    points = {"NTS": 100, "TCS": 100, "HTS": 100, "NLS": 100, "ATTT": 100, "HDCQS": 200,
              "HDKTS": 150, "HDXHS": 150}
    by_hand = sum(ratios[c] * points[c] for c in ratios) / 1000
    assert by_hand == pytest.approx(0.716355, abs=1e-12)
    i = b.unit_row(HCM)
    assert b.score()[i] == pytest.approx(by_hand, abs=1e-12)
    assert b.published_score()[i] == pytest.approx(0.7164, abs=1e-12)
    assert edition.results().score("DTI", HCM) == 0.7163
    assert b.published_score()[i] - edition.results().score("DTI", HCM) == pytest.approx(1e-4)


def test_dti_2022_quang_ninh_pillars(dti_2022):
    edition, b = dti_2022
    i = b.unit_row(QUANG_NINH)
    for pillar, published in (("CQS", 0.7804), ("KTS", 0.7187)):
        assert edition.results().score(pillar, QUANG_NINH) == published
        assert b.published_score(pillar)[i] == pytest.approx(published, abs=1e-12)
    # CQS = (F + 200·HĐCQS) / 700 with F the five foundation indicators' points
    foundation = (0.9581 + 0.9000 + 0.7648 + 0.6250 + 0.5382) * 100
    assert b.score("CQS")[i] == pytest.approx((foundation + 200 * 0.8385) / 700, abs=1e-12)
    assert b.score("KTS")[i] == pytest.approx((foundation + 150 * 0.5904) / 650, abs=1e-12)


def test_dti_2022_ranks_of_the_top_five_match_the_published_ranks(dti_2022):
    edition, b = dti_2022
    for unit in (DA_NANG, HCM, QUANG_NINH, HUE, CAN_THO):
        assert b.rank()[b.unit_row(unit)] == edition.results().rank("DTI", unit)


# --------------------------------------------------------------------------------------- compare

def test_compare_reports_the_rank_change_between_two_builds(dti_2022):
    edition, before = dti_2022
    values = np.array(edition.dataset().values)
    data = edition.dataset()
    values[data.units.index(CAN_THO), data.columns.index("HDXHS")] = 0.9   # was 0.2947
    after = build(replace(data, values=values), edition.framework, edition.recipe)
    change = compare(before, after)
    can_tho_after = 0.692395 + (0.9 - 0.2947) * 150 / 1000               # 0.78319, 2nd
    i = change.units.index(CAN_THO)
    assert change.score_after[i] == pytest.approx(round(can_tho_after, 4), abs=1e-12)
    assert (change.rank_before[i], change.rank_after[i], change.rank_change[i]) == (5, 2, 3)
    moved = {u: change.rank_change[change.units.index(u)] for u in (DA_NANG, HCM, QUANG_NINH, HUE)}
    assert moved == {DA_NANG: 0, HCM: -1, QUANG_NINH: -1, HUE: -1}
    assert not change.rebased


def test_rebase_63_to_34_is_the_plain_mean_of_former_provinces():
    crosswalk = load_crosswalk()
    units = tuple(u for olds in crosswalk.new_to_old.values() for u in olds)
    assert len(units) == 63
    values = np.array([[float(int(u)), nan if u == "49" else 2.0 * int(u)] for u in units])
    data = Dataset(units, ("x", "y"), values, {"region": tuple("R" + u for u in units)})
    out = rebase(data, crosswalk.new_to_old, "provinces-34")
    assert len(out.units) == 34 and out.unit_set == "provinces-34"
    for k, new in enumerate(out.units):
        olds = crosswalk.new_to_old[new]
        assert out.values[k, 0] == pytest.approx(sum(int(o) for o in olds) / len(olds))
        if "49" not in olds:
            assert out.values[k, 1] == pytest.approx(sum(2.0 * int(o) for o in olds) / len(olds))
    da_nang = out.units.index("48")
    assert crosswalk.new_to_old["48"] == ("48", "49")
    # Quảng Nam has no y: the merged Đà Nẵng has none either (never Đà Nẵng's own value alone)
    assert out.values[da_nang, 0] == (48 + 49) / 2 and np.isnan(out.values[da_nang, 1])
    single = next(k for k, u in enumerate(out.units) if len(crosswalk.new_to_old[u]) == 1)
    assert out.groups["region"][single] == "R" + out.units[single]   # one former unit: its label
    assert out.groups["region"][da_nang] == ""                      # labels disagree: no group


def test_compare_across_the_reform_rebases_and_keeps_group_ranks():
    edition = load_edition("dti-province-2022")
    fw = edition.framework
    crosswalk = load_crosswalk()
    units63 = edition.dataset().units
    codes = [n.code for n in fw.data_nodes]
    level = {u: (int(u) % 50) / 50 for u in units63}            # every indicator = the same ratio
    data63 = Dataset(units63, tuple(codes), np.array([[level[u]] * len(codes) for u in units63]),
                     edition.dataset().groups)
    recipe = replace(edition.recipe, rank=RankSpec("competition", 4, ("region",)))
    before = build(data63, fw, recipe)
    data34 = load_edition("dti-province-2024").dataset("provinces-34")
    units34 = data34.units
    after = build(Dataset(units34, tuple(codes), np.full((34, len(codes)), 0.5), data34.groups),
                  fw, recipe)
    change = compare(before, after, new_to_old=crosswalk.new_to_old)
    assert change.rebased
    expected = {new: sum(level[o] for o in olds) / len(olds)
                for new, olds in crosswalk.new_to_old.items()}
    for i, unit in enumerate(change.units):
        assert change.score_before[i] == pytest.approx(round_half_up(
            np.array([expected[unit]]), 4)[0], abs=1e-12)
        assert change.score_after[i] == 0.5
    best = max(expected, key=expected.get)
    assert change.rank_before[change.units.index(best)] == 1


def test_recipe_method_overrides_the_framework_and_keeps_points_as_weights():
    """A variant of the DTI recipe (geometric mean) must change the scores, weighting by points."""
    from dataclasses import replace

    edition = load_edition("dti-province-2022")
    geometric = replace(edition.recipe, aggregate=replace(edition.recipe.aggregate, method="geometric"))
    b = build(edition.dataset(), edition.framework, geometric)
    i = b.units.index("48")
    ratios = {c: edition.results().score(c, "48") for c in
              ("NTS", "TCS", "HTS", "NLS", "ATTT", "HDCQS", "HDKTS", "HDXHS")}
    points = {"NTS": 100, "TCS": 100, "HTS": 100, "NLS": 100, "ATTT": 100, "HDCQS": 200,
              "HDKTS": 150, "HDXHS": 150}
    # DTI = geometric mean of the two groups (500 points each), each the points-weighted
    # geometric mean of its indicators.
    foundation = math.exp(sum(points[c] * math.log(ratios[c]) for c in list(points)[:5]) / 500)
    activity = math.exp(sum(points[c] * math.log(ratios[c]) for c in list(points)[5:]) / 500)
    expected = math.exp((500 * math.log(foundation) + 500 * math.log(activity)) / 1000)
    assert b.score("DTI")[i] == pytest.approx(expected, abs=1e-12)
    assert b.published_score("DTI")[i] != 0.8002


def test_a_screened_out_unit_fills_no_one_elses_gap():
    fw = framework_from_dict({"id": "t", "nodes": [
        {"code": c, "name_vi": c, "level": 1, "parents": ["T"], "weight": 1} for c in "abc"] + [
        {"code": "T", "name_vi": "T", "type": "aggregate", "level": 2}]})
    recipe = Recipe(impute=ImputeSpec("mean"), screen=ScreenSpec(0.6),
                    normalise=NormaliseSpec("none"))
    rows = ("U1", "U2", "U3", "U4")
    values = np.array([[1.0, 2.0, 3.0], [nan, 4.0, 5.0], [5.0, 6.0, 7.0], [1000.0, nan, nan]])
    b = build(Dataset(rows, tuple("abc"), values), fw, recipe)
    # U2 has 2 of 3 values (kept, its gap imputed); U4 has 1 of 3 (screened out)
    assert b.included.tolist() == [True, True, True, False]
    assert b.imputed[1, 0] == pytest.approx((1.0 + 5.0) / 2)   # U4's 1000 is not in the mean
    assert b.score()[1] == pytest.approx((3.0 + 4.0 + 5.0) / 3)
    assert np.isnan(b.imputed[3, 1])                            # U4's own gaps stay empty


def test_ties_are_recognised_without_a_published_precision():
    scores = np.array([[0.1 + 0.1], [0.3 - 0.1], [0.1]])   # 0.2, 0.19999999999999998, 0.1
    assert scores[0, 0] != scores[1, 0]
    assert descending_ranks(scores, None, "competition", None).ravel().tolist() == [1, 1, 3]
