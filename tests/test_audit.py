"""The statistical audit: hand-computed numbers on small tables, and injected problems on a
synthetic 63-province data set with the DTI 2022 structure.

Expected numbers are worked out here in plain Python (``statistics``, ``math``) or, for the
eigenvalues of a 3×3 matrix, ``numpy.linalg`` — never taken from :mod:`dti.analysis`.
"""

from __future__ import annotations

import json
import math
import statistics
import warnings
from dataclasses import replace

import numpy as np
import pytest

from dti.analysis.audit import (COLLINEAR, NEGATIVE, RECORD_COLUMNS, WEAK, Audit, audit,
                                audit_records)
from dti.editions import load_edition
from dti.engine import (AggregateSpec, Dataset, ImputeSpec, NormaliseSpec, Recipe, ScreenSpec,
                        TreatSpec, build)
from dti.framework.load import framework_from_dict

nan = math.nan
RAW = Recipe(normalise=NormaliseSpec("none"))


def node(code, parents=(), **kw):
    return {"code": code, "name_vi": code, "parents": list(parents), **kw}


def agg(code, parents=(), level=2, **kw):
    return node(code, parents, type="aggregate", level=level, **kw)


# ------------------------------------------------------------------------------ plain-Python oracle

def avg_ranks(xs: list[float]) -> list[float]:
    """1 = lowest, ties share the mean of their positions."""
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    out = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def py_skew(xs: list[float]) -> float:
    n, m, s = len(xs), statistics.mean(xs), statistics.stdev(xs)
    return n / ((n - 1) * (n - 2)) * sum(((x - m) / s) ** 3 for x in xs)


# ------------------------------------------------------------------------------------ small table

SMALL = {"a": [1.0, 2.0, 4.0, 4.0, 7.0, 9.0],
         "b": [2.0, 1.0, 5.0, 3.0, 8.0, 8.0],
         "c": [3.0, 5.0, 4.0, 6.0, 9.0, 7.0]}
SMALL_FW = framework_from_dict({"id": "small", "nodes": [
    node("a", ["A"], weight=1), node("b", ["A"], weight=1), node("c", ["A"], weight=2),
    agg("A")]})


def small_build(values=SMALL, recipe=RAW, units=None) -> tuple:
    codes = tuple(values)
    units = units or tuple(f"u{i}" for i in range(len(values[codes[0]])))
    data = Dataset(units, codes, np.array([values[c] for c in codes]).T)
    b = build(data, SMALL_FW, recipe)
    return b, audit(b)


def test_cronbach_alpha_matches_the_variance_form_by_hand():
    _, a = small_build()
    k = 3
    totals = [sum(SMALL[c][i] for c in SMALL) for i in range(6)]
    expected = k / (k - 1) * (1 - sum(statistics.variance(SMALL[c]) for c in SMALL)
                              / statistics.variance(totals))
    assert a.cronbach["A"] == pytest.approx(expected, abs=1e-12)
    assert 0.5 < expected < 1.0           # the table is consistent, not degenerate


def test_pca_share_and_loadings_match_the_correlation_eigenproblem():
    _, a = small_build()
    codes = ("a", "b", "c")
    R = np.array([[statistics.correlation(SMALL[x], SMALL[y]) if x != y else 1.0 for y in codes]
                  for x in codes])
    eigen = sorted(np.linalg.eigvalsh(R), reverse=True)
    p = a.pca["A"]
    assert p.codes == codes and p.n_units == 6
    assert p.variance_explained == pytest.approx(eigen[0] / 3, abs=1e-12)
    assert p.eigenvalues == pytest.approx(eigen, abs=1e-12)
    v = p.loadings
    assert math.fsum(x * x for x in v) == pytest.approx(1.0)
    assert sum(v) > 0
    assert R @ v == pytest.approx(eigen[0] * v, abs=1e-12)


