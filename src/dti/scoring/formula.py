"""A safe little arithmetic language for ``formula`` rules.

The expression is parsed with :mod:`ast` and only these nodes are accepted: numbers, the declared
field names, ``+ - * /``, unary ``+``/``-``, parentheses and calls of ``min(...)``/``max(...)``
with plain arguments.  Everything else (attributes, subscripts, other calls, keywords, powers,
comparisons, strings, lambdas …) is refused when the rule is read, and the evaluator walks the
tree itself: nothing is ever handed to ``eval``.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Mapping

MAX_LENGTH = 500  # a formula in a spreadsheet cell is short; this also bounds parser recursion
FUNCTIONS = {"min": min, "max": max}
BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
          ast.Div: operator.truediv}
UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}


class FormulaSyntaxError(ValueError):
    """A formula that is not valid; ``code`` is the Problem code to report."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse_formula(expression: str, names: frozenset[str]) -> ast.Expression:
    """The checked tree of ``expression``; raises :class:`FormulaSyntaxError`."""
    if len(expression) > MAX_LENGTH:
        raise bad("rule.syntax", f"the formula is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        detail = getattr(exc, "msg", None) or type(exc).__name__
        raise bad("rule.syntax", f"the formula {expression!r} cannot be read ({detail})") from None
    _check(tree.body, names)
    return tree


def _check(node: ast.AST, names: frozenset[str]) -> None:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise _forbidden(f"the value {node.value!r}")
    elif isinstance(node, ast.Name):
        if node.id not in names:
            declared = ", ".join(sorted(names)) or "none"
            raise bad("rule.formula_unknown_name",
                      f"the formula uses {node.id!r}, which is not a declared field "
                      f"(declared: {declared}); declare it after 'formula'")
    elif isinstance(node, ast.BinOp) and type(node.op) in BINARY:
        _check(node.left, names)
        _check(node.right, names)
    elif isinstance(node, ast.UnaryOp) and type(node.op) in UNARY:
        _check(node.operand, names)
    elif isinstance(node, ast.Call):
        if not (isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS):
            raise _forbidden("a call of anything but min() or max()")
        if node.keywords or not node.args or any(isinstance(a, ast.Starred) for a in node.args):
            raise _forbidden(f"{node.func.id}() with keywords, * or no arguments")
        for arg in node.args:
            _check(arg, names)
    elif isinstance(node, ast.Tuple):
        raise bad("rule.syntax", "the formula has a comma outside min()/max(); in a formula write "
                  "decimals with a point (0.8, not 0,8)")
    else:
        raise _forbidden(f"{type(node).__name__.lower()} syntax")


def _forbidden(what: str) -> FormulaSyntaxError:
    return bad("rule.formula_forbidden",
               f"the formula may not contain {what}; only numbers, declared fields, "
               "+ - * /, parentheses, min() and max() are allowed")


def bad(code: str, message: str) -> FormulaSyntaxError:
    return FormulaSyntaxError(code, message)


def evaluate(tree: ast.Expression, values: Mapping[str, float]) -> float:
    """The value of a checked tree; raises ZeroDivisionError on a division by zero."""
    return float(_eval(tree.body, values))


def _eval(node: ast.AST, values: Mapping[str, float]) -> float:
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return float(values[node.id])
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, values), _eval(node.right, values)
        if isinstance(node.op, ast.Div) and right == 0:
            raise ZeroDivisionError("division by zero in the formula")
        result = BINARY[type(node.op)](left, right)
        return result if math.isfinite(result) else math.nan
    if isinstance(node, ast.UnaryOp):
        return UNARY[type(node.op)](_eval(node.operand, values))
    if isinstance(node, ast.Call):
        return FUNCTIONS[node.func.id](*(_eval(a, values) for a in node.args))  # type: ignore[attr-defined]
    raise TypeError(f"unchecked node {type(node).__name__}")  # parse_formula never lets one through
