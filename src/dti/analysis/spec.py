"""The uncertain choices of an analysis, read from YAML, and how a design point becomes runs.

```yaml
runs: 10000
seed: 2022
design: random            # random | sobol (scrambled quasi-random)
rank_thresholds: [1, 3, 5, 10]
choices:
  - {name: weights, noise: 0.25}                 # every weight × U(0.75, 1.25) (level: to limit)
  - {name: normalise.method, alternatives: [minmax, zscore]}
  - {name: normalise, alternatives: [{method: minmax}, {method: zscore, mean: 100, sd: 10}]}
  - {name: aggregate.method, alternatives: [arithmetic, geometric]}
  - {name: treat.max_points, alternatives: [1, 2, 3, 4, 5]}
  - {name: exclude, alternatives: [none, HDXHS, CQS]}   # drop one indicator or pillar
  - {name: normalise.upper, range: [50, 150]}          # any numeric recipe field
```

Each choice is one input factor u ∈ [0, 1): a discrete choice takes alternative ⌊u·m⌋; a range
takes lo + u·(hi − lo); ``weights`` takes the ⌊u·M⌋-th of M weight sets drawn once from the seed
(the JRC/COINr practice of treating a weight scheme as one uncertain input).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Mapping

import numpy as np

from dti.engine.recipe import Recipe
from dti.errors import InputError, Problem, RecipeError
from dti.framework.model import Framework

WEIGHT_SETS = 1024


class AnalysisSpecError(InputError):
    """An analysis spec with problems."""


@dataclass(frozen=True)
class Choice:
    name: str
    alternatives: tuple[Any, ...] = ()
    range: tuple[float, float] | None = None
    noise: float | None = None
    level: int | None = None

    @property
    def is_weights(self) -> bool:
        return self.name == "weights"

    def label(self) -> str:
        if self.is_weights:
            return f"weights ±{self.noise:.0%}" + (f" (level {self.level})" if self.level else "")
        return self.name


@dataclass(frozen=True)
class AnalysisSpec:
    choices: tuple[Choice, ...]
    runs: int = 1000
    seed: int = 0
    design: str = "random"
    rank_thresholds: tuple[int, ...] = (1, 3, 5, 10)
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], file: str | None = None,
                  framework: Framework | None = None) -> "AnalysisSpec":
        problems: list[Problem] = []
        choices = tuple(c for i, item in enumerate(raw.get("choices") or [])
                        if (c := _choice(item, i, file, framework, problems)) is not None)
        if not choices:
            problems.append(Problem("analysis.no_choices", "the spec names no uncertain choice; "
                                    "add a 'choices' list", file=file, column="choices"))
        spec = cls(choices, int(raw.get("runs", 1000)), int(raw.get("seed", 0)),
                   str(raw.get("design", "random")),
                   tuple(int(k) for k in raw.get("rank_thresholds", (1, 3, 5, 10))))
        if spec.design not in ("random", "sobol"):
            problems.append(Problem("analysis.bad_design", f"design {spec.design!r} is not random "
                                    "or sobol", file=file, column="design"))
        if spec.runs < 1:
            problems.append(Problem("analysis.bad_runs", "runs must be at least 1", file=file,
                                    column="runs", value=spec.runs))
        if problems:
            raise AnalysisSpecError(problems)
        return spec


def _choice(item: Any, i: int, file: str | None, fw: Framework | None,
            problems: list[Problem]) -> Choice | None:
    where = {"file": file, "row": None, "column": f"choices[{i}]"}
    if not isinstance(item, Mapping) or "name" not in item:
        problems.append(Problem("analysis.bad_choice", "each choice needs a name", **where))
        return None
    name = str(item["name"])
    if name == "weights":
        noise = item.get("noise")
        if not isinstance(noise, (int, float)) or not 0 <= noise < 1:
            problems.append(Problem("analysis.bad_choice", "weights need noise: a fraction in "
                                    "[0, 1), e.g. 0.25 for ±25 %", **where))
            return None
        return Choice(name, noise=float(noise), level=item.get("level"))
    alternatives = tuple(item.get("alternatives") or ())
    span = item.get("range")
    if name == "exclude":
        alternatives = tuple(() if a in (None, "none", "") else (str(a),) for a in alternatives)
        unknown = [a[0] for a in alternatives if a and fw is not None and a[0] not in fw]
        if unknown:
            problems.append(Problem("analysis.bad_choice", f"cannot drop {', '.join(unknown)}: "
                                    "not a node of the framework", **where))
    elif "." not in name and alternatives and all(isinstance(a, Mapping) for a in alternatives):
        # a whole section per alternative, e.g. {method: zscore, mean: 100, sd: 10}
        bad = [k for a in alternatives for k in a if not _recipe_field(f"{name}.{k}")]
        if bad:
            problems.append(Problem("analysis.bad_choice", f"{', '.join(map(str, bad))} not "
                                    f"options of {name!r}", **where))
            return None
        alternatives = tuple(tuple(sorted(a.items())) for a in alternatives)
    elif not _recipe_field(name):
        problems.append(Problem("analysis.bad_choice", f"{name!r} is not a recipe field (e.g. "
                                "normalise.method, aggregate.method, treat.max_points), "
                                "'weights' or 'exclude'", **where))
        return None
    if bool(alternatives) == (span is not None):
        problems.append(Problem("analysis.bad_choice", f"choice {name!r} needs either "
                                "alternatives or a range [low, high]", **where))
        return None
    for alternative in alternatives if name != "exclude" else ():
        section, _, option = name.partition(".")
        try:
            Recipe.from_dict({section: dict(alternative) if not option else {option: alternative}})
        except RecipeError as exc:
            problems.append(Problem("analysis.bad_choice", f"alternative {alternative!r} of "
                                    f"{name!r}: {exc.problems[0].message}", **where))
    if span is not None:
        try:
            low, high = (float(x) for x in span)
        except (TypeError, ValueError):
            problems.append(Problem("analysis.bad_choice", f"range of {name!r} must be two "
                                    "numbers [low, high]", **where))
            return None
        span = (low, high)
    return Choice(name, alternatives=alternatives, range=span)


def _recipe_field(name: str) -> bool:
    section, _, option = name.partition(".")
    spec = getattr(Recipe(), section, None)
    return spec is not None and option in {f.name for f in fields(spec)}


def sample_design(spec: AnalysisSpec, runs: int, rng: np.random.Generator) -> np.ndarray:
    """A runs × choices matrix of inputs in [0, 1)."""
    d = len(spec.choices)
    if spec.design == "sobol":
        from scipy.stats import qmc

        # Sobol' points balance at powers of two: draw the next one and keep the first ``runs``.
        m = max(0, int(np.ceil(np.log2(runs))))
        return qmc.Sobol(d, scramble=True, seed=rng).random_base2(m)[:runs]
    return rng.random((runs, d))


@dataclass(frozen=True)
class Runs:
    """What the batch evaluator needs: distinct recipes, each run's recipe, weight multipliers."""

    combinations: tuple[Recipe, ...]
    combination_of_run: np.ndarray
    multipliers: np.ndarray | None
    values: tuple[tuple[Any, ...], ...]   # per run: the value taken by each choice (for reports)


