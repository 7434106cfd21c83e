"""``build(data, framework, recipe) -> Build``: the whole pipeline as one pure function.

denominate → screen → impute → treat → normalise → aggregate → rank by default; ``screen.after``
moves screening after another stage (``impute`` gives COINr's ``build_example_coin()`` order:
denominate → impute → screen → treat …).  The stages before screening run on every unit, those
after it on the units kept only, as in COINr, where the later stages run on the screened data
set: a unit screened out after imputation was imputed with everyone, then dropped, and moves no
one's outlier treatment or normalisation.  (Nor did it fill a kept unit's gap: a gap left after
a column or group mean is shared by the whole column or group, so the units it could have
helped end with its availability and go with it; a row mean uses only the unit's own values.)
``Build.stages`` records the order used.  Every intermediate is kept on the returned value so
any stage can be inspected, and a variant is a rebuild with ``dataclasses.replace(recipe, …)`` on
the same data.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from dti.engine.aggregate import Plan, aggregate, compile_plan
from dti.engine.data import Dataset
from dti.engine.denominate import denominate
from dti.engine.impute import impute
from dti.engine.normalise import ColumnInfo, normalise
from dti.engine.rank import descending_ranks, group_ranks, round_half_up
from dti.engine.recipe import Recipe
from dti.engine.screen import screen
from dti.engine.treat import Treatment, treat
from dti.errors import ComputeError, RecipeError
from dti.framework.model import Framework


@dataclass(frozen=True)
class Prepared:
    """The stages before aggregation: what a Monte Carlo batch shares across its runs."""

    plan: Plan
    raw: np.ndarray
    denominated: np.ndarray
    availability: np.ndarray
    included: np.ndarray
    imputed: np.ndarray
    imputed_mask: np.ndarray
    treatment: Treatment
    normalised: np.ndarray
    stages: tuple[str, ...]   # the stage order used, "screen" where screen.after put it


@dataclass(frozen=True)
class Build(Prepared):
    """A finished build: inputs, every stage's matrix (from :class:`Prepared`), final values
    and ranks.

    Stage matrices (``raw`` … ``normalised``) have one column per data node (``plan.data_codes``);
    ``values`` and ``ranks`` one column per node in ``codes`` (data nodes, then computed aggregates).
    """

    framework: Framework
    recipe: Recipe
    data: Dataset
    values: np.ndarray
    ranks: np.ndarray
    group_ranks: dict[str, np.ndarray] = field(default_factory=dict)
    decimals: int | None = None

    @property
    def units(self) -> tuple[str, ...]:
        return self.data.units

    @property
    def codes(self) -> tuple[str, ...]:
        return self.plan.codes

    def index(self, code: str) -> int:
        try:
            return self.codes.index(code)
        except ValueError:
            raise KeyError(f"{code!r} is not a node of {self.framework.id}") from None

    def score(self, code: str | None = None) -> np.ndarray:
        """Values of one node for every unit (the root when ``code`` is None)."""
        return self.values[:, self.index(code or self.framework.root.code)]

    def published_score(self, code: str | None = None) -> np.ndarray:
        """Values rounded half-up at the edition's precision, as the ministry publishes them."""
        return round_half_up(self.score(code), self.decimals)

    def rank(self, code: str | None = None) -> np.ndarray:
        return self.ranks[:, self.index(code or self.framework.root.code)]

    def unit_row(self, unit: str) -> int:
        return self.units.index(unit)


def prepare(data: Dataset, framework: Framework, recipe: Recipe) -> Prepared:
    """The stages before aggregation, in ``recipe.stage_order()``, after checking the recipe."""
    if not data.units:
        raise ComputeError("there are no units in the data: nothing to compute")
    problems = recipe.problems() + recipe.problems_for(framework)
    if problems:
        raise RecipeError(problems)
    plan = compile_plan(framework, recipe)
    nodes = [framework[c] for c in plan.data_codes]
    raw = data.matrix([n.data_column for n in nodes])
    denominators = data.matrix([d.data_column for d in framework.denominators])
    den_codes = [d.code for d in framework.denominators]
    which = np.array([den_codes.index(n.denominator) if n.denominator in den_codes else -1
                      for n in nodes], dtype=int)
    denominated = denominate(raw, denominators, which, recipe.denominate)
    required = np.array([c in framework.required_codes for c in plan.data_codes], dtype=bool)
    after = recipe.screen.after

    def screened(stage: str, X: np.ndarray, so_far: tuple) -> tuple[np.ndarray, np.ndarray]:
        """(availability, included) once screening's stage has run; everyone before it."""
        return screen(X, recipe.screen, required) if stage == after else so_far

    everyone = (np.ones(len(data.units)), np.ones(len(data.units), dtype=bool))
    counted = screened("raw", raw, everyone)
    counted = screened("denominate", denominated, counted)
    imputed, imputed_mask = _impute_included(denominated, counted[1], recipe,
                                             _groups(data, recipe), _row_blocks(framework, plan))
    counted = screened("impute", imputed, counted)
    treatment = _treat_included(imputed, counted[1], recipe, nodes)
    counted = screened("treat", treatment.values, counted)
    normalised = normalise(treatment.values, recipe.normalise, _column_info(nodes), counted[1])
    availability, included = screened("normalise", normalised, counted)
    for array in (raw, denominated, imputed, normalised):
        array.setflags(write=False)
    return Prepared(plan, raw, denominated, availability, included, imputed, imputed_mask,
                    treatment, normalised, recipe.stage_order())


