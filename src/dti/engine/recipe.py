"""The recipe: every method choice of a build, as one frozen value.

The recipe *is* the method log: a variant of a build (what-if, Monte Carlo run) is
``dataclasses.replace(recipe, ...)`` and a rebuild.  ``Recipe.from_dict`` reads the YAML/JSON form
and reports every problem at once; ``Recipe.problems`` checks any recipe (also a replaced one) on
its own, ``Recipe.problems_for`` against a framework (codes it names, goalposts and targets it
needs).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Mapping

from dti.errors import Problem, RecipeError
from dti.framework.checks import AGGREGATION_METHODS
from dti.framework.model import Framework

IMPUTE_METHODS = ("none", "mean", "median", "group_mean", "group_median", "row_mean")
TREAT_METHODS = ("none", "jrc")
# What treat does to a column winsorisation could not fix (the formulas: dti.engine.treat).
TREAT_FALLBACKS = ("log", "log_ct", "log_ct_plus", "none")
# The stage whose output screening counts availability on and after which it drops units.  The
# default screens before imputing; COINr's build_example_coin() screens after it.  Screening after
# aggregation is refused: it would drop units only from the ranks, which rank already does.
SCREEN_AFTER = ("raw", "denominate", "impute", "treat", "normalise")
# The stages in the order build runs them, screening left out: it goes after SCREEN_AFTER's stage.
STAGES = ("denominate", "impute", "treat", "normalise", "aggregate", "rank")
NORMALISE_METHODS = (
    "none", "ratio", "minmax", "zscore", "goalposts", "distance_to_target", "rank", "percentile",
)
AGGREGATE_METHODS = AGGREGATION_METHODS  # one list, shared with the framework checks
RANK_METHODS = ("competition", "dense")
MAX_DECIMALS = 12       # rank.decimals: scores are rounded to 0..12 decimals before ranking
MAX_POWER = 100.0       # |aggregate.p|: beyond it x ** p overflows and the mean is min or max
SPREAD_METHODS = ("minmax", "goalposts", "distance_to_target", "percentile")  # use lower..upper


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
    """Drop units whose share of available indicator values is below ``min_availability``.

    ``after`` names the stage whose output the share is counted on (one of ``SCREEN_AFTER``):
    ``denominate`` (the default) screens the data before imputing, so an imputed value never
    saves a unit; ``impute`` counts the imputed data, as COINr's ``build_example_coin()`` does.
    Every stage after screening runs on the units kept; the stages before it ran on all units.
    """

    min_availability: float | None = None
    after: str = "denominate"


@dataclass(frozen=True)
class TreatSpec:
    """JRC outlier treatment: winsorise while |skew| >= ``skew`` and kurtosis >= ``kurtosis``.

    ``fallback`` (one of ``TREAT_FALLBACKS``) transforms a column winsorisation could not fix:
    ``log`` is the original COIN Tool log, ``log_ct`` COINr's default ``log_CT``, ``log_ct_plus``
    COINr's skew-aware ``log_CT_plus``; ``none`` leaves it as it was.
    """

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

    def stage_order(self) -> tuple[str, ...]:
        """The stages in the order a build runs them, ``screen`` where ``screen.after`` puts it
        (so outputs and method pages can say it; a build records it as ``Build.stages``).  For a
        recipe whose ``screen.after`` is valid (``problems`` reports one that is not)."""
        after = self.screen.after
        if after == "raw":
            return ("screen", *STAGES)
        at = STAGES.index(after) + 1 if after in STAGES else 1
        return (*STAGES[:at], "screen", *STAGES[at:])

    def weight_overrides(self) -> dict[str, float]:
        return dict(self.weights)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["weights"] = dict(self.weights)
        out["exclude"] = list(self.exclude)
        out["rank"]["groups"] = list(self.rank.groups)
        return out

    @classmethod
    def from_dict(cls, raw: Any, *, file: str | None = None,
                  base: "Recipe | None" = None) -> "Recipe":
        """Read a recipe mapping over ``base`` (defaults); raise RecipeError with every problem.

        Each option is read as the type its field declares (a quoted "0.9" is the number 0.9);
        a value that cannot be read so is reported, and the option keeps its ``base`` value.
        """
        base = base or cls()
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            raise RecipeError([Problem("recipe.not_mapping", "the recipe must be a mapping of "
                                       "sections (normalise: …, aggregate: …), not "
                                       f"{_kind_of(raw)}", file=file, value=_shown(raw))])
        problems: list[Problem] = []
        parts: dict[str, Any] = {}
        known_sections = [*SECTIONS, "weights", "exclude"]
        for key in raw:
            if key not in known_sections:
                problems.append(Problem("recipe.unknown_key", f"unknown recipe section {key!r}; "
                                        f"known: {', '.join(known_sections)}", file=file,
                                        column=str(key)))
        for name, kinds in FIELD_KINDS.items():
            section = raw.get(name)
            if section is None:
                continue
            if isinstance(section, str):
                section = {"method": section}
            if not isinstance(section, Mapping):
                problems.append(Problem("recipe.not_mapping", f"section {name!r} must be a mapping "
                                        f"of options ({', '.join(kinds)}), not {_kind_of(section)}",
                                        file=file, column=name, value=_shown(section)))
                continue
            values: dict[str, Any] = {}
            for key, value in section.items():
                where = f"{name}.{key}"
                if key not in kinds:
                    problems.append(Problem("recipe.unknown_key", f"unknown option {where}; "
                                            f"known: {', '.join(kinds)}", file=file, column=where))
                    continue
                try:
                    values[key] = _coerce(value, *kinds[key])
                except _WrongType as wrong:
                    problems.append(Problem("recipe.bad_type", f"{where} must be {wrong}, got "
                                            f"{value!r}", file=file, column=where,
                                            value=_shown(value)))
            parts[name] = replace(getattr(base, name), **values)
        weights = _read_weights(raw.get("weights", dict(base.weights)), file, problems)
        exclude = base.exclude
        if "exclude" in raw:
            try:
                exclude = _coerce(raw["exclude"], "tuple[str, ...]", True) or ()
            except _WrongType:
                problems.append(Problem("recipe.bad_type", "exclude must be a list of node codes, "
                                        f"got {raw['exclude']!r}", file=file, column="exclude",
                                        value=_shown(raw["exclude"])))
        recipe = replace(base, **parts, weights=weights, exclude=exclude)
        problems.extend(recipe.problems(file))
        if problems:
            raise RecipeError(problems)
        return recipe

    def problems(self, file: str | None = None) -> list[Problem]:
        """Every value of the wrong type or outside its allowed set or range.

        Safe on any recipe, also one made with ``dataclasses.replace`` (a what-if or Monte Carlo
        variant): a value of the wrong type is reported, never compared.
        """
        out: list[Problem] = []

        def bad(code: str, where: str, message: str, value: Any = None) -> None:
            out.append(Problem(code, message, file=file, column=where, value=_shown(value)))

        ok: dict[str, Any] = {}  # every option whose type is right, by "section.option"
        for section, kinds in FIELD_KINDS.items():
            for key, (kind, optional) in kinds.items():
                where, value = f"{section}.{key}", getattr(getattr(self, section), key)
                if not _has_kind(value, kind, optional):
                    bad("recipe.bad_type", where, f"{where} must be {_describe(kind, optional)}, "
                        f"got {value!r}", value)
                elif kind == "float" and value is not None and not math.isfinite(value):
                    bad("recipe.out_of_range", where, f"{where} must be a finite number, got "
                        f"{value!r}", value)
                else:
                    ok[where] = value
        choices = [("impute.method", IMPUTE_METHODS), ("treat.method", TREAT_METHODS),
                   ("treat.fallback", TREAT_FALLBACKS), ("screen.after", SCREEN_AFTER),
                   ("normalise.method", NORMALISE_METHODS),
                   ("aggregate.method", AGGREGATE_METHODS), ("rank.method", RANK_METHODS)]
        for where, allowed in choices:
            value = ok.get(where)
            if value is not None and value not in allowed:
                bad("recipe.bad_choice", where, f"{where} is {value!r}; choose one of "
                    f"{', '.join(allowed)}", value)
        method = ok.get("impute.method")
        if isinstance(method, str) and method.startswith("group_") and not self.impute.group:
            bad("recipe.missing_group", "impute.group", "impute.group must name a grouping column "
                f"for {method}")
        for where in ("screen.min_availability", "aggregate.min_availability"):
            value = ok.get(where)
            if value is not None and not 0.0 <= value <= 1.0:
                bad("recipe.out_of_range", where, f"{where} is a share: it must be between 0 and "
                    f"1, got {value}", value)
        if ok.get("treat.max_points", 0) < 0:
            bad("recipe.out_of_range", "treat.max_points", "treat.max_points must be a whole "
                f"number ≥ 0, got {self.treat.max_points}", self.treat.max_points)
        if ok.get("denominate.scale", 1.0) <= 0:
            bad("recipe.out_of_range", "denominate.scale", "denominate.scale must be above 0, got "
                f"{self.denominate.scale}", self.denominate.scale)
        lower, upper = ok.get("normalise.lower"), ok.get("normalise.upper")
        if ok.get("normalise.method") in SPREAD_METHODS and lower is not None \
                and upper is not None and upper <= lower:
            bad("recipe.out_of_range", "normalise.upper", f"normalise.upper ({upper}) must be "
                f"above normalise.lower ({lower})", upper)
        if ok.get("normalise.method") == "zscore" and ok.get("normalise.sd", 1.0) <= 0:
            bad("recipe.out_of_range", "normalise.sd", "normalise.sd must be above 0 for zscore, "
                f"got {self.normalise.sd}", self.normalise.sd)
        p = ok.get("aggregate.p")
        if p == 0:
            bad("recipe.out_of_range", "aggregate.p", "aggregate.p = 0 is the geometric mean; "
                "use method: geometric", p)
        elif p is not None and abs(p) > MAX_POWER:
            bad("recipe.out_of_range", "aggregate.p", f"aggregate.p must be between {-MAX_POWER:g} "
                f"and {MAX_POWER:g} (a larger power overflows), got {p}", p)
        decimals = ok.get("rank.decimals")
        if decimals is not None and not 0 <= decimals <= MAX_DECIMALS:
            bad("recipe.out_of_range", "rank.decimals", "rank.decimals must be a whole number "
                f"from 0 to {MAX_DECIMALS}, got {decimals}", decimals)
        for code, weight in self.weights:
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) \
                    or not math.isfinite(weight) or weight < 0:
                out.append(Problem("recipe.bad_weight", f"weight of {code!r} must be a finite "
                                   f"number ≥ 0, got {weight!r}", file=file, column="weights",
                                   indicator=str(code), value=_shown(weight)))
        if not _has_kind(self.exclude, "tuple[str, ...]", False):
            bad("recipe.bad_type", "exclude", f"exclude must be a list of node codes, got "
                f"{self.exclude!r}", self.exclude)
        return out

    def problems_for(self, framework: Framework, file: str | None = None) -> list[Problem]:
        """What this (valid) recipe cannot do with ``framework``: weights or exclusions of codes
        the framework does not have, and a normalisation that needs goalposts or targets some
        counted indicator lacks.  (impute.group and rank.groups name data columns: the data,
        not the framework, can tell whether they exist.)"""
        out: list[Problem] = []
        for where, codes in (("weights", [code for code, _ in self.weights]),
                             ("exclude", list(self.exclude))):
            for code in codes:
                if code not in framework:
                    out.append(Problem("recipe.unknown_node", f"{where} names {code!r}, which is "
                                       f"not a node of framework {framework.id!r}; correct the "
                                       "code or remove it", file=file, column=where,
                                       indicator=str(code), value=code))
        excluded = set(self.exclude)
        counted = [n for n in framework.data_nodes if n.scored and n.code not in excluded]
        method = self.normalise.method
        if method == "goalposts":
            missing = [n.code for n in counted if n.goalposts is None]
            if missing:
                out.append(Problem("recipe.needs_goalposts", _needs(method, "goalposts", missing),
                                   file=file, column="normalise.method", value=method,
                                   indicator=missing[0] if len(missing) == 1 else None))
        elif method == "distance_to_target":
            missing = [n.code for n in counted if n.target is None]
            if missing:
                out.append(Problem("recipe.needs_target", _needs(method, "a target", missing),
                                   file=file, column="normalise.method", value=method,
                                   indicator=missing[0] if len(missing) == 1 else None))
        return out


def _needs(method: str, what: str, missing: list[str]) -> str:
    shown = ", ".join(missing[:12]) + (f" and {len(missing) - 12} more" if len(missing) > 12 else "")
    return (f"normalise.method {method} needs {what} for every indicator that counts, and "
            f"{len(missing)} {'has' if len(missing) == 1 else 'have'} none ({shown}); give "
            f"{'it' if len(missing) == 1 else 'them'} {what} in the framework or choose another "
            "normalise.method")


SECTIONS: dict[str, type] = {f.name: f.default_factory for f in fields(Recipe)  # type: ignore[misc]
                             if f.name not in ("weights", "exclude")}
_KINDS = ("bool", "int", "float", "str", "tuple[str, ...]")


def _field_kind(annotation: Any) -> tuple[str, bool]:
    """(kind, optional) of a declared field type: 'float | None' -> ('float', True).

    The annotations are strings (``from __future__ import annotations``); a new field of a type
    not listed in ``_KINDS`` fails here, at import, rather than slipping through unchecked.
    """
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    parts = [part.strip() for part in text.split("|")]
    rest = [part for part in parts if part != "None"]
    if len(rest) != 1 or rest[0] not in _KINDS:
        raise TypeError(f"recipe field type {text!r} is not one of {_KINDS}")
    return rest[0], "None" in parts


FIELD_KINDS: dict[str, dict[str, tuple[str, bool]]] = {
    name: {f.name: _field_kind(f.type) for f in fields(spec)} for name, spec in SECTIONS.items()}


class _WrongType(Exception):
    """A value that cannot be read as its field's type; the text says what was expected."""