def test_indicator_statistics_by_hand_with_a_screened_out_unit_and_an_imputed_value():
    values = {"a": SMALL["a"] + [500.0], "b": [2.0, nan, 5.0, 3.0, 8.0, 8.0, nan],
              "c": SMALL["c"] + [nan]}
    recipe = replace(RAW, impute=ImputeSpec("mean"), screen=ScreenSpec(min_availability=0.6))
    b, a = small_build(values, recipe)
    assert b.included.tolist() == [True] * 6 + [False]      # u6 has 1 value of 3
    stats = {s.code: s for s in a.indicators}
    s = stats["a"]                                           # 500 of u6 is not counted
    assert (s.n, s.n_imputed, s.coverage) == (6, 0, 1.0)
    assert s.mean == pytest.approx(statistics.mean(SMALL["a"]))
    assert s.sd == pytest.approx(statistics.stdev(SMALL["a"]))
    assert (s.min, s.max) == (1.0, 9.0)
    assert s.skew == pytest.approx(py_skew(SMALL["a"]))
    assert not s.outlier
    b_imputed = [2.0, (2 + 5 + 3 + 8 + 8) / 5, 5.0, 3.0, 8.0, 8.0]
    s = stats["b"]
    assert (s.n, s.n_imputed) == (6, 1)
    assert s.coverage == pytest.approx(5 / 6)
    assert s.mean == pytest.approx(statistics.mean(b_imputed))
    assert s.sd == pytest.approx(statistics.stdev(b_imputed))


def test_spearman_is_pearson_of_average_ranks_pairwise_complete():
    values = {"a": [1.0, 2.0, 2.0, 4.0, 7.0, 9.0, 3.0],
              "b": [2.0, 1.0, 5.0, 5.0, 8.0, 4.0, nan],
              "c": [3.0, 5.0, 4.0, 6.0, 6.0, 7.0, 1.0]}
    _, a = small_build(values)
    t = a.correlations
    # a–c: all seven units, ties in both columns
    expected = statistics.correlation(avg_ranks(values["a"]), avg_ranks(values["c"]))
    assert t.value("a", "c", "spearman") == pytest.approx(expected, abs=1e-12)
    # a–b: unit 6 has no b, so both columns are re-ranked over the other six
    xa, xb = values["a"][:6], values["b"][:6]
    expected = statistics.correlation(avg_ranks(xa), avg_ranks(xb))
    assert t.value("a", "b", "spearman") == pytest.approx(expected, abs=1e-12)
    assert t.value("a", "b") == pytest.approx(statistics.correlation(xa, xb), abs=1e-12)
    assert (t.n[0, 1], t.n[0, 2]) == (6, 7)
    # ranking a over all seven units first would give another number here
    wrong = statistics.correlation(avg_ranks(values["a"])[:6], avg_ranks(xb))
    assert abs(t.value("a", "b", "spearman") - wrong) > 1e-3


def test_relations_in_the_correlation_table():
    fw = framework_from_dict({"id": "rel", "nodes": [
        node("x", ["P"], weight=1), node("y", ["P"], weight=1), node("z", ["Q"], weight=1),
        agg("P", ["R"], weight=1), agg("Q", ["R"], weight=1), agg("R", level=3)]})
    data = Dataset(tuple("uvwst"), ("x", "y", "z"),
                   np.array([[1, 2, 3], [2, 1, 5], [3, 5, 4], [4, 3, 1], [5, 4, 2]], dtype=float))
    t = audit(build(data, fw, RAW)).correlations
    rel = {(t.codes[i], t.codes[j]): t.relation[i, j] for i in range(6) for j in range(6)}
    assert rel["x", "y"] == "sibling" and rel["x", "P"] == "parent" and rel["x", "R"] == "ancestor"
    assert rel["x", "z"] == "other" and rel["P", "Q"] == "sibling" and rel["R", "P"] == "parent"


# ------------------------------------------------------------------- DTI-like synthetic provinces

DTI_LIKE = framework_from_dict({"id": "dti-like", "root": "DTI", "nodes": [
    *[node(c, ["NEN_TANG", "CQS", "KTS", "XHS"], max_points=100)
      for c in ("NTS", "TCS", "HTS", "NLS", "ATTT")],
    node("DTTM", ["NEN_TANG", "CQS", "KTS", "XHS"], max_points=0, scored=False),
    node("HDCQS", ["HOAT_DONG", "CQS"], max_points=200),
    node("HDKTS", ["HOAT_DONG", "KTS"], max_points=150),
    node("HDXHS", ["HOAT_DONG", "XHS"], max_points=150),
    agg("NEN_TANG", ["DTI"], max_points=500, method="points"),
    agg("HOAT_DONG", ["DTI"], max_points=500, method="points"),
    *[agg(c, max_points=m, method="points") for c, m in (("CQS", 700), ("KTS", 650), ("XHS", 650))],
    agg("DTI", level=3, max_points=1000, method="points")]})
