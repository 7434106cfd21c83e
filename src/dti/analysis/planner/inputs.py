"""What the planner is given — changed values, cost weights, bounds — checked all at once.

Every problem is collected and raised together as one :class:`~dti.errors.InputError`, each
located by indicator and value (and by file for a saved scenario), so a command prints one
``error:`` line per problem.  Numbers may be written with a decimal point or, as vi-VN does, one
decimal comma ("0,8").  Indicator codes match exactly or, failing that, without regard to case.
"""

from __future__ import annotations

import math
import re
from typing import Any, Iterable, Mapping

from dti.errors import InputError, Problem
from dti.framework.model import Framework, Node

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def parse_number(value: Any) -> float | None:
    """A finite number from a number or a text ("0.8", "0,8"); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
        return number if math.isfinite(number) else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if "." not in text and text.count(",") == 1:
        text = text.replace(",", ".")
    if not _NUMBER.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def split_assignments(texts: Iterable[str], option: str) -> dict[str, str]:
    """``CODE=VALUE`` texts of a command-line option as a mapping; every malformed one reported."""
    out: dict[str, str] = {}
    problems = []
    for text in texts:
        code, sep, value = str(text).partition("=")
        if not sep or not code.strip() or not value.strip():
            problems.append(Problem("plan.bad_assignment", f"{option} expects CODE=VALUE (for "
                                    f"example {option} HDKTS=0.8), got {text!r}", value=text))
            continue
        out[code.strip()] = value.strip()
    if problems:
        raise InputError(problems)
    return out


def resolve_code(framework: Framework, text: str) -> str | None:
    """The data-node code ``text`` names: exactly, else without regard to case (if unique)."""
    codes = [n.code for n in framework.data_nodes]
    if text in codes:
        return text
    folded = [c for c in codes if c.casefold() == str(text).casefold()]
    return folded[0] if len(folded) == 1 else None


def check_changes(framework: Framework, changes: Mapping[str, Any], option: str = "changes",
                  file: str | None = None) -> dict[str, float]:
    """New values by data-node code, each within its scale; InputError listing every problem."""
    out: dict[str, float] = {}
    problems: list[Problem] = []
    for written, value in changes.items():
        code = resolve_code(framework, written)
        where = {"indicator": str(written), "value": _shown(value), "file": file}
        if code is None:
            problems.append(_unknown(framework, written, option, where))
            continue
        number = parse_number(value)
        if number is None:
            problems.append(Problem("plan.not_a_number", f"{option} {written}={_shown(value)}: "
                                    "the value is not a number; write one such as 0.8002 (a "
                                    "decimal point or a decimal comma)", **where))
            continue
        message = _out_of_range(framework[code], number)
        if message:
            problems.append(Problem("plan.value_out_of_range",
                                    f"{option} {written}={_shown(value)}: {message}", **where))
            continue
        out[code] = number
    if problems:
        raise InputError(problems)
    return out


def check_weights(framework: Framework, weights: Mapping[str, Any] | None, option: str,
                  kind: str) -> dict[str, float]:
    """Cost weights (``kind`` 'cost') or improvement bounds in points (``kind`` 'bound') by code:
    finite numbers ≥ 0; InputError listing every problem."""
    out: dict[str, float] = {}
    problems: list[Problem] = []
    for written, value in (weights or {}).items():
        code = resolve_code(framework, written)
        where = {"indicator": str(written), "value": _shown(value)}
        if code is None:
            problems.append(_unknown(framework, written, option, where))
            continue
        number = parse_number(value)
        if number is None or number < 0:
            what = ("a cost weight per point" if kind == "cost"
                    else "the most points it may improve by")
            if kind == "cost":
                problems.append(Problem("plan.bad_cost", f"{option} {written}={_shown(value)}: "
                                        f"{what} must be a number ≥ 0", **where))
            else:
                problems.append(Problem("plan.bad_bound", f"{option} {written}={_shown(value)}: "
                                        f"{what} must be a number ≥ 0", **where))
            continue
        out[code] = number
    if problems:
        raise InputError(problems)
    return out


def _unknown(framework: Framework, written: str, option: str, where: dict) -> Problem:
    known = ", ".join(n.code for n in framework.data_nodes)
    return Problem("plan.unknown_indicator", f"{option}: {written!r} is not an indicator of "
                   f"{framework.id}; its indicators are {known}", **where)


def _out_of_range(node: Node, number: float) -> str:
    top = node.max_points
    if node.scale == "ratio" and not 0.0 <= number <= 1.0:
        example = f" (0.9 = {0.9 * top:g} of {top:g} points)" if top else " (0.9 = 90%)"
        return (f"{number:g} is outside 0..1; {node.code} ({node.name_vi}) is a ratio{example}")
    if node.scale == "points" and (number < 0 or (top is not None and number > top)):
        upper = f"{top:g}" if top is not None else ""
        return (f"{number:g} is outside 0..{upper}; {node.code} ({node.name_vi}) is scored in "
                "points")
    return ""


def _shown(value: Any) -> Any:
    return value if isinstance(value, (int, float, str)) or value is None else repr(value)
