"""Structural checks of a framework: every problem, located by row and code.

Codes (stable, documented in docs/issue-codes.md):
node.unknown_parent, node.parent_not_aggregate, node.parent_level, node.orphan, node.cycle,
aggregate.no_children, node.missing_weight, node.negative_weight, node.unknown_denominator,
node.bad_goalposts, aggregate.bad_method, aggregate.bad_level, framework.no_indicators,
framework.ambiguous_root,
data.missing_column (only when the data header is given).
"""

from __future__ import annotations

from typing import Iterable

from dti.errors import Problem
from dti.framework.model import Framework, Node

# The one list of aggregation methods: a framework names them per aggregate, a recipe overrides
# them all (dti.engine.recipe imports this tuple; the framework layer imports no engine).
AGGREGATION_METHODS = ("points", "arithmetic", "geometric", "harmonic", "generalised")


def check_framework(fw: Framework, file: str | None = None,
                    data_columns: Iterable[str] | None = None) -> list[Problem]:
    problems: list[Problem] = []

    def add(code: str, node: Node, message: str, column: str | None = None) -> None:
        problems.append(Problem(code, message, file=file, row=node.source_row, column=column,
                                indicator=node.code))

    by_code = fw.by_code
    for node in fw.nodes:
        for p in node.parents:
            parent = by_code.get(p)
            if parent is None:
                add("node.unknown_parent", node, f"parent {p!r} of {node.code!r} is not a code in "
                    "this framework; correct it, or add a row for that aggregate", "parent")
            elif not parent.is_aggregate:
                add("node.parent_not_aggregate", node, f"parent {p!r} of {node.code!r} is a "
                    f"{parent.type}, not an aggregate", "parent")
            elif parent.level <= node.level and parent.level > 1:
                add("node.parent_level", node, f"parent {p!r} (level {parent.level}) must be at a "
                    f"higher level than {node.code!r} (level {node.level})", "level")
        if node.is_aggregate and node.level < 2:
            # Reported once here rather than as a parent_level problem on each of its children.
            add("aggregate.bad_level", node, f"aggregate {node.code!r} is at level {node.level}; "
                "level 1 is the indicators, so an aggregate is at level 2 or above: give it the "
                "level above its children", "level")
        if node.is_indicator and not node.parents and len(fw.nodes) > 1:
            add("node.orphan", node, f"indicator {node.code!r} has no parent, so it counts in no "
                "aggregate; give it a parent", "parent")
        if node.denominator and (node.denominator not in by_code
                                 or by_code[node.denominator].type != "denominator"):
            add("node.unknown_denominator", node, f"denominator {node.denominator!r} of "
                f"{node.code!r} is not a denominator column of this framework; correct the "
                "code, or add a row for it with type denominator", "denominator")
        if node.goalposts and node.goalposts[0] >= node.goalposts[1]:
            add("node.bad_goalposts", node, f"goalposts of {node.code!r} must have lower < upper, "
                f"got {node.goalposts}", "goalpost_lower")
        for value, column in ((node.weight, "weight"), (node.max_points, "max_points")):
            if value is not None and value < 0:
                add("node.negative_weight", node, f"{column} of {node.code!r} must not be negative",
                    column)
        if node.method and node.method not in AGGREGATION_METHODS:
            add("aggregate.bad_method", node, f"method {node.method!r} of {node.code!r} is not one "
                f"of {', '.join(AGGREGATION_METHODS)}", "method")
    aggregation = fw.meta.get("aggregation")
    if aggregation is not None and aggregation not in AGGREGATION_METHODS:
        problems.append(Problem("aggregate.bad_method", f"aggregation {aggregation!r} of the "
                                f"framework is not one of {', '.join(AGGREGATION_METHODS)}",
                                file=file, column="aggregation", value=aggregation))
    problems.extend(_check_aggregates(fw, add))
    problems.extend(_check_cycles(fw, file))
    if not fw.indicators:
        problems.append(Problem("framework.no_indicators", "the framework has no indicator rows "
                                "(type 'indicator')", file=file))
    if data_columns is not None:
        columns = set(data_columns)
        for node in fw.nodes:
            if node.takes_data and node.type != "group" and node.scored \
                    and node.data_column not in columns:
                add("data.missing_column", node, f"{node.type} {node.code!r} has no data column "
                    f"{node.data_column!r}", node.data_column)
    return problems


def _check_aggregates(fw: Framework, add) -> list[Problem]:
    for node in fw.nodes:
        if not node.is_aggregate or node.compute == "data":
            continue
        kids = [fw.by_code[c] for c in fw.children.get(node.code, ()) if c in fw.by_code]
        if not kids:
            add("aggregate.no_children", node, f"aggregate {node.code!r} has no children and no data "
                "(set compute: data, or give nodes this parent)", "parent")
            continue
        method = node.method or fw.meta.get("aggregation") or "arithmetic"
        for kid in kids:
            if not kid.scored:
                continue
            if method == "points" and kid.max_points is None:
                add("node.missing_weight", kid, f"{kid.code!r} has no max_points, needed by the points "
                    f"aggregation of {node.code!r}", "max_points")
            elif method != "points" and kid.weight is None and kid.max_points is None \
                    and fw.meta.get("require_weights", True):
                add("node.missing_weight", kid, f"{kid.code!r} has no weight inside {node.code!r}; "
                    "give it a weight (weights are relative within each parent)", "weight")
    tops = [n for n in fw.nodes if n.is_aggregate and not n.parents]
    if "root" in fw.meta:
        if not isinstance(fw.meta["root"], str) or fw.meta["root"] not in fw.by_code:
            return [Problem("framework.ambiguous_root", f"root {fw.meta['root']!r} is not a code",
                            file=fw.meta.get("file"))]
    elif tops:
        top_level = max(n.level for n in tops)
        highest = [n.code for n in tops if n.level == top_level]
        if len(highest) > 1:
            return [Problem("framework.ambiguous_root", f"several top aggregates at level {top_level} "
                            f"({', '.join(highest)}); give one a higher level or name the root",
                            file=fw.meta.get("file"))]
    return []


def _check_cycles(fw: Framework, file: str | None) -> list[Problem]:
    state: dict[str, int] = {}
    problems: list[Problem] = []
    parents = {n.code: [p for p in n.parents if p in fw.by_code] for n in fw.nodes}

    def visit(code: str, path: list[str]) -> None:
        state[code] = 1
        for p in parents[code]:
            if state.get(p) == 1:
                cycle = path[path.index(p):] + [p] if p in path else [code, p]
                node = fw.by_code[code]
                problems.append(Problem("node.cycle", "the parents form a cycle: "
                                        + " → ".join(cycle), file=file, row=node.source_row,
                                        column="parent", indicator=code))
            elif state.get(p) is None:
                visit(p, path + [p])
        state[code] = 2

    for n in fw.nodes:
        if n.code not in state:
            visit(n.code, [n.code])
    return problems
