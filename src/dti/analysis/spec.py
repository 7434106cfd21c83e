"""The uncertain choices of an analysis, read from YAML, and how a design point becomes runs.

```yaml
runs: 10000
seed: 2022
design: random            # random | sobol (scrambled quasi-random)
rank_thresholds: [1, 3, 5, 10]
choices:
  - {name: weights, noise: 0.25}                 # every weight × U(0.75, 1.25) (level: to limit)
  - {name: weights, noise: 0.25, level: [2, 3]}  # one factor: noise on the weights of levels 2 and 3
  - {name: normalise.method, alternatives: [minmax, zscore]}
  - {name: normalise, alternatives: [{method: minmax}, {method: zscore, mean: 100, sd: 10}]}
  - {name: aggregate.method, alternatives: [arithmetic, geometric]}
  - {name: treat.max_points, alternatives: [1, 2, 3, 4, 5]}
  - {name: exclude, alternatives: [none, HDXHS, HOAT_DONG]}   # drop an indicator or pillar
  - {name: normalise.upper, range: [50, 150]}          # any numeric recipe field
```

Each choice is one input factor u ∈ [0, 1): a discrete choice takes alternative ⌊u·m⌋; a range
takes lo + u·(hi − lo) — on a whole-number field (``treat.max_points``, ``rank.decimals``) it takes
each whole number from lo to hi with equal probability, lo + ⌊u·(hi − lo + 1)⌋, exactly as the
alternatives [lo, …, hi] would; ``weights`` takes the ⌊u·M⌋-th of M weight sets drawn once from
the seed (the JRC/COINr practice of treating a weight scheme as one uncertain input).  A weights
choice may name several levels (``level: [2, 3]``): still one factor, each of its weight sets
perturbing the weights of every level listed, as COINr's ``get_noisy_weights`` does with a
``noise_specs`` of several rows.

Reading a spec reports every problem at once, located at its key (``choices[2]``, ``runs`` …),
and rejects choices that would silently do nothing or crash later: a name given twice (two
``weights`` choices only on levels that do not overlap), a level listed twice in one choice, a
recipe option varied by two choices, a range on a text field or with an end the recipe does not
allow, dropping the root or a node not below it, a weights level where no node carries weight.  Checks that need the framework run when
``framework`` is given, and again (:meth:`AnalysisSpec.problems_for`) when an analysis starts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any, Mapping

import numpy as np

from dti.engine.recipe import FIELD_KINDS, Recipe
from dti.errors import InputError, Problem, RecipeError
from dti.framework.model import Framework

WEIGHT_SETS = 1024
DESIGNS = ("random", "sobol")
# Each run keeps a rank and a score per unit (16 bytes): 10 million runs × 63 provinces is 10 GB.
MAX_RUNS = 10_000_000
DEFAULTS: dict[str, Any] = {"runs": 1000, "seed": 0, "design": "random",
                            "rank_thresholds": (1, 3, 5, 10)}
SCALE_NOTE = "scores are on different scales across normalisations; only ranks are compared"
_WEIGHTS_KEYS = ("name", "noise", "level")
_CHOICE_KEYS = ("name", "alternatives", "range")


class AnalysisSpecError(InputError):
    """An analysis spec with problems."""


@dataclass(frozen=True)
class Choice:
    name: str
    alternatives: tuple[Any, ...] = ()
    range: tuple[float, float] | None = None
    noise: float | None = None
    levels: tuple[int, ...] = ()    # weights: the levels whose weights vary (empty: every level)

    @property
    def is_weights(self) -> bool:
        return self.name == "weights"

    @property
    def whole(self) -> bool:
        """A range over a whole-number recipe field: it takes whole numbers."""
        section, _, option = self.name.partition(".")
        return FIELD_KINDS.get(section, {}).get(option, ("", False))[0] == "int"

    @property
    def changes_scale(self) -> bool:
        """Varies the normalisation, so scores of different runs are on different scales."""
        return self.name == "normalise" or self.name.startswith("normalise.")

    def label(self) -> str:
        if self.is_weights:
            return f"weights ±{self.noise:.0%}" + (f" ({_levels(self)})" if self.levels else "")
        return self.name

    def to_dict(self) -> dict[str, Any]:
        if self.is_weights:
            # one level as a number, as specs wrote it before lists were allowed (published
            # snapshots carry this dict: their checksums must not change)
            level = self.levels[0] if len(self.levels) == 1 else list(self.levels)
            return {"name": self.name, "noise": self.noise, **({"level": level} if self.levels
                                                               else {})}
        if self.range is not None:
            return {"name": self.name, "range": list(self.range)}
        if self.name == "exclude":
            return {"name": self.name, "alternatives": [
                "none" if not a else a[0] if len(a) == 1 else list(a) for a in self.alternatives]}
        return {"name": self.name, "alternatives": [dict(a) if isinstance(a, tuple) else a
                                                    for a in self.alternatives]}

    def settings(self) -> set[str]:
        """The recipe options this choice sets (to find two choices that vary the same one)."""
        if "." in self.name or self.name == "exclude":
            return {self.name}
        return {f"{self.name}.{key}" for a in self.alternatives for key, _ in a}


@dataclass(frozen=True)
class AnalysisSpec:
    choices: tuple[Choice, ...]
    runs: int = 1000
    seed: int = 0
    design: str = "random"
    rank_thresholds: tuple[int, ...] = (1, 3, 5, 10)

    @property
    def changes_scale(self) -> bool:
        """Some choice varies the normalisation: scores of different runs are not comparable
        (0–1 ratios against 0–100 min-max against z-scores), so score statistics and score
        indices are left out and only ranks are compared."""
        return any(c.changes_scale for c in self.choices)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], file: str | None = None,
                  framework: Framework | None = None) -> "AnalysisSpec":
        """Read a spec mapping; raise :class:`AnalysisSpecError` with every problem."""
        problems: list[Problem] = []
        if not isinstance(raw, Mapping):
            raise AnalysisSpecError([Problem("analysis.unreadable", "the spec must be a mapping "
                                             "with a 'choices' list", file=file)])
        for key in raw:
            if key not in (*DEFAULTS, "choices"):
                problems.append(Problem("analysis.unknown_key", f"unknown key {key!r}; known: "
                                        f"{', '.join([*DEFAULTS, 'choices'])}", file=file,
                                        column=str(key)))
        read = _choices(raw.get("choices"), file, problems)
        if framework is not None:
            problems.extend(_framework_problems(read, framework, file))
        runs, seed = _runs_and_seed(raw, file, problems)
        design = raw.get("design", DEFAULTS["design"])
        if design not in DESIGNS:
            problems.append(Problem("analysis.bad_design", f"design {design!r} is not random or "
                                    "sobol", file=file, column="design", value=design))
        thresholds = _thresholds(raw.get("rank_thresholds", DEFAULTS["rank_thresholds"]), file,
                                 problems)
        if problems:
            raise AnalysisSpecError(sorted(problems, key=_order))
        return cls(tuple(c for _, c in read), runs, seed, design, thresholds)

    def problems_for(self, framework: Framework, file: str | None = None,
                     output: str | None = None) -> list[Problem]:
        """What this spec cannot do with ``framework``: dropping a node it lacks, the node
        studied (``output``, default the root) or a node not below it (nothing would change),
        weights noise on a level where no node carries weight."""
        return _framework_problems(list(enumerate(self.choices)), framework, file, output)

    def to_dict(self) -> dict[str, Any]:
        """The whole spec as :meth:`from_dict` reads it: a result carries it to be re-run."""
        return {"runs": self.runs, "seed": self.seed, "design": self.design,
                "rank_thresholds": list(self.rank_thresholds),
                "choices": [c.to_dict() for c in self.choices]}


# ------------------------------------------------------------------------------ reading

def _order(problem: Problem) -> tuple:
    """Problems in the order of the spec: top-level keys, then choices by index."""
    column = problem.column or ""
    index = int(column[8:-1]) if column.startswith("choices[") else -1
    return (index, column)


def _framework_problems(choices: list[tuple[int, Choice]], framework: Framework,
                        file: str | None, output: str | None = None) -> list[Problem]:
    problems: list[Problem] = []
    root = output or framework.root.code
    below = set(framework.descendants(root))
    levels = sorted({n.level for n in (*framework.data_nodes, *framework.aggregates)
                     if n.parents})
    for i, choice in choices:
        where = {"file": file, "column": f"choices[{i}]"}
        dropped = [code for a in choice.alternatives for code in a] \
            if choice.name == "exclude" else []
        unknown = [c for c in dropped if c not in framework]
        if unknown:
            problems.append(Problem("analysis.bad_choice", f"cannot drop {', '.join(unknown)}: "
                                    "not a node of the framework", **where))
        if root in dropped:
            problems.append(Problem("analysis.bad_choice", f"cannot drop {root}, the node "
                                    "ranked: nothing would be left to rank", **where, value=root))
        outside = [c for c in dropped if c in framework and c != root and c not in below]
        if outside:
            problems.append(Problem("analysis.bad_choice", f"dropping {', '.join(outside)} "
                                    f"changes nothing: not below {root}, the node ranked",
                                    **where))
        unknown_levels = [k for k in choice.levels if k not in levels]
        if choice.is_weights and unknown_levels:
            problems.append(Problem("analysis.bad_choice", f"weights level "
                                    f"{', '.join(map(str, unknown_levels))} matches no node that "
                                    "carries weight; levels with weighted nodes: "
                                    f"{', '.join(map(str, levels))}", **where,
                                    value=unknown_levels[0]))
    return problems


def _runs_and_seed(raw: Mapping[str, Any], file: str | None,
                   problems: list[Problem]) -> tuple[int, int]:
    runs, seed = raw.get("runs", DEFAULTS["runs"]), raw.get("seed", DEFAULTS["seed"])
    whole_runs, whole_seed = _whole_number(runs), _whole_number(seed)
    if whole_runs is None or not 1 <= whole_runs <= MAX_RUNS:
        problems.append(Problem("analysis.bad_runs", f"runs must be a whole number from 1 to "
                                f"{MAX_RUNS:,}, got {runs!r} (every run keeps a rank and a score "
                                "per unit in memory: 10 million runs at 63 units take 10 GB)",
                                file=file, column="runs", value=runs))
    if whole_seed is None or whole_seed < 0:
        problems.append(Problem("analysis.bad_seed", f"seed must be a whole number ≥ 0, got "
                                f"{seed!r}", file=file, column="seed", value=seed))
    return whole_runs or DEFAULTS["runs"], whole_seed or 0


def _whole_number(value: Any) -> int | None:
    """An int from a YAML number or numeric text ("7", 7.0); None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value if isinstance(value, int) else None


