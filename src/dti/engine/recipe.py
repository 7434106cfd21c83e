"""The recipe: every method choice of a build, as one frozen value.

The recipe *is* the method log: a variant of a build (what-if, Monte Carlo run) is
``dataclasses.replace(recipe, ...)`` and a rebuild.  ``Recipe.from_dict`` reads the YAML/JSON form
and reports every problem at once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Mapping

from dti.errors import Problem, RecipeError

IMPUTE_METHODS = ("none", "mean", "median", "group_mean", "group_median", "row_mean")
TREAT_METHODS = ("none", "jrc")
NORMALISE_METHODS = (
    "none", "ratio", "minmax", "zscore", "goalposts", "distance_to_target", "rank", "percentile",
)
AGGREGATE_METHODS = ("points", "arithmetic", "geometric", "harmonic", "generalised")
RANK_METHODS = ("competition", "dense")


@dataclass(frozen=True)
class DenominateSpec:
    """Divide each indicator that names a denominator by that denominator's column."""

    enabled: bool = True
    scale: float = 1.0


@dataclass(frozen=True)
class ImputeSpec:
    method: str = "none"
    group: str | None = None


@dataclass(frozen=True)
class ScreenSpec:
    """Drop units whose share of available indicator values is below ``min_availability``."""

    min_availability: float | None = None


@dataclass(frozen=True)
class TreatSpec:
    """JRC outlier treatment: winsorise while |skew| >= ``skew`` and kurtosis >= ``kurtosis``."""

    method: str = "none"
    max_points: int = 5
    skew: float = 2.0
    kurtosis: float = 3.5
    fallback: str = "log"


@dataclass(frozen=True)
class NormaliseSpec:
    method: str = "minmax"
    lower: float = 0.0
    upper: float = 100.0
    mean: float = 0.0
    sd: float = 1.0


@dataclass(frozen=True)
class AggregateSpec:
    """``method``: None keeps each aggregate's own method from the framework (``arithmetic`` when
    it names none); a method here overrides them all.  ``min_availability``: share of an
    aggregate's (weighted) children that must be present."""

    method: str | None = None
    p: float = 1.0
    min_availability: float | None = None


