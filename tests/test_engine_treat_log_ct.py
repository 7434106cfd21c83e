"""COINr's log fallbacks of the outlier treatment: ``log_ct`` and ``log_ct_plus``.

Every column here fails the JRC test (|skew| ≥ 2 and kurtosis ≥ 3.5, checked in the test) and
``max_points = 0`` sends it straight to the fallback, so the expected values are the formulas
evaluated on the column's min and max, worked out by hand in each test.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from dti.engine import Recipe, TreatSpec
from dti.engine.stats import skew_kurt_excel
from dti.engine.treat import treat
from dti.errors import RecipeError

nan = math.nan
LONG_HIGH_TAIL = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 100.0]   # skew ≈ +3.2
LONG_LOW_TAIL = [-x for x in LONG_HIGH_TAIL]                           # skew ≈ −3.2


def straight_to(fallback: str, **more) -> TreatSpec:
    return TreatSpec(method="jrc", max_points=0, fallback=fallback, **more)


def col(xs: list[float]) -> np.ndarray:
    return np.array(xs, dtype=float)[:, None]


def same(actual, expected) -> None:
    np.testing.assert_allclose(np.asarray(actual, dtype=float), np.asarray(expected, dtype=float),
                               rtol=0, atol=1e-13, equal_nan=True)


def test_the_test_vectors_fail_the_jrc_test():
    s, k = skew_kurt_excel(col(LONG_HIGH_TAIL))
    assert s[0] >= 2 and k[0] >= 3.5
    s, k = skew_kurt_excel(col(LONG_LOW_TAIL))
    assert s[0] <= -2 and k[0] >= 3.5


def test_log_ct_on_a_positive_skew():
    # min 1, max 100: a = 0.01 · 99 = 0.99, so x' = ln(x − 1 + 0.99) = ln(x − 0.01)
    r = treat(col(LONG_HIGH_TAIL), straight_to("log_ct"))
    same(r.values[:, 0], [math.log(v) for v in
                          (0.99, 1.99, 2.99, 3.99, 4.99, 5.99, 6.99, 7.99, 8.99, 99.99)])
    assert r.log_transformed.tolist() == [True] and r.log_forms == ("log_ct",)
    assert (np.diff(r.values[:, 0]) > 0).all()


def test_log_ct_plus_equals_log_ct_on_a_positive_skew():
    a = treat(col(LONG_HIGH_TAIL), straight_to("log_ct"))
    b = treat(col(LONG_HIGH_TAIL), straight_to("log_ct_plus"))
    np.testing.assert_array_equal(a.values, b.values)
    assert b.log_forms == ("log_ct",)


def test_log_ct_on_a_negative_skew_keeps_its_one_form():
    # min −100, max −1: a = 0.99, x' = ln(x + 100 + 0.99); x = −1 → ln(99.99), x = −100 → ln(0.99)
    r = treat(col(LONG_LOW_TAIL), straight_to("log_ct"))
    same(r.values[:, 0], [math.log(v) for v in
                          (99.99, 98.99, 97.99, 96.99, 95.99, 94.99, 93.99, 92.99, 91.99, 0.99)])
    assert r.log_forms == ("log_ct",)
    assert (np.diff(r.values[:, 0]) < 0).all()        # x decreases down the column, so does x'


def test_log_ct_plus_on_a_negative_skew_mirrors():
    # x' = −ln(max + a − x) = −ln(−1 + 0.99 − x) = −ln(−0.01 − x):
    # x = −1 → −ln(0.99), x = −9 → −ln(8.99), x = −100 → −ln(99.99)
    r = treat(col(LONG_LOW_TAIL), straight_to("log_ct_plus"))
    same(r.values[:, 0], [-math.log(v) for v in
                          (0.99, 1.99, 2.99, 3.99, 4.99, 5.99, 6.99, 7.99, 8.99, 99.99)])
    assert r.log_transformed.tolist() == [True] and r.log_forms == ("log_ct_neg",)
    assert (np.diff(r.values[:, 0]) < 0).all()
    # the long low tail is compressed: the skew moves towards 0 (log_ct would stretch it)
    assert abs(r.skew_after[0]) < abs(r.skew_before[0])


def test_log_ct_plus_takes_the_negative_form_at_a_skew_of_exactly_zero():
    # symmetric, so the skew is exactly 0; a skew threshold of 0 lets it fail on kurtosis.
    xs = [-100.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 100.0]
    s, k = skew_kurt_excel(col(xs))
    assert s[0] == 0.0 and k[0] >= 3.5
    # min −100, max 100: a = 2; COINr tests skew > 0, so x' = −ln(100 + 2 − x)
    r = treat(col(xs), straight_to("log_ct_plus", skew=0.0))
    same(r.values[:, 0], [-math.log(102 - x) for x in xs])
    assert r.log_forms == ("log_ct_neg",)
    # the COIN Tool log tests skew ≥ 0: the positive form, ln(x + 100 + 1)
    r = treat(col(xs), straight_to("log", skew=0.0))
    same(r.values[:, 0], [math.log(x + 101) for x in xs])
    assert r.log_forms == ("log",)


@pytest.mark.parametrize("fallback, expected", [
    # the present values are LONG_HIGH_TAIL: min 1, max 100, a = 0.99
    ("log_ct", [math.log(v) for v in (0.99, nan, 1.99, 2.99, 3.99, 4.99, 5.99, 6.99, 7.99,
                                      8.99, nan, 99.99)]),
    ("log_ct_plus", [math.log(v) for v in (0.99, nan, 1.99, 2.99, 3.99, 4.99, 5.99, 6.99, 7.99,
                                           8.99, nan, 99.99)]),
])
def test_nan_cells_stay_nan_and_do_not_move_min_and_max(fallback, expected):
    xs = [1.0, nan, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, nan, 100.0]
    r = treat(col(xs), straight_to(fallback))
    same(r.values[:, 0], expected)


def test_nan_cells_with_a_negative_skew():
    xs = [nan, -1.0, -2.0, -3.0, -4.0, -5.0, -6.0, -7.0, -8.0, -9.0, -100.0, nan]
    r = treat(col(xs), straight_to("log_ct_plus"))
    same(r.values[:, 0], [nan, *(-math.log(v) for v in
                                 (0.99, 1.99, 2.99, 3.99, 4.99, 5.99, 6.99, 7.99, 8.99, 99.99)),
                          nan])


def test_the_fallback_transforms_the_original_column_not_the_winsorised_one():
    # 8 high outliers: 5 winsorised points cannot fix it, so log_ct takes the original values:
    # min 1, max 8000, a = 0.01 · 7999 = 79.99
    x = np.array([*range(1, 101), *(1000.0 * k for k in range(1, 9))])
    r = treat(x[:, None], TreatSpec(method="jrc", max_points=5, fallback="log_ct"))
    assert r.log_transformed[0] and r.n_winsorised[0] == 0 and not r.winsorised.any()
    same(r.values[:, 0], np.log(x - 1 + 79.99))


def test_a_column_that_passes_is_left_alone_and_has_no_form():
    clean = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    X = np.column_stack([clean, [1.0, 1.0, 1.0, 1.0, 1.0, 50.0]])
    r = treat(X, straight_to("log_ct_plus"))
    np.testing.assert_array_equal(r.values[:, 0], clean)
    assert r.log_forms == ("", "log_ct") and r.log_transformed.tolist() == [False, True]
    # the second: min 1, max 50, a = 0.49, so x' = ln(x − 0.51)
    same(r.values[:, 1], [math.log(0.49)] * 5 + [math.log(49.49)])


def test_other_columns_keep_their_own_form():
    X = np.column_stack([LONG_HIGH_TAIL, LONG_LOW_TAIL])
    r = treat(X, straight_to("log_ct_plus"))
    assert r.log_forms == ("log_ct", "log_ct_neg")
    same(r.values[:, 0], np.log(np.array(LONG_HIGH_TAIL) - 0.01))
    same(r.values[:, 1], -np.log(-0.01 - np.array(LONG_LOW_TAIL)))


def test_the_recipe_reads_writes_and_checks_the_new_fallbacks():
    for fallback in ("log_ct", "log_ct_plus"):
        recipe = Recipe.from_dict({"treat": {"method": "jrc", "fallback": fallback}})
        assert recipe.treat.fallback == fallback
        assert Recipe.from_dict(recipe.to_dict()) == recipe
    with pytest.raises(RecipeError) as caught:
        Recipe.from_dict({"treat": {"fallback": "log_CT"}})     # COINr's spelling is not ours
    problem = caught.value.problems[0]
    assert (problem.code, problem.column) == ("recipe.bad_choice", "treat.fallback")
    assert "log_ct_plus" in problem.message
    bad = replace(Recipe(), treat=replace(Recipe().treat, fallback="boxcox"))
    assert [p.column for p in bad.problems()] == ["treat.fallback"]
    with pytest.raises(RecipeError):
        treat(col(LONG_HIGH_TAIL), straight_to("boxcox"))
