"""Scoring rules: how a sub-indicator's points follow from its answer.

A rule is written in the "Cách xác định và tính điểm" cell (syntax in ``docs/scoring.md``)::

    ratio a/b; a = Số TTHC trực tuyến toàn trình; b = Tổng số TTHC
    steps x: >=4 -> 20; >=3 -> 15; >=2 -> 10; >=1 -> 5; else 0
    options: Chủ tịch UBND = 1; Phó Chủ tịch = 0,5; Không có = 0
    yesno
    formula x, y: 2 * x - y clamp 0..max

Points are always computed, never typed, and rounded to :data:`DECIMALS` decimals.
:meth:`Rule.points` never raises on an answer: it returns None when the answer is incomplete or
cannot be scored (a zero denominator, a negative number, an unknown option); ``parse_answer``
says why.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from dti.errors import Problem
from dti.scoring.formula import FormulaSyntaxError, evaluate, parse_formula
from dti.scoring.text import fold, nfc, parse_number, slug

DECIMALS = 4
KINDS = ("ratio", "steps", "options", "yesno", "formula")
FieldKind = Literal["number", "choice", "yesno"]
_BRACKETS = re.compile(r"\[\[(.*?)\]\]", re.S)
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_LABEL = re.compile(rf"({_NAME})\s*=\s*(.+)")
_STEP = re.compile(r"(>=|≥|>)\s*(\S+)\s*->\s*(\S+)")
_CLAMP = re.compile(r"^(.*?)\s+clamp\s+(\S+?)\s*\.\.\s*(\S+)$", re.S)
RESERVED = frozenset({"min", "max", "clamp", "else"})


@dataclass(frozen=True)
class Option:
    """One answer of an ``options`` rule: a stable ASCII key, the label shown, a fraction of max."""

    key: str
    label: str
    fraction: float


@dataclass(frozen=True)
class Field:
    """One input of a rule, enough to draw a form field or a template column."""

    name: str
    kind: FieldKind
    label_vi: str
    label_en: str
    options: tuple[Option, ...] = ()
    minimum: float = 0.0


@dataclass(frozen=True)
class Step:
    """``>= threshold -> points`` (or ``>`` when ``strict``)."""

    threshold: float
    strict: bool
    points: float

    def reached(self, x: float) -> bool:
        return x > self.threshold if self.strict else x >= self.threshold


@dataclass(frozen=True)
class Rule:
    """Base of the five rule kinds; ``text`` is the rule as written, spaces collapsed."""

    text: str
    fields: tuple[Field, ...]
    kind: ClassVar[str] = ""

    def points(self, answer: Mapping[str, Any] | None, max_points: float) -> float | None:
        """Points for a typed answer, in [0, max_points] and rounded; None if it cannot be scored."""
        if answer is None:
            return None
        values: dict[str, Any] = {}
        for f in self.fields:
            value = _typed(f, answer.get(f.name))
            if value is None:
                return None
            values[f.name] = value
        raw = self._score(values, float(max_points))
        if raw is None or math.isnan(raw):
            return None
        return round(min(max(raw, 0.0), float(max_points)), DECIMALS)

    def _score(self, values: dict[str, Any], max_points: float) -> float | None:
        raise NotImplementedError


def _typed(field: Field, value: Any) -> Any:
    """The value if it has the field's type and range, else None (incomplete or invalid)."""
    if field.kind == "yesno":
        return value if isinstance(value, bool) else None
    if field.kind == "choice":
        return value if any(o.key == value for o in field.options) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value >= field.minimum else None


@dataclass(frozen=True)
class RatioRule(Rule):
    kind: ClassVar[str] = "ratio"

    def _score(self, values: dict[str, Any], max_points: float) -> float | None:
        a, b = (values[f.name] for f in self.fields)
        return None if b == 0 else min(a / b, 1.0) * max_points


@dataclass(frozen=True)
class StepsRule(Rule):
    steps: tuple[Step, ...] = ()  # highest threshold first
    otherwise: float = 0.0
    kind: ClassVar[str] = "steps"

    def _score(self, values: dict[str, Any], max_points: float) -> float | None:
        x = values[self.fields[0].name]
        return next((s.points for s in self.steps if s.reached(x)), self.otherwise)


@dataclass(frozen=True)
class OptionsRule(Rule):
    kind: ClassVar[str] = "options"

    def _score(self, values: dict[str, Any], max_points: float) -> float | None:
        key = values[self.fields[0].name]
        return next(o.fraction for o in self.fields[0].options if o.key == key) * max_points


@dataclass(frozen=True)
class YesNoRule(Rule):
    kind: ClassVar[str] = "yesno"

    def _score(self, values: dict[str, Any], max_points: float) -> float | None:
        return max_points if values[self.fields[0].name] else 0.0


