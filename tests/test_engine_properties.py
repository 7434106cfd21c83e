"""Hypothesis properties of the whole build on random frameworks and data.

Frameworks have three levels: 2–8 indicators in 2–3 aggregates under one root.  Values are drawn on
a 0.01 grid so that distinct raw values stay distinct after normalisation (no float collisions).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dti.engine import Dataset, Recipe, build
from dti.engine.recipe import (SCREEN_AFTER, TREAT_FALLBACKS, AggregateSpec, ImputeSpec,
                               NormaliseSpec, RankSpec, ScreenSpec, TreatSpec)
from dti.framework.load import framework_from_dict
from dti.framework.model import Framework

SETTINGS = settings(max_examples=100, deadline=None, derandomize=True)


@dataclass(frozen=True)
class Case:
    framework: Framework
    data: Dataset
    indicators: tuple[str, ...]
    aggregates: tuple[str, ...]


def make_framework(parents: list[int], weights: list[float], agg_weights: list[float],
                   directions: list[int], goalposts: list[tuple[float, float]]) -> Framework:
    n_agg = len(agg_weights)
    nodes = [{"code": f"i{j}", "name_vi": f"i{j}", "level": 1, "parents": [f"A{parents[j]}"],
              "weight": weights[j], "direction": directions[j], "goalposts": list(goalposts[j])}
             for j in range(len(parents))]
    nodes += [{"code": f"A{k}", "name_vi": f"A{k}", "type": "aggregate", "level": 2,
               "parents": ["R"], "weight": agg_weights[k]} for k in range(n_agg)]
    nodes.append({"code": "R", "name_vi": "R", "type": "aggregate", "level": 3})
    return framework_from_dict({"id": "random", "precision": 4, "nodes": nodes})


@st.composite
def cases(draw, missing: bool = True) -> Case:
    n_units = draw(st.integers(3, 30))
    n_ind = draw(st.integers(2, 8))
    n_agg = draw(st.integers(2, min(3, n_ind)))
    # every aggregate gets at least one indicator, the rest go anywhere
    parents = list(range(n_agg)) + draw(st.lists(st.integers(0, n_agg - 1),
                                                 min_size=n_ind - n_agg, max_size=n_ind - n_agg))
    parents = draw(st.permutations(parents))
    weight = st.integers(1, 20).map(lambda w: w / 4)
    weights = draw(st.lists(weight, min_size=n_ind, max_size=n_ind))
    agg_weights = draw(st.lists(weight, min_size=n_agg, max_size=n_agg))
    directions = draw(st.lists(st.sampled_from([1, -1]), min_size=n_ind, max_size=n_ind))
    goalposts = [tuple(sorted(draw(st.lists(st.integers(-5000, 5000), min_size=2, max_size=2,
                                            unique=True)))) for _ in range(n_ind)]
    goalposts = [(lo / 100, hi / 100) for lo, hi in goalposts]
    cell = st.integers(-10_000, 10_000).map(lambda v: v / 100)
    if missing:
        cell = st.one_of(cell, cell, cell, cell, cell, cell, cell, cell, cell, st.just(np.nan))
    values = np.array(draw(st.lists(st.lists(cell, min_size=n_ind, max_size=n_ind),
                                    min_size=n_units, max_size=n_units)), dtype=float)
    regions = tuple(draw(st.lists(st.sampled_from("NCS"), min_size=n_units, max_size=n_units)))
    fw = make_framework(parents, weights, agg_weights, directions, goalposts)
    units = tuple(f"u{i:02d}" for i in range(n_units))
    data = Dataset(units, tuple(f"i{j}" for j in range(n_ind)), values, {"region": regions})
    return Case(fw, data, tuple(f"i{j}" for j in range(n_ind)),
                tuple(f"A{k}" for k in range(n_agg)))


bounds = st.tuples(st.integers(-100, 100), st.integers(1, 200)).map(
    lambda t: (float(t[0]), float(t[0] + t[1])))


# ------------------------------------------------------------------------------------- bounds

@SETTINGS
@given(case=cases(), method=st.sampled_from(["minmax", "goalposts", "percentile"]), limits=bounds)
def test_normalised_values_stay_within_lower_and_upper(case, method, limits):
    lower, upper = limits
    recipe = Recipe(normalise=NormaliseSpec(method, lower=lower, upper=upper))
    b = build(case.data, case.framework, recipe)
    present = b.normalised[~np.isnan(b.normalised)]
    # every value present in the data comes out normalised (none lost on the way)
    assert present.size == np.count_nonzero(~np.isnan(case.data.values))
    assert (present >= lower - 1e-9).all() and (present <= upper + 1e-9).all()
    if present.size and method == "minmax":
        # a column with two or more distinct values reaches both ends
        for j in range(b.normalised.shape[1]):
            col = b.normalised[:, j][~np.isnan(b.normalised[:, j])]
            raw = case.data.values[:, j][~np.isnan(case.data.values[:, j])]
            if np.unique(raw).size > 1:
                assert np.isclose(col.min(), lower) and np.isclose(col.max(), upper)


# ------------------------------------------------------------------------------------- direction

def with_weights(recipe: Recipe, weights: dict[str, float]) -> Recipe:
    """The recipe with these weight overrides added to (or replacing) its own."""
    return replace(recipe, weights=tuple(sorted({**dict(recipe.weights), **weights}.items())))


def _pairwise_signs(x: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(x)
    x = x[ok]
    return np.sign(x[:, None] - x[None, :])


@SETTINGS
@given(case=cases(), method=st.sampled_from(["minmax", "zscore", "rank", "percentile"]),
       data=st.data())
def test_flipping_a_direction_reverses_that_indicators_order(case, method, data):
    j = data.draw(st.integers(0, len(case.indicators) - 1))
    code = case.indicators[j]
    recipe = Recipe(normalise=NormaliseSpec(method))
    before = build(case.data, case.framework, recipe)
    node = case.framework[code]
    flipped_nodes = tuple(replace(n, direction=-n.direction) if n.code == code else n
                          for n in case.framework.nodes)
    flipped_fw = Framework(case.framework.id, flipped_nodes, precision=case.framework.precision)
    after = build(case.data, flipped_fw, recipe)
    raw = _pairwise_signs(case.data.values[:, j])
    # the normalised order follows the raw order times the direction ...
    assert (_pairwise_signs(before.normalised[:, j]) == node.direction * raw).all()
    # ... and flipping the direction reverses it exactly
    assert (_pairwise_signs(after.normalised[:, j]) == -node.direction * raw).all()
    others = [k for k in range(len(case.indicators)) if k != j]
    np.testing.assert_array_equal(before.normalised[:, others], after.normalised[:, others])


# --------------------------------------------------------------------------------------- weights

@SETTINGS
@given(case=cases(), factor=st.sampled_from([0.1, 0.5, 3.0, 7.0, 1000.0]), data=st.data(),
       method=st.sampled_from(["arithmetic", "geometric", "harmonic", "generalised"]))
def test_scaling_all_weights_of_an_aggregate_changes_nothing(case, factor, data, method):
    target = data.draw(st.sampled_from(("R",) + case.aggregates))
    children = case.framework.children[target]
    recipe = Recipe(normalise=NormaliseSpec("minmax", lower=1, upper=100),
                    aggregate=AggregateSpec(method, p=2.0), rank=RankSpec(decimals=4))
    base = build(case.data, case.framework, recipe)
    scaled_recipe = with_weights(recipe, 
        {c: case.framework[c].weight * factor for c in children})
    assert scaled_recipe.weight_overrides()          # the recipe did change ...
    scaled = build(case.data, case.framework, scaled_recipe)
    np.testing.assert_allclose(scaled.values, base.values, rtol=1e-10, atol=1e-10, equal_nan=True)
    np.testing.assert_array_equal(scaled.ranks, base.ranks)
    # ... while scaling only *one* child's weight does move the aggregate wherever that child
    # differs from the aggregate's value (so the weights reach the computation at all)
    if len(children) > 1:
        lone = build(case.data, case.framework, with_weights(recipe, 
            {children[0]: case.framework[children[0]].weight * factor}))
        col = base.index(target)
        kids = base.values[:, [base.index(c) for c in children]]
        visible = ~np.isnan(kids).any(axis=1) & (np.abs(kids[:, 0] - base.values[:, col]) > 0.5)
        assert (~np.isclose(lone.values[visible, col], base.values[visible, col],
                            rtol=1e-9, atol=1e-9)).all()


# ----------------------------------------------------------------------------------- permutation

@SETTINGS
@given(case=cases(), data=st.data(),
       impute=st.sampled_from(["none", "mean", "median", "group_mean", "group_median", "row_mean"]),
       treat=st.sampled_from(["none", "jrc"]),
       normalise=st.sampled_from(["minmax", "zscore", "goalposts", "rank", "percentile"]),
       aggregate=st.sampled_from(["arithmetic", "geometric", "generalised"]),
       after=st.sampled_from(SCREEN_AFTER), fallback=st.sampled_from(TREAT_FALLBACKS))
def test_permuting_units_permutes_values_and_ranks(case, data, impute, treat, normalise,
                                                  aggregate, after, fallback):
    n = len(case.data.units)
    order = np.array(data.draw(st.permutations(range(n))))
    recipe = Recipe(impute=ImputeSpec(impute, "region"), screen=ScreenSpec(0.5, after),
                    treat=TreatSpec(treat, fallback=fallback),
                    normalise=NormaliseSpec(normalise, lower=1, upper=100),
                    aggregate=AggregateSpec(aggregate, p=2.0),
                    rank=RankSpec(decimals=4, groups=("region",)))
    base = build(case.data, case.framework, recipe)
    d = case.data
    permuted_data = Dataset(tuple(d.units[i] for i in order), d.columns, d.values[order],
                            {g: tuple(labels[i] for i in order) for g, labels in d.groups.items()})
    permuted = build(permuted_data, case.framework, recipe)
    np.testing.assert_allclose(permuted.values, base.values[order], rtol=1e-9, atol=1e-9,
                               equal_nan=True)
    np.testing.assert_array_equal(permuted.ranks, base.ranks[order])
    np.testing.assert_array_equal(permuted.group_ranks["region"], base.group_ranks["region"][order])
    np.testing.assert_array_equal(permuted.included, base.included[order])


# ---------------------------------------------------------------------------------- monotonicity

@SETTINGS
@given(case=cases(), data=st.data(), bump=st.integers(1, 100_000).map(lambda v: v / 100))
def test_raising_the_best_value_of_a_positive_indicator_never_lowers_the_rank(case, data, bump):
    positive = [j for j, c in enumerate(case.indicators) if case.framework[c].direction == 1]
    assume(positive)
    j = data.draw(st.sampled_from(positive))
    column = case.data.values[:, j]
    assume(not np.isnan(column).all())
    best = int(np.nanargmax(column))
    recipe = Recipe(normalise=NormaliseSpec("minmax"), aggregate=AggregateSpec("arithmetic"),
                    rank=RankSpec(decimals=4))
    before = build(case.data, case.framework, recipe)
    values = np.array(case.data.values)
    values[best, j] += bump
    after = build(replace(case.data, values=values), case.framework, recipe)
    parent = case.framework[case.indicators[j]].parents[0]
    for code in ("R", parent):
        assert after.rank(code)[best] <= before.rank(code)[best]
        assert after.score(code)[best] >= before.score(code)[best] - 1e-9