def runs_from_inputs(U: np.ndarray, spec: AnalysisSpec, nominal: Recipe, codes: tuple[str, ...],
                     framework: Framework, rng: np.random.Generator,
                     fresh_weights: bool = False) -> Runs:
    """Turn design inputs into runs.  ``fresh_weights``: one weight draw per run (plain Monte
    Carlo) instead of one of ``WEIGHT_SETS`` drawn once (needed by Sobol estimators, where a
    factor value must mean the same weights wherever it recurs)."""
    runs = U.shape[0]
    multipliers = None
    columns: list[list[Any]] = []
    keys = np.zeros((runs, 0))          # per run: what picks its recipe (weights excluded)
    discrete: list[int] = []
    for j, choice in enumerate(spec.choices):
        u = U[:, j]
        if choice.is_weights:
            targets = np.array([_weighted_at(framework, c, choice.level) for c in codes])
            draws = runs if fresh_weights else WEIGHT_SETS
            sets = 1.0 + choice.noise * rng.uniform(-1.0, 1.0, size=(draws, len(codes)))
            sets[:, ~targets] = 1.0
            pick = np.arange(runs) if fresh_weights else np.minimum((u * draws).astype(int), draws - 1)
            multipliers = sets[pick] if multipliers is None else multipliers * sets[pick]
            columns.append(pick.tolist())
            continue
        if choice.range is not None:
            lo, hi = choice.range
            key = lo + u * (hi - lo)
            columns.append(key.tolist())
        else:
            m = len(choice.alternatives)
            key = np.minimum((u * m).astype(int), m - 1)
            columns.append([choice.alternatives[k] for k in key])
        keys = np.column_stack([keys, key])
        discrete.append(j)
    values = tuple(zip(*columns)) if columns else tuple(() for _ in range(runs))
    distinct, first, combination_of_run = np.unique(keys, axis=0, return_index=True,
                                                    return_inverse=True)
    combinations = tuple(_apply(nominal, [(spec.choices[j], values[r][j]) for j in discrete])
                         for r in first)
    return Runs(combinations, combination_of_run.reshape(-1), multipliers, values)


def _weighted_at(fw: Framework, code: str, level: int | None) -> bool:
    node = fw[code]
    return bool(node.parents) and (level is None or node.level == level)


def _plain(value: Any) -> Any:
    """numpy scalars as Python numbers; whole floats from a range as ints."""
    if isinstance(value, np.generic):
        value = value.item()
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _apply(recipe: Recipe, settings: list[tuple[Choice, Any]]) -> Recipe:
    for choice, value in settings:
        if choice.name == "exclude":
            recipe = replace(recipe, exclude=tuple(dict.fromkeys(recipe.exclude + tuple(value))))
            continue
        section, _, option = choice.name.partition(".")
        # validated and typed exactly like a recipe file (a range gives floats: 2.0 → 2)
        settings_of = dict(value) if not option else {option: _plain(value)}
        recipe = Recipe.from_dict({section: settings_of}, base=recipe)
    problems = recipe.problems()
    if problems:
        raise AnalysisSpecError(problems)
    return recipe