@dataclass(frozen=True)
class FormulaRule(Rule):
    expression: str = ""
    low: float = 0.0
    high: float | None = None  # None: the sub-indicator's max points
    kind: ClassVar[str] = "formula"

    def _score(self, values: dict[str, Any], max_points: float) -> float | None:
        tree = parse_formula(self.expression, frozenset(f.name for f in self.fields))
        try:
            raw = evaluate(tree, values)
        except ZeroDivisionError:
            return None
        high = max_points if self.high is None else self.high
        return min(max(raw, self.low), high)

    def divides_by_zero(self, values: Mapping[str, float]) -> bool:
        try:
            evaluate(parse_formula(self.expression, frozenset(values)), values)
        except ZeroDivisionError:
            return True
        return False


# -- finding and parsing ------------------------------------------------------------------------


def split_cell(cell: str) -> tuple[str | None, str]:
    """(rule text or None, prose) of a "Cách xác định và tính điểm" cell.

    The rule is the text inside the last ``[[ … ]]``; everything else is prose.  A cell without
    brackets whose text starts with a rule keyword is a bare rule with no prose.
    """
    cell = nfc(str(cell)).strip()
    found = _BRACKETS.findall(cell)
    if found:
        prose = _BRACKETS.sub("", cell).strip()
        return " ".join(found[-1].split()), prose
    first = cell.split(maxsplit=1)[0].split(":")[0].casefold() if cell else ""
    if first in KINDS:
        return " ".join(cell.split()), ""
    return None, cell


def parse_rule(text: str, max_points: float) -> tuple[Rule | None, list[Problem]]:
    """The rule written in ``text`` (no brackets) for an item worth ``max_points``.

    Problems carry a code and message but no location; the caller adds file, row and column.
    """
    text = " ".join(nfc(text).split())
    parts = [p.strip() for p in text.split(";")]
    head = parts[0]
    kind = head.split(maxsplit=1)[0].split(":")[0].casefold() if head else ""
    parser = _PARSERS.get(kind)
    if parser is None:
        return None, [bad("rule.unknown_kind", f"{kind or text!r} is not a rule kind; start the rule "
                          f"with one of {', '.join(KINDS)}", text)]
    rest = head[len(kind):].strip()
    try:
        rule = parser(text, rest, parts[1:], float(max_points))
    except FormulaSyntaxError as exc:
        return None, [Problem(exc.code, exc.message, value=text)]
    except RuleProblems as exc:
        return None, exc.problems
    return rule, []


class RuleProblems(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems[0].message)
        self.problems = problems


def bad(code: str, message: str, text: str) -> Problem:
    return Problem(code, message, value=text)


def _syntax(text: str, message: str) -> RuleProblems:
    return RuleProblems([bad("rule.syntax", message, text)])


def _number(text: str, word: str, rule: str) -> float:
    value = parse_number(word)
    if value is None or value < 0:
        raise _syntax(rule, f"{word!r} is not a number ≥ 0")
    return value


def _labelled(fields: list[Field], clauses: list[str], rule: str) -> tuple[Field, ...]:
    """Apply ``name = nhãn tiếng Việt | English label`` clauses to the fields."""
    by_name = {f.name: f for f in fields}
    problems = []
    for clause in clauses:
        match = _LABEL.fullmatch(clause)
        if not match:
            problems.append(bad("rule.syntax", f"{clause!r} is not a label 'name = nhãn | label'", rule))
            continue
        name, label = match.groups()
        if name not in by_name:
            problems.append(bad("rule.unknown_field", f"a label is given for {name!r}, which is not a "
                                f"field of this rule ({', '.join(by_name)})", rule))
            continue
        vi, _, en = label.partition("|")
        by_name[name] = Field(name, by_name[name].kind, vi.strip(), en.strip() or vi.strip(),
                              by_name[name].options, by_name[name].minimum)
    if problems:
        raise RuleProblems(problems)
    return tuple(by_name[f.name] for f in fields)


def _names(words: list[str], rule: str) -> list[str]:
    names = [w.strip() for w in words]
    for name in names:
        if not re.fullmatch(_NAME, name) or name in RESERVED:
            raise _syntax(rule, f"{name!r} is not a field name (ASCII letters, digits and _, "
                          "not min, max, clamp or else)")
    if len(set(names)) != len(names):
        raise _syntax(rule, "a field name is declared twice")
    return names


def _ratio(rule: str, rest: str, clauses: list[str], max_points: float) -> Rule:
    if rest and not re.fullmatch(rf"{_NAME}\s*/\s*{_NAME}", rest):
        raise _syntax(rule, "write a ratio as 'ratio a/b' (numerator/denominator)")
    a, b = _names(rest.split("/"), rule) if rest else ["a", "b"]
    fields = [Field(a, "number", "Tử số", "Numerator"), Field(b, "number", "Mẫu số", "Denominator")]
    return RatioRule(rule, _labelled(fields, clauses, rule))