INDICATORS = ("NTS", "TCS", "HTS", "NLS", "ATTT", "DTTM", "HDCQS", "HDKTS", "HDXHS")
DTI_RECIPE = Recipe(treat=TreatSpec("jrc"), normalise=NormaliseSpec("minmax"))


def provinces(seed: int = 2022, inject: str = "") -> Dataset:
    """63 provinces; indicators share one factor (pairwise r ≈ 0.5), as DTI scores do."""
    rng = np.random.default_rng(seed)
    factor = rng.normal(size=63)
    X = 60 + 8 * (0.7 * factor[:, None] + 0.7 * rng.normal(size=(63, 9)))
    j = {c: i for i, c in enumerate(INDICATORS)}
    if "collinear" in inject:
        X[:, j["HTS"]] = X[:, j["NTS"]] + 0.3 * rng.normal(size=63)
    if "outlier" in inject:
        X[17, j["ATTT"]] = 900.0
    if "negative" in inject:      # a pair outside the common factor, pulling against each other
        X[:, j["HDCQS"]] = 60 + 8 * rng.normal(size=63)
        X[:, j["HDKTS"]] = 120 - X[:, j["HDCQS"]] + 4 * rng.normal(size=63)
    return Dataset(tuple(f"P{i:02d}" for i in range(63)), INDICATORS, X)


@pytest.fixture(scope="module")
def injected() -> tuple:
    b = build(provinces(inject="collinear outlier"), DTI_LIKE, DTI_RECIPE)
    return b, audit(b)


def kinds(a: Audit, kind: str) -> set[tuple[str, str]]:
    return {(f.a, f.b) for f in a.flags if f.kind == kind}


def test_injected_collinear_pair_and_outlier_are_flagged_and_nothing_else(injected):
    b, a = injected
    assert kinds(a, "collinear") == {("NTS", "HTS")}
    flag = next(f for f in a.flags if f.kind == "collinear")
    assert flag.aggregate == "NEN_TANG" and flag.aggregates == ("NEN_TANG", "CQS", "KTS", "XHS")
    assert flag.threshold == COLLINEAR == 0.92
    nts, hts = (b.normalised[:, INDICATORS.index(c)].tolist() for c in ("NTS", "HTS"))
    assert flag.value == pytest.approx(statistics.correlation(nts, hts), abs=1e-12)
    assert flag.value > 0.95
    outliers = {s.code for s in a.indicators if s.outlier}
    assert outliers == {"ATTT"}
    stats = {s.code: s for s in a.indicators}
    attt = b.imputed[:, INDICATORS.index("ATTT")].tolist()
    assert stats["ATTT"].skew == pytest.approx(py_skew(attt))
    assert stats["ATTT"].max == 900.0
    assert stats["ATTT"].n_winsorised >= 1 or stats["ATTT"].log_transformed
    assert all(s.n_winsorised == 0 and not s.log_transformed
               for s in a.indicators if s.code != "ATTT")


def test_clean_provinces_raise_no_correlation_flag():
    a = audit(build(provinces(), DTI_LIKE, DTI_RECIPE))
    assert a.flags == ()
    assert not any(s.outlier for s in a.indicators)


def test_negatively_correlated_siblings_are_flagged():
    b = build(provinces(inject="negative"), DTI_LIKE, DTI_RECIPE)
    a = audit(b)
    assert kinds(a, "negative_within") == {("HDCQS", "HDKTS")}
    flag = next(f for f in a.flags if f.kind == "negative_within")
    assert flag.aggregate == "HOAT_DONG" and flag.threshold == NEGATIVE == -0.4
    x, y = (b.values[:, b.index(c)].tolist() for c in ("HDCQS", "HDKTS"))
    assert flag.value == pytest.approx(statistics.correlation(x, y), abs=1e-12)
    assert kinds(a, "collinear") == set()
    # a looser threshold is the caller's: at −0.99 the pair is no longer flagged
    assert kinds(audit(b, negative=-0.99), "negative_within") == set()


