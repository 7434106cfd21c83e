"""From what a province typed (a web form, an Excel template) to a typed answer.

``parse_answer(item, raw)`` reads each field of the item's rule from ``raw``: numbers in vi-VN or
en style, yes/no words, an option's key or label.  Blank fields are left out of the answer (it is
then incomplete and scores None); anything unreadable is a located Problem whose ``indicator`` is
the sub-indicator code and ``column`` the field name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dti.errors import Problem
from dti.scoring.rules import Field, FormulaRule, RatioRule
from dti.scoring.text import is_blank, parse_number, parse_yes_no, slug

if TYPE_CHECKING:
    from dti.scoring.catalogue import SubIndicator

RawValue = str | float | bool | None


def parse_answer(item: SubIndicator,
                 raw: Mapping[str, RawValue]) -> tuple[dict[str, Any], list[Problem]]:
    """(typed answer, problems) for one sub-indicator; problems empty when all is readable."""
    answer: dict[str, Any] = {}
    problems: list[Problem] = []
    for field in item.rule.fields:
        value = raw.get(field.name)
        if is_blank(value):
            continue
        typed, problem = _read(field, value, item.code)
        if problem is not None:
            problems.append(problem)
        else:
            answer[field.name] = typed
    problems.extend(_zero_denominator(item, answer))
    return answer, problems


def _read(field: Field, value: RawValue, code: str) -> tuple[Any, Problem | None]:
    def bad(problem_code: str, message: str) -> tuple[Any, Problem]:
        return None, Problem(problem_code, message, indicator=code, column=field.name, value=value)

    if field.kind == "yesno":
        flag = parse_yes_no(value)
        if flag is None:
            return bad("answer.not_yes_no", f"{value!r} is not yes or no; write có/không "
                       "(yes/no, x, 1/0)")
        return flag, None
    if field.kind == "choice":
        key = slug(str(value))
        if not any(o.key == key for o in field.options):
            listed = "; ".join(o.label for o in field.options)
            return bad("answer.unknown_option", f"{value!r} is not one of the options: {listed}")
        return key, None
    number = parse_number(value)
    if number is None:
        return bad("answer.not_a_number", f"{value!r} is not a number; write digits, e.g. 1.234,5 "
                   "or 1234.5")
    if number < field.minimum:
        return bad("answer.negative", f"{value!r} is below {field.minimum:g}; a count or amount "
                   "cannot be negative")
    return number, None


def _zero_denominator(item: SubIndicator, answer: Mapping[str, Any]) -> list[Problem]:
    rule = item.rule
    names = [f.name for f in rule.fields]
    if isinstance(rule, RatioRule) and answer.get(names[1]) == 0:
        return [Problem("answer.zero_denominator", f"{rule.fields[1].label_vi} is 0, so the ratio "
                        "cannot be computed; check the number (a denominator must be above 0)",
                        indicator=item.code, column=names[1], value=0)]
    if isinstance(rule, FormulaRule) and all(n in answer for n in names) \
            and rule.divides_by_zero(answer):
        return [Problem("answer.zero_denominator", "the formula divides by zero with these numbers; "
                        "check them", indicator=item.code, column=names[-1])]
    return []