def _thresholds(value: Any, file: str | None, problems: list[Problem]) -> tuple[int, ...]:
    numbers = [_whole_number(k) for k in value] if isinstance(value, (list, tuple)) else [None]
    if not numbers or any(k is None or k < 1 for k in numbers):
        problems.append(Problem("analysis.bad_thresholds", "rank_thresholds must be a list of "
                                f"whole numbers ≥ 1, e.g. [1, 3, 5, 10]; got {value!r}",
                                file=file, column="rank_thresholds", value=value))
        return DEFAULTS["rank_thresholds"]
    return tuple(dict.fromkeys(numbers))


def _choices(raw: Any, file: str | None, problems: list[Problem]) -> list[tuple[int, Choice]]:
    """The choices read, each with its index in the list."""
    if raw is not None and not isinstance(raw, (list, tuple)):
        problems.append(Problem("analysis.bad_choice", "choices must be a list of choices, each "
                                "a mapping with a name", file=file, column="choices"))
        return []
    read = [(i, c) for i, item in enumerate(raw or [])
            if (c := _choice(item, _Where(file, i), problems)) is not None]
    if not raw:
        problems.append(Problem("analysis.no_choices", "the spec names no uncertain choice; "
                                "add a 'choices' list", file=file, column="choices"))
    for n, (i, choice) in enumerate(read):
        clash = next((m for j, earlier in read[:n] if (m := _clash(earlier, j, choice))), None)
        if clash:
            problems.append(Problem("analysis.bad_choice", clash, file=file,
                                    column=f"choices[{i}]"))
    return read