def test_weight_zero_indicator_leaves_ranks_alone_and_a_weighted_one_moves_them(injected):
    b, a = injected
    loo = {x.code: x for x in a.leave_one_out}
    assert set(loo) == set(INDICATORS) | {"NEN_TANG", "HOAT_DONG"}   # below the root only
    d = loo["DTTM"]
    assert (d.mean_abs_rank_change, d.max_abs_rank_change, d.unit, d.n) == (0.0, 0.0, None, 63)
    # by hand: rebuild without HDCQS and compare the root ranks
    variant = build(b.data, DTI_LIKE, replace(DTI_RECIPE, exclude=("HDCQS",)))
    moves = [abs(x - y) for x, y in zip(variant.rank().tolist(), b.rank().tolist())]
    h = loo["HDCQS"]
    assert h.mean_abs_rank_change == pytest.approx(statistics.mean(moves)) and h.mean_abs_rank_change > 0
    assert h.max_abs_rank_change == max(moves)
    assert h.unit == b.units[moves.index(max(moves))]


def test_main_effect_weights_are_nominal_effective_weights(injected):
    _, a = injected
    me = {m.code: m for m in a.main_effects}
    assert "DTI" not in me
    # points: NTS = 100/500 · 500/1000; HDCQS = 200/500 · 500/1000; the pillars are not in DTI
    expected = {"NTS": 0.1, "DTTM": 0.0, "HDCQS": 0.2, "HDKTS": 0.15, "NEN_TANG": 0.5, "CQS": 0.0}
    assert {c: me[c].weight for c in expected} == pytest.approx(expected)
    assert math.fsum(m.eta2_share for m in a.main_effects
                     if m.level == 2 and m.weight > 0) == pytest.approx(1.0)
    for m in a.main_effects:
        assert m.n == 63 and 0.0 <= m.eta2 <= 1.0
        assert m.eta2 >= m.r2 - 0.05      # the smoother can do no worse than a line, bar noise


def test_effective_weights_multiply_along_the_path_and_are_normalised_within_a_level():
    rng = np.random.default_rng(11)
    fw = framework_from_dict({"id": "paths", "nodes": [
        node("y", ["R"], weight=1), node("x1", ["P"], weight=1), node("x2", ["P"], weight=1),
        node("z", ["Q"], weight=1), agg("P", ["R"], weight=2), agg("Q", ["R"], weight=1),
        agg("R", level=3)]})
    data = Dataset(tuple(f"u{i}" for i in range(30)), ("y", "x1", "x2", "z"),
                   rng.normal(size=(30, 4)))
    me = {m.code: m for m in audit(build(data, fw, Recipe())).main_effects}
    # y = 1/4 directly; x1 = 2/4 · 1/2; z = 1/4 · 1; level 2 holds 2/4 + 1/4, rescaled to 1
    expected = {"y": 0.25, "x1": 0.25, "x2": 0.25, "z": 0.25, "P": 2 / 3, "Q": 1 / 3}
    assert {c: m.weight for c, m in me.items()} == pytest.approx(expected)
    assert me["P"].eta2_share + me["Q"].eta2_share == pytest.approx(1.0)


def test_index_equal_to_one_indicator_gives_eta2_one():
    rng = np.random.default_rng(7)
    fw = framework_from_dict({"id": "one", "nodes": [
        node("x", ["R"], weight=1), node("z", ["R"], weight=1, scored=False),
        agg("R", level=2)]})
    data = Dataset(tuple(f"u{i}" for i in range(63)), ("x", "z"), rng.normal(size=(63, 2)))
    b = build(data, fw, Recipe())
    me = {m.code: m for m in audit(b).main_effects}
    x = b.values[:, 0].tolist()
    assert x == pytest.approx(b.score().tolist())          # the index is x
    assert me["x"].eta2 == pytest.approx(1.0, abs=1e-9)
    assert me["x"].r2 == pytest.approx(1.0, abs=1e-12) and me["x"].weight == 1.0
    z = b.values[:, 1].tolist()
    assert me["z"].r2 == pytest.approx(statistics.correlation(z, x) ** 2, abs=1e-12)
    assert me["z"].eta2 < 0.3 and me["z"].weight == 0.0


