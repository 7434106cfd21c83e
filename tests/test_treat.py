"""Excel-style skew/kurtosis and the JRC/COINr outlier treatment."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, seed, settings
from hypothesis import strategies as st

from dti.engine.recipe import TreatSpec
from dti.engine.stats import kurt_excel, skew_excel, skew_kurt_excel
from dti.engine.treat import Treatment, treat
from dti.errors import ComputeError, RecipeError

JRC = TreatSpec(method="jrc")


# --------------------------------------------------------------------------- plain-Python oracle

def py_skew(xs: list[float]) -> float:
    n = len(xs)
    m = sum(xs) / n
    s = math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1))
    return n / ((n - 1) * (n - 2)) * sum(((x - m) / s) ** 3 for x in xs)


def py_kurt(xs: list[float]) -> float:
    n = len(xs)
    m = sum(xs) / n
    s = math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1))
    return (n * (n + 1) / ((n - 1) * (n - 2) * (n - 3)) * sum(((x - m) / s) ** 4 for x in xs)
            - 3 * (n - 1) ** 2 / ((n - 2) * (n - 3)))


def col(*xs: float) -> np.ndarray:
    return np.array(xs, dtype=float)[:, None]


# --------------------------------------------------------------------------- stats

SMALL = [
    [1.0, 2.0, 3.0, 4.0, 10.0],
    [3.0, -1.0, 4.0, 1.0, -5.0, 9.0, 2.0, 6.0],
    [0.5, 0.25, 0.125, 8.0],
    [10.0, 10.0, 10.0, 11.0, 200.0, -3.0],
    [-7.0, 2.5, 2.5, 2.5, 3.0, 100.0, 1e-3],
]


@pytest.mark.parametrize("xs", SMALL)
def test_skew_and_kurt_match_the_excel_formula(xs):
    assert skew_excel(np.array(xs)) == pytest.approx(py_skew(xs), rel=1e-12, abs=1e-12)
    assert kurt_excel(np.array(xs)) == pytest.approx(py_kurt(xs), rel=1e-12, abs=1e-12)


def test_known_excel_results():
    # SKEW({1,2,3,4,10}) and KURT({1,2,3,4,10}) as Excel computes them.  By hand: mean 4,
    # deviations -3,-2,-1,0,6, Σd² = 50, Σd³ = 180, Σd⁴ = 1394, s² = 12.5, so
    # SKEW = 5/12 · 180 / 12.5^1.5 = 1.2·√2 and KURT = 1.25 · 1394/156.25 − 8 = 3.152.
    x = np.array([1.0, 2.0, 3.0, 4.0, 10.0])
    assert skew_excel(x) == pytest.approx(1.6970562748477141, rel=1e-12)
    assert skew_excel(x) == pytest.approx(1.2 * math.sqrt(2), rel=1e-12)
    assert kurt_excel(x) == pytest.approx(3.152, rel=1e-12)


def test_stats_per_column_ignore_nan():
    cols = [SMALL[1], SMALL[3] + [np.nan, np.nan], [np.nan] + SMALL[4] + [np.nan]]
    n = max(len(c) for c in cols)
    X = np.full((n, len(cols)), np.nan)
    for j, c in enumerate(cols):
        X[: len(c), j] = c
    skew, kurt = skew_kurt_excel(X)
    for j, c in enumerate(cols):
        clean = [v for v in c if not math.isnan(v)]
        assert skew[j] == pytest.approx(py_skew(clean), rel=1e-12)
        assert kurt[j] == pytest.approx(py_kurt(clean), rel=1e-12)
    np.testing.assert_array_equal(skew, skew_excel(X))
    np.testing.assert_array_equal(kurt, kurt_excel(X))
    assert skew.shape == kurt.shape == (3,)


def test_stats_nan_for_too_few_values_or_zero_variance():
    assert np.isnan(skew_excel(np.array([1.0, 2.0])))
    assert skew_excel(np.array([1.0, 2.0, 4.0])) == pytest.approx(py_skew([1.0, 2.0, 4.0]))
    assert np.isnan(kurt_excel(np.array([1.0, 2.0, 4.0])))
    assert np.isnan(skew_excel(np.array([1.0, np.nan, 2.0, np.nan])))
    # constant columns, including one whose mean is not exactly representable
    X = np.column_stack([np.full(7, 0.1), np.full(7, 5.0), [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 9.0]])
    skew, kurt = skew_kurt_excel(X)
    assert np.isnan(skew[:2]).all() and np.isnan(kurt[:2]).all()
    assert np.isfinite(skew[2]) and np.isfinite(kurt[2])
    assert np.isnan(skew_excel(np.full((5, 1), np.nan))[0])


def test_stats_accept_1d_and_return_a_scalar():
    s = skew_excel([1.0, 2.0, 3.0, 4.0, 10.0])
    assert np.ndim(s) == 0
    with pytest.raises(ValueError):
        skew_excel(np.zeros((2, 2, 2)))


# --------------------------------------------------------------------------- treat: examples

def test_one_huge_outlier_is_winsorised_in_one_step_to_the_next_highest():
    X = col(1, 2, 3, 4, 5, 6, 7, 8, 9, 100)
    r = treat(X, JRC)
    assert isinstance(r, Treatment)
    assert r.skew_before[0] >= 2 and r.kurt_before[0] >= 3.5       # it did fail the test
    expected = X.copy()
    expected[9, 0] = 9.0
    np.testing.assert_array_equal(r.values, expected)
    np.testing.assert_array_equal(r.winsorised[:, 0], np.arange(10) == 9)
    assert r.n_winsorised.tolist() == [1]
    assert r.log_transformed.tolist() == [False]
    assert r.skew_after[0] == pytest.approx(py_skew(list(expected[:, 0])))
    assert r.kurt_after[0] == pytest.approx(py_kurt(list(expected[:, 0])))
    assert r.n_winsorised.dtype.kind == "i" and r.winsorised.dtype == bool


def test_negative_skew_is_treated_on_the_min_side():
    X = -col(1, 2, 3, 4, 5, 6, 7, 8, 9, 100)
    r = treat(X, JRC)
    assert r.skew_before[0] <= -2
    assert r.values[9, 0] == -9.0
    np.testing.assert_array_equal(r.values[:9], X[:9])
    np.testing.assert_array_equal(r.winsorised[:, 0], np.arange(10) == 9)
    assert not r.log_transformed[0]


def test_tied_maxima_are_replaced_together_and_each_counts():
    x = [*range(1, 21), 100, 100]
    r = treat(col(*x), JRC)
    assert r.values[-2:, 0].tolist() == [20.0, 20.0]
    assert r.winsorised[:, 0].tolist() == [False] * 20 + [True, True]
    assert r.n_winsorised[0] == 2


def test_a_tie_that_would_exceed_max_points_is_not_winsorised():
    x = [*range(1, 21), 100, 100]
    r = treat(col(*x), TreatSpec(method="jrc", max_points=1))
    assert r.n_winsorised[0] == 0
    assert r.log_transformed[0]
    np.testing.assert_allclose(r.values[:, 0], np.log(np.array(x) - 1 + 1))


def test_a_cell_winsorised_again_in_a_later_step_counts_once():
    # 800 -> 400; then both 400s -> 200; then the three 200s -> 30: three cells in three steps.
    x = [*range(1, 31), 200, 400, 800]
    r = treat(col(*x), JRC)
    assert r.values[-3:, 0].tolist() == [30.0, 30.0, 30.0]
    assert r.winsorised[:, 0].tolist() == [False] * 30 + [True] * 3
    assert r.n_winsorised[0] == 3
    assert abs(r.skew_after[0]) < 2
    # with max_points = 2 the third step is out of reach: back to the original, logged
    r2 = treat(col(*x), TreatSpec(method="jrc", max_points=2))
    assert r2.log_transformed[0] and r2.n_winsorised[0] == 0


def test_more_than_max_points_falls_back_to_log_of_the_original():
    x = np.array([*range(1, 101), *(1000.0 * k for k in range(1, 9))])
    r = treat(x[:, None], JRC)
    assert r.log_transformed.tolist() == [True]
    assert not r.winsorised.any() and r.n_winsorised[0] == 0
    np.testing.assert_allclose(r.values[:, 0], np.log(x - x.min() + 1))
    assert (np.diff(r.values[:, 0]) > 0).all()                      # order preserved
    assert r.skew_after[0] == pytest.approx(py_skew(list(r.values[:, 0])))


def test_negative_skew_log_fallback_mirrors_and_keeps_the_order():
    x = -np.array([*range(1, 101), *(1000.0 * k for k in range(1, 9))])
    r = treat(x[:, None], JRC)
    assert r.log_transformed[0]
    np.testing.assert_allclose(r.values[:, 0], -np.log(x.max() - x + 1))
    assert (np.diff(r.values[:, 0]) < 0).all()                      # x decreases, so does x'


def test_max_points_zero_goes_straight_to_log():
    r = treat(col(1, 2, 3, 4, 5, 6, 7, 8, 9, 100), TreatSpec(method="jrc", max_points=0))
    assert r.log_transformed[0] and r.n_winsorised[0] == 0


def test_fallback_none_keeps_the_original_and_flags_nothing():
    x = np.array([*range(1, 101), *(1000.0 * k for k in range(1, 9))])
    r = treat(x[:, None], TreatSpec(method="jrc", fallback="none"))
    np.testing.assert_array_equal(r.values[:, 0], x)
    assert not r.log_transformed.any() and not r.winsorised.any()
    assert r.skew_after[0] == r.skew_before[0]


def test_clean_column_is_untouched_next_to_a_treated_one():
    rng = np.random.default_rng(7)
    clean = rng.standard_normal(50)
    dirty = np.r_[np.arange(1.0, 50.0), 1000.0]
    X = np.column_stack([clean, dirty])
    r = treat(X, JRC)
    np.testing.assert_array_equal(r.values[:, 0], clean)
    assert not r.winsorised[:, 0].any() and not r.log_transformed[0]
    assert r.n_winsorised.tolist() == [0, 1]
    assert r.values[49, 1] == 49.0
    assert r.skew_after[0] == r.skew_before[0]


def test_nan_cells_stay_nan_untreated_and_ignored():
    x = np.array([np.nan, 1, 2, 3, np.nan, 4, 5, 6, 7, 8, 9, 100, np.nan])
    r = treat(x[:, None], JRC)
    nan = np.isnan(x)
    assert np.isnan(r.values[nan, 0]).all()
    assert not r.winsorised[nan, 0].any()
    assert r.values[11, 0] == 9.0 and r.winsorised[11, 0] and r.n_winsorised[0] == 1
    assert r.skew_before[0] == pytest.approx(py_skew(list(x[~nan])))


def test_columns_with_fewer_than_four_values_are_left_alone():
    x = np.array([1.0, 1.0, 1000.0, np.nan, np.nan, np.nan])
    r = treat(x[:, None], TreatSpec(method="jrc", skew=0.0, kurtosis=-100.0))
    np.testing.assert_array_equal(r.values[:, 0], x)
    assert not r.winsorised.any() and not r.log_transformed.any()


def test_method_none_is_identity():
    X = np.column_stack([np.r_[np.arange(1.0, 10.0), 100.0], np.arange(10.0)])
    X[3, 1] = np.nan
    r = treat(X, TreatSpec(method="none"))
    np.testing.assert_array_equal(r.values, X)
    assert r.values is not X
    assert not r.winsorised.any() and not r.log_transformed.any()
    assert r.n_winsorised.tolist() == [0, 0]
    np.testing.assert_array_equal(r.skew_after, r.skew_before)


def test_input_is_not_modified_and_directions_do_not_matter():
    X = np.column_stack([np.r_[np.arange(1.0, 10.0), 100.0], -np.r_[np.arange(1.0, 10.0), 100.0]])
    before = X.copy()
    a = treat(X, JRC)
    b = treat(X, JRC, directions=np.array([-1, 1]))
    np.testing.assert_array_equal(X, before)
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.winsorised, b.winsorised)
    with pytest.raises(ValueError):
        treat(X, JRC, directions=np.array([1, 1, 1]))


def test_bad_input_is_refused():
    with pytest.raises(RecipeError):
        treat(col(1, 2, 3), TreatSpec(method="boxcox"))
    with pytest.raises(RecipeError):
        treat(col(1, 2, 3), TreatSpec(method="jrc", fallback="sqrt"))
    with pytest.raises(ComputeError):
        treat(col(1, 2, np.inf, 4), JRC)
    with pytest.raises(ValueError):
        treat(np.arange(5.0), JRC)


# --------------------------------------------------------------------------- treat: properties

# Small integers (many ties) with occasional large outliers on either side, and NaNs.
_CELL = st.one_of(
    st.integers(0, 10).map(float),
    st.integers(0, 10).map(float),
    st.integers(0, 10).map(float),
    st.sampled_from([50.0, 200.0, 1e4, -300.0, -1e4]),
    st.just(np.nan),
)


@st.composite
def matrices(draw):
    n_rows = draw(st.integers(4, 25))
    n_cols = draw(st.integers(1, 3))
    cells = draw(st.lists(_CELL, min_size=n_rows * n_cols, max_size=n_rows * n_cols))
    return np.array(cells).reshape(n_rows, n_cols)


@seed(20240611)
@settings(max_examples=200, deadline=None)
@given(X=matrices(), max_points=st.integers(0, 6),
       fallback=st.sampled_from(["log", "log_ct", "log_ct_plus", "none"]),
       skew=st.sampled_from([1.0, 2.0]), kurtosis=st.sampled_from([1.0, 3.5]))
def test_treatment_properties(X, max_points, fallback, skew, kurtosis):
    spec = TreatSpec(method="jrc", max_points=max_points, fallback=fallback, skew=skew,
                     kurtosis=kurtosis)
    r = treat(X, spec)
    Y = r.values
    assert Y.shape == X.shape and r.winsorised.shape == X.shape
    np.testing.assert_array_equal(np.isnan(Y), np.isnan(X))
    assert (r.n_winsorised <= max_points).all()
    np.testing.assert_array_equal(r.n_winsorised, r.winsorised.sum(axis=0))
    assert not (r.winsorised & np.isnan(X)).any()
    assert not (r.winsorised.any(axis=0) & r.log_transformed).any()
    if fallback == "none":
        assert not r.log_transformed.any()
    assert [bool(form) for form in r.log_forms] == r.log_transformed.tolist()
    s, k = skew_kurt_excel(Y)
    np.testing.assert_allclose(r.skew_after, s, rtol=1e-9, atol=1e-9, equal_nan=True)
    np.testing.assert_allclose(r.kurt_after, k, rtol=1e-9, atol=1e-9, equal_nan=True)
    for j in range(X.shape[1]):
        ok = ~np.isnan(X[:, j])
        x, y, w = X[ok, j], Y[ok, j], r.winsorised[ok, j]
        dx = np.sign(x[:, None] - x[None, :])
        dy = np.sign(y[:, None] - y[None, :])
        keep = ~w
        # the rank order of non-treated cells is unchanged (ties stay ties)
        np.testing.assert_array_equal(dy[np.ix_(keep, keep)], dx[np.ix_(keep, keep)])
        # and no pair of cells ever swaps order
        assert not (dx * dy < 0).any()
        if not r.log_transformed[j]:
            np.testing.assert_array_equal(y[keep], x[keep])
            if x.size:
                assert y.min() >= x.min() and y.max() <= x.max()
            assert np.isin(y[w], x).all()            # winsorised to an existing value