def _clash(earlier: Choice, j: int, choice: Choice) -> str | None:
    """Why ``choice`` cannot stand with ``earlier`` (choices[j]), or None."""
    if earlier.is_weights and choice.is_weights:
        if not earlier.levels or not choice.levels or set(earlier.levels) & set(choice.levels):
            return (f"weights noise on {_levels(choice)} overlaps choices[{j}] (on "
                    f"{_levels(earlier)}); two weights choices must each name a different level "
                    "(or list several levels in one choice: one factor)")
        return None
    if earlier.name == choice.name:
        return (f"choice {choice.name!r} appears twice (also choices[{j}]); list all its "
                "alternatives in one choice")
    both = sorted(earlier.settings() & choice.settings())
    if both:
        return (f"{', '.join(both)} is also varied by choices[{j}] ({earlier.name!r}); vary each "
                "recipe option in one choice only")
    return None


def _levels(choice: Choice) -> str:
    if not choice.levels:
        return "every level"
    return f"level{'s' if len(choice.levels) > 1 else ''} {', '.join(map(str, choice.levels))}"


@dataclass(frozen=True)
class _Where:
    file: str | None
    index: int

    def problem(self, message: str, value: Any = None) -> Problem:
        return Problem("analysis.bad_choice", message, file=self.file,
                       column=f"choices[{self.index}]", value=value)