def test_quadratic_link_shows_in_eta2_but_not_in_r2():
    u = np.linspace(-1, 1, 41)
    fw = framework_from_dict({"id": "quad", "nodes": [
        node("x", ["R"], weight=1, scored=False), node("y", ["R"], weight=1), agg("R", level=2)]})
    data = Dataset(tuple(f"u{i}" for i in range(41)), ("x", "y"), np.column_stack([u, u * u]))
    me = {m.code: m for m in audit(build(data, fw, RAW)).main_effects}
    assert me["x"].r2 == pytest.approx(0.0, abs=1e-12)     # symmetric: no linear link at all
    assert me["x"].eta2 > 0.95


def test_weak_link_to_parent_is_flagged_only_for_weighted_children():
    rng = np.random.default_rng(3)
    fw = framework_from_dict({"id": "weak", "nodes": [
        node("x", ["R"], weight=1), node("noise", ["R"], weight=0.01),
        node("unscored", ["R"], weight=1, scored=False), agg("R", level=2)]})
    data = Dataset(tuple(f"u{i}" for i in range(63)), ("x", "noise", "unscored"),
                   rng.normal(size=(63, 3)))
    b = build(data, fw, Recipe())
    a = audit(b)
    assert kinds(a, "weak_to_parent") == {("noise", "R")}
    flag = a.flags[0]
    noise, root = b.values[:, 1].tolist(), b.score().tolist()
    assert flag.value == pytest.approx(statistics.correlation(noise, root), abs=1e-12)
    assert flag.value < WEAK == 0.2 and flag.aggregate == "R"
    assert a.cronbach["R"] == a.cronbach["R"]           # two weighted children: a number
    assert a.pca["R"].codes == ("x", "noise")


# -------------------------------------------------------------------------------- degenerate input

def test_two_units_and_a_constant_column_give_nan_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, a = small_build({"a": [1.0, 2.0], "b": [3.0, 3.0], "c": [nan, 5.0]})
        _, b = small_build({"a": SMALL["a"], "b": [4.0] * 6, "c": SMALL["c"]})
    assert np.isnan(a.correlations.pearson).all() and np.isnan(a.correlations.spearman).all()
    assert math.isnan(a.cronbach["A"]) and math.isnan(a.pca["A"].variance_explained)
    assert all(math.isnan(m.eta2) and math.isnan(m.r2) for m in a.main_effects)
    stats = {s.code: s for s in a.indicators}
    assert math.isnan(stats["c"].sd) and stats["c"].n == 1 and math.isnan(stats["a"].skew)
    t = b.correlations
    assert math.isnan(t.value("a", "b")) and math.isnan(t.value("b", "b"))
    assert t.value("a", "c") == pytest.approx(statistics.correlation(SMALL["a"], SMALL["c"]))
    assert math.isnan(b.pca["A"].variance_explained)      # a constant child: no correlation matrix
    assert not math.isnan(b.cronbach["A"])                # a zero variance is still a variance


def test_dti_2022_edition_audit_runs_on_its_five_provinces():
    e = load_edition("dti-province-2022")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = audit(build(e.dataset(), e.framework, e.recipe))
    stats = {s.code: s for s in a.indicators}
    assert stats["NTS"].n == 5 and stats["NTS"].coverage == pytest.approx(5 / 63)
    assert stats["DTTM"].n == 0 and math.isnan(stats["DTTM"].mean)
    me = {m.code: m for m in a.main_effects}
    assert math.isnan(me["NTS"].eta2) and 0 <= me["NTS"].r2 <= 1     # 5 units: no smoother
    assert {x.code: x.n for x in a.leave_one_out}["HDCQS"] == 5


# ---------------------------------------------------------------------------------------- records