def _describe(kind: str, optional: bool) -> str:
    text = {"bool": "true or false", "int": "a whole number", "float": "a number",
            "str": "a name", "tuple[str, ...]": "a list of names"}[kind]
    return f"{text} (or empty)" if optional else text


def _has_kind(value: Any, kind: str, optional: bool) -> bool:
    if value is None:
        return optional
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "str":
        return isinstance(value, str)
    return isinstance(value, tuple) and all(isinstance(v, str) for v in value)


def _coerce(value: Any, kind: str, optional: bool) -> Any:
    """Read a YAML/JSON value as ``kind``; raise _WrongType saying what was expected."""
    expected = _describe(kind, optional)
    if value is None or (optional and isinstance(value, str) and not value.strip()):
        if optional:
            return None
        raise _WrongType(expected)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        raise _WrongType(expected)
    if kind == "tuple[str, ...]":
        if isinstance(value, str):
            return (value,) if value.strip() else ()
        if isinstance(value, (list, tuple)) and all(_is_name(v) for v in value):
            return tuple(str(v) for v in value)
        raise _WrongType(expected)
    if kind == "str":
        if _is_name(value):
            return str(value)
        raise _WrongType(expected)
    number = _as_number(value)
    if number is None:
        raise _WrongType(expected)
    if kind == "int":
        if not (math.isfinite(number) and float(number).is_integer()):
            raise _WrongType(expected)
        return int(number)
    return float(number)  # non-finite values are reported by Recipe.problems