def _choice(item: Any, where: _Where, problems: list[Problem]) -> Choice | None:
    if not isinstance(item, Mapping) or "name" not in item:
        problems.append(where.problem("each choice needs a name"))
        return None
    name = str(item["name"])
    allowed = _WEIGHTS_KEYS if name == "weights" else _CHOICE_KEYS
    extra = [str(k) for k in item if k not in allowed]
    if extra:
        problems.append(where.problem(f"{', '.join(extra)} "
                                      f"{'is not a key' if len(extra) == 1 else 'are not keys'} "
                                      f"of a {name!r} choice; use {', '.join(allowed)}"))
        return None
    if name == "weights":
        return _weights_choice(item, where, problems)
    alternatives, span = item.get("alternatives"), item.get("range")
    if alternatives is not None and not isinstance(alternatives, (list, tuple)):
        problems.append(where.problem(f"alternatives of {name!r} must be a list, e.g. "
                                      "[minmax, zscore]", alternatives))
        return None
    if bool(alternatives) == (span is not None):
        problems.append(where.problem(f"choice {name!r} needs either alternatives or a range "
                                      "[low, high]"))
        return None
    if name == "exclude":
        if span is not None:
            problems.append(where.problem("exclude takes alternatives (codes or none), not a "
                                          "range"))
            return None
        return Choice(name, alternatives=tuple(() if a in (None, "none", "") else (str(a),)
                                               for a in alternatives))
    if span is not None:
        return _range_choice(name, span, where, problems)
    return _alternatives_choice(name, tuple(alternatives), where, problems)


def _weights_choice(item: Mapping[str, Any], where: _Where,
                    problems: list[Problem]) -> Choice | None:
    noise, level = item.get("noise"), item.get("level")
    ok = True
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not 0 <= noise < 1:
        problems.append(where.problem("weights need noise: a fraction in [0, 1), e.g. 0.25 for "
                                      "±25 %", noise))
        ok = False
    levels = _weights_levels(level, where, problems)
    ok = ok and levels is not None
    return Choice("weights", noise=float(noise), levels=levels) if ok else None