def test_audit_records_have_the_documented_columns_and_are_json_ready(injected):
    _, a = injected
    tables = audit_records(a)
    assert set(tables) == {"indicators", "correlations", "flags", "cronbach", "pca",
                           "main_effects", "leave_one_out"} == set(RECORD_COLUMNS)
    for name, rows in tables.items():
        assert rows, name
        assert all(tuple(row) == RECORD_COLUMNS[name] for row in rows), name
    n = len(a.correlations.codes)
    assert len(tables["correlations"]) == n * (n - 1) // 2
    assert len(tables["pca"]) == sum(len(p.codes) for p in a.pca.values())
    flag = tables["flags"][0]
    assert flag["aggregates"] == "NEN_TANG CQS KTS XHS" and flag["kind"] == "collinear"
    json.dumps(tables, allow_nan=False)


def test_audit_records_turn_nan_into_none():
    _, a = small_build({"a": [1.0, 2.0], "b": [3.0, 3.0], "c": [nan, 5.0]})
    tables = audit_records(a)
    assert tables["cronbach"] == [{"aggregate": "A", "alpha": None, "k": 3}]
    assert all(row["pearson"] is None for row in tables["correlations"])
    json.dumps(tables, allow_nan=False)


def test_aggregate_method_override_keeps_the_audit_consistent():
    b = build(provinces(), DTI_LIKE, replace(DTI_RECIPE, aggregate=AggregateSpec("arithmetic")))
    me = {m.code: m for m in audit(b).main_effects}
    # arithmetic takes the framework weights (here the max points) too: same nominal shares
    assert me["HDCQS"].weight == pytest.approx(0.2)


# ------------------------------------------------------------------ main effects at scale

def test_a_20000_unit_audit_runs_in_bounded_memory_with_sound_main_effects():
    """The kernel smoother needs units × units matrices (3,000 units: 455 MB per node, 20,000
    units: about 20 GB); above MAX_UNITS_KERNEL the binned estimator takes linear memory."""
    import tracemalloc

    from dti.analysis.audit_stats import MAX_UNITS_KERNEL

    n = 20_000
    assert n > MAX_UNITS_KERNEL
    rng = np.random.default_rng(11)
    x = rng.normal(size=n)
    fw = framework_from_dict({"id": "big", "nodes": [
        node("x", ["P"], weight=1), node("z", ["P"], weight=1, scored=False),
        node("w", ["Q"], weight=1), agg("P", ["R"], weight=1), agg("Q", ["R"], weight=0),
        agg("R", level=3)]})
    values = np.column_stack([x, 2 * x + rng.normal(size=n), x ** 3])
    data = Dataset(tuple(f"u{i:05d}" for i in range(n)), ("x", "z", "w"), values)
    b = build(data, fw, RAW)
    tracemalloc.start()
    try:
        a = audit(b)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 300 * 2**20, f"peak {peak / 2**20:.0f} MiB"
    me = {m.code: m for m in a.main_effects}
    assert np.allclose(b.score(), x)                             # the index is x
    assert me["x"].eta2 == pytest.approx(1.0, abs=1e-9) and me["x"].n == n
    r2 = statistics.correlation(values[:, 1].tolist(), x.tolist()) ** 2
    assert me["z"].r2 == pytest.approx(r2, abs=1e-12)
    assert me["z"].eta2 == pytest.approx(r2, abs=0.005)          # a linear link: η² ≈ r²
    assert me["w"].r2 < 0.7 and me["w"].eta2 > 0.99             # the index is ∛w: η² sees it


@pytest.mark.parametrize("n", [400, 5000])
def test_both_main_effect_estimators_find_a_linear_and_a_nonlinear_link(n):
    """Below and above MAX_UNITS_KERNEL: η² = 1 for y a linear function of x, ≈ r² for a linear
    link with noise, and ≈ the true share of variance for a smooth nonlinear one."""
    from dti.analysis.audit_stats import main_effect

    rng = np.random.default_rng(5)
    x = rng.normal(size=n)
    assert main_effect(x, 3 * x - 1)[0] == pytest.approx(1.0, abs=1e-9)
    eta2, r2, used = main_effect(x, x + rng.normal(size=n))
    assert used == n and eta2 == pytest.approx(r2, abs=0.02)
    # y = x² + noise of sd 0.5: Var(x²) = 2 against a noise variance of 0.25, η² = 2 / 2.25
    eta2, r2, _ = main_effect(x, x * x + 0.5 * rng.normal(size=n))
    assert r2 < 0.05 and eta2 == pytest.approx(2 / 2.25, abs=0.04)