@dataclass(frozen=True)
class RankSpec:
    method: str = "competition"
    decimals: int | None = None
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Recipe:
    denominate: DenominateSpec = field(default_factory=DenominateSpec)
    impute: ImputeSpec = field(default_factory=ImputeSpec)
    screen: ScreenSpec = field(default_factory=ScreenSpec)
    treat: TreatSpec = field(default_factory=TreatSpec)
    normalise: NormaliseSpec = field(default_factory=NormaliseSpec)
    aggregate: AggregateSpec = field(default_factory=AggregateSpec)
    rank: RankSpec = field(default_factory=RankSpec)
    weights: tuple[tuple[str, float], ...] = ()
    exclude: tuple[str, ...] = ()

    def weight_overrides(self) -> dict[str, float]:
        return dict(self.weights)

    def with_weights(self, weights: Mapping[str, float]) -> "Recipe":
        merged = {**self.weight_overrides(), **weights}
        return replace(self, weights=tuple(sorted(merged.items())))

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["weights"] = dict(self.weights)
        out["exclude"] = list(self.exclude)
        out["rank"]["groups"] = list(self.rank.groups)
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None, *, file: str | None = None,
                  base: "Recipe | None" = None) -> "Recipe":
        """Read a recipe mapping over ``base`` (defaults); raise RecipeError with every problem."""
        base = base or cls()
        raw = dict(raw or {})
        problems: list[Problem] = []
        parts: dict[str, Any] = {}
        specs = {f.name: type(getattr(base, f.name)) for f in fields(cls)
                 if f.name not in ("weights", "exclude")}
        for key in raw:
            if key not in specs and key not in ("weights", "exclude"):
                problems.append(Problem("recipe.unknown_key", f"unknown recipe section {key!r}; "
                                        f"known: {', '.join([*specs, 'weights', 'exclude'])}",
                                        file=file, column=key))
        for name, spec_type in specs.items():
            section = raw.get(name)
            if section is None:
                continue
            if isinstance(section, str):
                section = {"method": section}
            if not isinstance(section, Mapping):
                problems.append(Problem("recipe.not_mapping", f"section {name!r} must be a mapping",
                                        file=file, column=name))
                continue
            current = getattr(base, name)
            known = {f.name: f for f in fields(spec_type)}
            values: dict[str, Any] = {}
            for key, value in section.items():
                if key not in known:
                    problems.append(Problem("recipe.unknown_key", f"unknown option {name}.{key}; "
                                            f"known: {', '.join(known)}", file=file,
                                            column=f"{name}.{key}"))
                    continue
                values[key] = _coerce(value, getattr(current, key), f"{name}.{key}", file, problems)
            parts[name] = replace(current, **values)
        weights = raw.get("weights", dict(base.weights))
        if not isinstance(weights, Mapping):
            problems.append(Problem("recipe.not_mapping", "weights must map node codes to numbers",
                                    file=file, column="weights"))
            weights = {}
        clean_weights = {}
        for code, w in weights.items():
            if isinstance(w, bool) or not isinstance(w, (int, float)) or w < 0:
                problems.append(Problem("recipe.bad_weight", f"weight of {code!r} must be a number "
                                        f"≥ 0, got {w!r}", file=file, column="weights",
                                        indicator=str(code), value=w))
            else:
                clean_weights[str(code)] = float(w)
        exclude = raw.get("exclude", list(base.exclude))
        recipe = replace(base, **parts, weights=tuple(sorted(clean_weights.items())),
                         exclude=tuple(str(x) for x in (exclude or ())))
        problems.extend(recipe.problems(file))
        if problems:
            raise RecipeError(problems)
        return recipe

    def problems(self, file: str | None = None) -> list[Problem]:
        """Every value outside its allowed set or range."""
        out: list[Problem] = []
        choices = [("impute.method", self.impute.method, IMPUTE_METHODS),
                   ("treat.method", self.treat.method, TREAT_METHODS),
                   ("treat.fallback", self.treat.fallback, ("log", "none")),
                   ("normalise.method", self.normalise.method, NORMALISE_METHODS),
                   ("aggregate.method", self.aggregate.method or "arithmetic", AGGREGATE_METHODS),
                   ("rank.method", self.rank.method, RANK_METHODS)]
        for where, value, allowed in choices:
            if value not in allowed:
                out.append(Problem("recipe.bad_choice", f"{where} is {value!r}; choose one of "
                                   f"{', '.join(allowed)}", file=file, column=where, value=value))
        if self.impute.method.startswith("group_") and not self.impute.group:
            out.append(Problem("recipe.missing_group", "impute.group must name a grouping column "
                               f"for {self.impute.method}", file=file, column="impute.group"))
        for where, value in (("screen.min_availability", self.screen.min_availability),
                             ("aggregate.min_availability", self.aggregate.min_availability)):
            if value is not None and not 0.0 <= value <= 1.0:
                out.append(Problem("recipe.out_of_range", f"{where} must be between 0 and 1, got "
                                   f"{value}", file=file, column=where, value=value))
        if self.treat.max_points < 0:
            out.append(Problem("recipe.out_of_range", "treat.max_points must be ≥ 0",
                               file=file, column="treat.max_points", value=self.treat.max_points))
        if self.normalise.upper <= self.normalise.lower and self.normalise.method == "minmax":
            out.append(Problem("recipe.out_of_range", "normalise.upper must be above normalise.lower",
                               file=file, column="normalise.upper"))
        if self.aggregate.method == "generalised" and self.aggregate.p == 0:
            out.append(Problem("recipe.out_of_range", "aggregate.p = 0 is the geometric mean; "
                               "use method: geometric", file=file, column="aggregate.p"))
        return out


def _coerce(value: Any, current: Any, where: str, file: str | None,
            problems: list[Problem]) -> Any:
    """Turn a YAML value into the type of the field's current value."""
    try:
        if isinstance(current, bool):
            if not isinstance(value, bool):
                raise TypeError
            return value
        if isinstance(current, tuple):
            if isinstance(value, str):
                return (value,)
            return tuple(str(v) for v in value)
        if isinstance(current, int) and not isinstance(value, bool):
            if isinstance(value, float) and not value.is_integer():
                raise TypeError
            return int(value)
        if current is None and isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(current, float) or (current is None and isinstance(value, float)):
            if isinstance(value, bool):
                raise TypeError
            return None if value is None else float(value)
        if current is None or isinstance(current, str):
            return None if value is None else str(value)
    except (TypeError, ValueError):
        pass
    problems.append(Problem("recipe.bad_type", f"{where} has the wrong type: {value!r}",
                            file=file, column=where, value=value))
    return current