def _is_name(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, (int, float)) and not isinstance(value, bool))


def _as_number(value: Any) -> float | int | None:
    """A number from a YAML number or a numeric text ("0.9", "0,9"); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if abs(value) < 2 ** 53 else None
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        text = value.strip()
        if "." not in text and text.count(",") == 1:
            text = text.replace(",", ".")
        try:
            return float(text)
        except ValueError:
            return None
    return None


def _read_weights(weights: Any, file: str | None, problems: list[Problem]) -> tuple:
    """Weight overrides as sorted (code, weight) pairs; every bad one is reported."""
    if weights is None:
        return ()
    if not isinstance(weights, Mapping):
        problems.append(Problem("recipe.not_mapping", "weights must map node codes to numbers "
                                f"(e.g. weights: {{TCS: 0.5}}), not {_kind_of(weights)}",
                                file=file, column="weights", value=_shown(weights)))
        return ()
    clean: dict[str, float] = {}
    for code, w in weights.items():
        number = _as_number(w)
        if number is None or not math.isfinite(number) or number < 0:
            problems.append(Problem("recipe.bad_weight", f"weight of {code!r} must be a finite "
                                    f"number ≥ 0, got {w!r}", file=file, column="weights",
                                    indicator=str(code), value=_shown(w)))
        else:
            clean[str(code)] = float(number)
    return tuple(sorted(clean.items()))


def _kind_of(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, str):
        return f"the text {value!r}" if len(value) <= 40 else "a text"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    return f"a {type(value).__name__}"


def _shown(value: Any) -> Any:
    """A value as a problem carries it: lists and tuples as lists, long text cut."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, str) and len(value) > 200:
        return value[:200] + "…"
    return value