def _yesno(rule: str, rest: str, clauses: list[str], max_points: float) -> Rule:
    if rest:
        raise _syntax(rule, "'yesno' takes nothing after it but labels, e.g. 'yesno; value = Có …?'")
    return YesNoRule(rule, _labelled([Field("value", "yesno", "Có/Không", "Yes/No")], clauses, rule))


def _steps(rule: str, rest: str, clauses: list[str], max_points: float) -> Rule:
    name, colon, first = rest.partition(":")
    if not colon:
        raise _syntax(rule, "write steps as 'steps x: >=4 -> 20; >=2 -> 10; else 0'")
    (name,) = _names([name], rule) if name.strip() else ["x"]
    steps, otherwise, labels = [], 0.0, []
    for clause in [first.strip(), *clauses]:
        step = _STEP.fullmatch(clause)
        if step:
            op, threshold, points = step.groups()
            steps.append(Step(_number(clause, threshold, rule), op == ">",
                              _number(clause, points, rule)))
        elif clause.casefold().startswith("else"):
            otherwise = _number(clause, clause[4:].strip(), rule)
        else:
            labels.append(clause)
    if not steps:
        raise _syntax(rule, "steps need at least one threshold such as '>=1 -> 5'")
    _check_steps(steps, otherwise, max_points, rule)
    steps.sort(key=lambda s: (s.threshold, s.strict), reverse=True)
    field = Field(name, "number", "Giá trị", "Value")
    return StepsRule(rule, _labelled([field], labels, rule), tuple(steps), otherwise)


def _check_steps(steps: list[Step], otherwise: float, max_points: float, rule: str) -> None:
    problems = []
    top = max([s.points for s in steps] + [otherwise])
    if top > max_points:
        problems.append(bad("rule.steps_exceed_max", f"a step gives {top:g} points but the "
                            f"sub-indicator is worth at most {max_points:g}", rule))
    ordered = sorted(steps, key=lambda s: (s.threshold, s.strict))
    keys = [(s.threshold, s.strict) for s in ordered]
    if len(set(keys)) != len(keys):
        problems.append(bad("rule.syntax", "a threshold appears twice", rule))
    points = [otherwise] + [s.points for s in ordered]
    if any(lo > hi for lo, hi in zip(points, points[1:])):
        problems.append(bad("rule.steps_not_monotone", "a higher threshold must never give fewer "
                            "points than a lower one (nor than 'else')", rule))
    if problems:
        raise RuleProblems(problems)


def _options(rule: str, rest: str, clauses: list[str], max_points: float) -> Rule:
    if not rest.startswith(":"):
        raise _syntax(rule, "write options as 'options: Nhãn A = 1; Nhãn B = 0,5; Không có = 0'")
    options: list[Option] = []
    problems = []
    for clause in [rest[1:].strip(), *clauses]:
        label, equals, fraction = clause.rpartition("=")
        label = label.strip()
        value = parse_number(fraction)
        if not equals or not slug(label) or value is None:
            problems.append(bad("rule.syntax", f"{clause!r} is not an option 'Nhãn = phân số'", rule))
        elif not 0 <= value <= 1:
            problems.append(bad("rule.option_fraction", f"option {label!r} gives {value:g}; an "
                                "option gives a fraction of the max points from 0 to 1", rule))
        elif any(o.key == slug(label) for o in options):
            problems.append(bad("rule.duplicate_option", f"option {label!r} is listed twice (or two "
                                "labels differ only in case, diacritics or punctuation)", rule))
        else:
            options.append(Option(slug(label), label, value))
    if problems:
        raise RuleProblems(problems)
    return OptionsRule(rule, (Field("choice", "choice", "Lựa chọn", "Choice", tuple(options)),))


def _formula(rule: str, rest: str, clauses: list[str], max_points: float) -> Rule:
    declared, colon, body = rest.partition(":")
    if not colon or not declared.strip():
        raise _syntax(rule, "write a formula as 'formula x, y: 2 * x - y clamp 0..max'")
    names = _names(declared.split(","), rule)
    expression, low, high = body.strip(), 0.0, None
    clamp = _CLAMP.match(expression)
    if clamp:
        expression, lo_text, hi_text = clamp.groups()
        low = _number(rule, lo_text, rule)
        high = None if fold(hi_text) == "max" else _number(rule, hi_text, rule)
        top = max_points if high is None else high
        if top > max_points or low > top:
            raise RuleProblems([bad("rule.bad_clamp", f"clamp {lo_text}..{hi_text} must satisfy "
                                    f"0 ≤ low ≤ high ≤ max ({max_points:g})", rule)])
    parse_formula(expression, frozenset(names))
    fields = [Field(n, "number", n, n) for n in names]
    return FormulaRule(rule, _labelled(fields, clauses, rule), expression, low, high)


_PARSERS = {"ratio": _ratio, "steps": _steps, "options": _options, "yesno": _yesno,
            "formula": _formula}