def _groups(data: Dataset, recipe: Recipe) -> tuple[str, ...] | None:
    """Each unit's group label for a group imputation; None when the recipe names no group."""
    groups = data.groups.get(recipe.impute.group) if recipe.impute.group else None
    if recipe.impute.method.startswith("group_") and groups is None:
        raise ComputeError(f"imputation by group needs a grouping column {recipe.impute.group!r} "
                           f"in the data; it has {', '.join(data.groups) or 'none'}")
    return groups


def build(data: Dataset, framework: Framework, recipe: Recipe) -> Build:
    """Run every stage of ``recipe`` over ``data`` for ``framework``."""
    p = prepare(data, framework, recipe)
    V = np.full((len(data.units), len(p.plan.codes)), np.nan)
    V[:, : len(p.plan.data_codes)] = p.normalised
    V = aggregate(V, p.plan, recipe.aggregate)
    V[~p.included] = np.nan
    decimals = recipe.rank.decimals if recipe.rank.decimals is not None else framework.precision
    ranks = descending_ranks(V, p.included[:, None], recipe.rank.method, decimals)
    by_group = {}
    for column in recipe.rank.groups:
        if column not in data.groups:
            raise ComputeError(f"ranks within {column!r} need that grouping column in the data; "
                               f"it has {', '.join(data.groups) or 'none'}")
        by_group[column] = group_ranks(V, data.groups[column], p.included, recipe.rank.method,
                                       decimals)
    for array in (V, ranks):
        array.setflags(write=False)
    return Build(**vars(p), framework=framework, recipe=recipe, data=data, values=V, ranks=ranks,
                 group_ranks=by_group, decimals=decimals)


def _impute_included(X: np.ndarray, included: np.ndarray, recipe: Recipe,
                     groups: tuple[str, ...] | None, blocks) -> tuple[np.ndarray, np.ndarray]:
    """Imputation from the units still in: a unit screened out before imputing fills no one's
    gaps (its own gaps stay empty: it is out of the index)."""
    if included.all():
        return impute(X, recipe.impute, groups, blocks)
    kept = tuple(g for g, keep in zip(groups, included) if keep) if groups is not None else None
    inner, inner_mask = impute(X[included], recipe.impute, kept, blocks)
    values, mask = X.copy(), np.zeros(X.shape, dtype=bool)
    values[included], mask[included] = inner, inner_mask
    return values, mask


def _treat_included(X: np.ndarray, included: np.ndarray, recipe: Recipe, nodes) -> Treatment:
    """Outlier treatment over the units still in: a unit screened out before it moves no one's
    values (its own row keeps its untreated values)."""
    directions = np.array([n.direction for n in nodes])
    if included.all():
        return treat(X, recipe.treat, directions)
    inner = treat(X[included], recipe.treat, directions)
    values, mask = X.copy(), np.zeros(X.shape, dtype=bool)
    values[included], mask[included] = inner.values, inner.winsorised
    return replace(inner, values=values, winsorised=mask)


def _row_blocks(fw: Framework, plan: Plan) -> list[np.ndarray]:
    """Column groups sharing a parent, for row-wise imputation within an aggregate."""
    index = {c: i for i, c in enumerate(plan.data_codes)}
    blocks: dict[str, list[int]] = {}
    for code in plan.data_codes:
        parents = fw[code].parents
        if parents:
            blocks.setdefault(parents[0], []).append(index[code])
    return [np.array(b) for b in blocks.values()] or [np.arange(len(plan.data_codes))]


def _column_info(nodes) -> ColumnInfo:
    nan = np.nan
    return ColumnInfo(
        directions=np.array([n.direction for n in nodes], dtype=float),
        scales=tuple(n.scale for n in nodes),
        max_points=np.array([n.max_points if n.max_points is not None else nan for n in nodes]),
        goal_lower=np.array([n.goalposts[0] if n.goalposts else nan for n in nodes]),
        goal_upper=np.array([n.goalposts[1] if n.goalposts else nan for n in nodes]),
        targets=np.array([n.target if n.target is not None else nan for n in nodes]),
    )