def _weights_levels(level: Any, where: _Where, problems: list[Problem]) -> tuple[int, ...] | None:
    """The levels of a weights choice: none given (every level), one number or a list of
    distinct ones; None after a problem."""
    if level is None:
        return ()
    listed = list(level) if isinstance(level, (list, tuple)) else [level]
    whole = [_whole_number(k) for k in listed]
    if not listed or any(k is None for k in whole):
        problems.append(where.problem(f"weights level must be a whole number (a framework "
                                      f"level) or a list of them, e.g. [2, 3]; got {level!r}",
                                      level))
        return None
    twice = sorted({k for k in whole if whole.count(k) > 1})
    if twice:
        problems.append(where.problem(f"weights level {', '.join(map(str, twice))} is listed "
                                      "twice; list each level once", twice[0]))
        return None
    return tuple(whole)


def _alternatives_choice(name: str, alternatives: tuple[Any, ...], where: _Where,
                         problems: list[Problem]) -> Choice | None:
    if "." not in name and all(isinstance(a, Mapping) for a in alternatives):
        # a whole section per alternative, e.g. {method: zscore, mean: 100, sd: 10}
        bad = [k for a in alternatives for k in a if not _recipe_field(f"{name}.{k}")]
        if bad:
            problems.append(where.problem(f"{', '.join(map(str, bad))} not options of {name!r}"))
            return None
        alternatives = tuple(tuple(sorted(a.items())) for a in alternatives)
    elif not _recipe_field(name):
        problems.append(where.problem(f"{name!r} is not a recipe field (e.g. normalise.method, "
                                      "aggregate.method, treat.max_points), 'weights' or "
                                      "'exclude'"))
        return None
    for alternative in alternatives:
        message = _recipe_problem(name, alternative)
        if message:
            problems.append(where.problem(f"alternative {alternative!r} of {name!r}: {message}"))
    return Choice(name, alternatives=alternatives)


def _range_choice(name: str, span: Any, where: _Where, problems: list[Problem]) -> Choice | None:
    if not _recipe_field(name):
        problems.append(where.problem(f"{name!r} is not a recipe field that a range can vary "
                                      "(e.g. normalise.upper, aggregate.p, treat.max_points)"))
        return None
    section, _, option = name.partition(".")
    kind = FIELD_KINDS[section][option][0]
    if kind not in ("int", "float"):
        problems.append(where.problem(f"{name} is not a number, so it takes alternatives, not a "
                                      "range"))
        return None
    try:
        low, high = (float(x) for x in span)
    except (TypeError, ValueError):
        problems.append(where.problem(f"range of {name!r} must be two numbers [low, high]", span))
        return None
    if not (math.isfinite(low) and math.isfinite(high) and low <= high):
        problems.append(where.problem(f"range of {name!r} must be two finite numbers with low ≤ "
                                      f"high, got {list(span)}", list(span)))
        return None
    if kind == "int" and not (low.is_integer() and high.is_integer()):
        problems.append(where.problem(f"{name} is a whole number: give its range as whole "
                                      f"numbers (each is taken with equal probability), got "
                                      f"{list(span)}", list(span)))
        return None
    for end in (low, high):
        message = _recipe_problem(name, int(end) if kind == "int" else end)
        if message:
            problems.append(where.problem(f"range end {plain_value(end, whole=True)} of {name!r}: "
                                          f"{message}", end))
    return Choice(name, range=(low, high))


def _recipe_problem(name: str, value: Any) -> str | None:
    """Why the recipe rejects ``value`` for the field (or section) ``name``; None if it takes it."""
    section, _, option = name.partition(".")
    try:
        Recipe.from_dict({section: dict(value) if not option else {option: value}})
    except RecipeError as exc:
        return exc.problems[0].message
    return None


def _recipe_field(name: str) -> bool:
    section, _, option = name.partition(".")
    spec = getattr(Recipe(), section, None)
    return spec is not None and option in {f.name for f in fields(spec)}


# ------------------------------------------------------------------------------ runs

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
    # runs × choices: each run's pick as a number — an alternative's index, a range's value, a
    # weight set's number — to count runs per alternative without touching ``values``
    inputs: np.ndarray | None = None


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
    inputs = np.zeros((runs, len(spec.choices)))
    discrete: list[int] = []
    for j, choice in enumerate(spec.choices):
        u = U[:, j]
        if choice.is_weights:
            targets = np.array([_weighted_at(framework, c, choice.levels) for c in codes])
            draws = runs if fresh_weights else WEIGHT_SETS
            sets = 1.0 + choice.noise * rng.uniform(-1.0, 1.0, size=(draws, len(codes)))
            sets[:, ~targets] = 1.0
            pick = np.arange(runs) if fresh_weights else np.minimum((u * draws).astype(int), draws - 1)
            multipliers = sets[pick] if multipliers is None else multipliers * sets[pick]
            columns.append(pick.tolist())
            inputs[:, j] = pick
            continue
        key = _range_values(choice, u) if choice.range is not None else \
            np.minimum((u * len(choice.alternatives)).astype(int), len(choice.alternatives) - 1)
        if choice.range is None:
            columns.append([choice.alternatives[k] for k in key])
        else:
            columns.append((key.astype(int) if choice.whole else key).tolist())
        keys = np.column_stack([keys, key])
        inputs[:, j] = key
        discrete.append(j)
    values = tuple(zip(*columns)) if columns else tuple(() for _ in range(runs))
    distinct, first, combination_of_run = np.unique(keys, axis=0, return_index=True,
                                                    return_inverse=True)
    combinations = tuple(_apply(nominal, [(spec.choices[j], values[r][j]) for j in discrete])
                         for r in first)
    return Runs(combinations, combination_of_run.reshape(-1), multipliers, values, inputs)


def _range_values(choice: Choice, u: np.ndarray) -> np.ndarray:
    """lo + u·(hi − lo); on a whole-number field each whole number of [lo, hi] equally often."""
    low, high = choice.range
    if choice.whole:
        return low + np.minimum(np.floor(u * (high - low + 1)), high - low)
    return low + u * (high - low)


def _weighted_at(fw: Framework, code: str, levels: tuple[int, ...]) -> bool:
    node = fw[code]
    return bool(node.parents) and (not levels or node.level in levels)


def plain_value(value: Any, digits: int | None = None, whole: bool = False) -> Any:
    """A value for a recipe, a table or JSON: NumPy scalars as Python ones, NaN as None, floats
    rounded to ``digits`` (None: as they are) and, when ``whole``, whole floats as ints (a range's
    2.0 → 2, a rank); anything that is not a number unchanged."""
    if isinstance(value, np.generic):
        value = value.item()
    if not isinstance(value, float):
        return value
    if math.isnan(value):
        return None
    if whole and value.is_integer():
        return int(value)
    return value if digits is None else round(value, digits)


def choice_value(value: Any) -> Any:
    """A choice's value for a table: a number as :func:`plain_value` (whole floats as ints), a
    dropped-node tuple or a section's settings as text ("HDXHS", "mean=100;method=zscore")."""
    if isinstance(value, tuple):
        return ";".join(f"{v[0]}={v[1]}" if isinstance(v, tuple) else str(v) for v in value)
    return plain_value(value, whole=True)


def _apply(recipe: Recipe, settings: list[tuple[Choice, Any]]) -> Recipe:
    for choice, value in settings:
        if choice.name == "exclude":
            recipe = replace(recipe, exclude=tuple(dict.fromkeys(recipe.exclude + tuple(value))))
            continue
        section, _, option = choice.name.partition(".")
        # validated and typed exactly like a recipe file (a range gives floats: 2.0 → 2)
        settings_of = dict(value) if not option else {option: plain_value(value, whole=True)}
        recipe = Recipe.from_dict({section: settings_of}, base=recipe)
    problems = recipe.problems()
    if problems:
        raise AnalysisSpecError(problems)
    return recipe
