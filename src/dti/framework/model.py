"""The framework model: nodes (indicators, aggregates, denominators, grouping columns) in a DAG.

A node may have several parents: in the DTI 2021-2023 frameworks a foundation indicator feeds the
foundation group and all three pillars.  Levels follow the COINr convention (1 = indicators,
higher = aggregates); a parent's level is always above its child's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

NodeType = Literal["indicator", "aggregate", "denominator", "group"]
NODE_TYPES: tuple[str, ...] = ("indicator", "aggregate", "denominator", "group")
SCALES: tuple[str, ...] = ("value", "ratio", "points")


@dataclass(frozen=True)
class Node:
    """One row of a framework.

    ``weight`` is the node's weight inside each of its parents; ``max_points`` the points it is worth
    (the DTI points method aggregates with ``max_points`` as the weight).  ``scale`` says how its
    input values are written: ``ratio`` (0..1), ``points`` (0..max_points) or a free ``value``.
    ``compute`` is ``children`` for an aggregate computed from its children, or ``data`` for one
    whose value is read from the data because its children's weights are not known.
    """

    code: str
    name_vi: str
    name_en: str = ""
    type: NodeType = "indicator"
    level: int = 1
    parents: tuple[str, ...] = ()
    weight: float | None = None
    max_points: float | None = None
    direction: int = 1
    unit: str = ""
    goalposts: tuple[float, float] | None = None
    target: float | None = None
    denominator: str | None = None
    scale: str = "value"
    scored: bool = True
    method: str | None = None
    compute: str = "children"
    column: str | None = None
    short: str = ""
    role: str = ""
    note: str = ""
    source_row: int | None = None

    @property
    def data_column(self) -> str:
        return self.column or self.code

    @property
    def is_indicator(self) -> bool:
        return self.type == "indicator"

    @property
    def is_aggregate(self) -> bool:
        return self.type == "aggregate"

    @property
    def takes_data(self) -> bool:
        """True when this node's value comes from the data file."""
        return self.is_indicator or self.type in ("denominator", "group") or (
            self.is_aggregate and self.compute == "data"
        )

    def name(self, lang: str = "vi") -> str:
        return self.name_en if lang == "en" and self.name_en else self.name_vi

    def effective_weight(self, method: str) -> float:
        """The weight used inside a parent aggregated by ``method``: max points for ``points``;
        otherwise the weight, else the max points (a DTI variant keeps the points as weights),
        else 1."""
        if not self.scored:
            return 0.0
        if method == "points":
            return float(self.max_points if self.max_points is not None else 0.0)
        for value in (self.weight, self.max_points):
            if value is not None:
                return float(value)
        return 1.0


@dataclass(frozen=True)
class Framework:
    """A whole framework: an ordered tuple of nodes plus what describes it."""

    id: str
    nodes: tuple[Node, ...]
    name_vi: str = ""
    name_en: str = ""
    precision: int | None = None
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def name(self, lang: str = "vi") -> str:
        return (self.name_en if lang == "en" and self.name_en else self.name_vi) or self.id

    @cached_property
    def by_code(self) -> dict[str, Node]:
        return {n.code: n for n in self.nodes}

    def __getitem__(self, code: str) -> Node:
        return self.by_code[code]

    def __contains__(self, code: object) -> bool:
        return code in self.by_code

    @cached_property
    def children(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, list[str]] = {n.code: [] for n in self.nodes}
        for n in self.nodes:
            for p in n.parents:
                if p in out:
                    out[p].append(n.code)
        return {k: tuple(v) for k, v in out.items()}

    @cached_property
    def indicators(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.is_indicator)

    @cached_property
    def data_nodes(self) -> tuple[Node, ...]:
        """Indicators and data-valued aggregates, in file order: the columns of the value matrix."""
        return tuple(n for n in self.nodes if n.is_indicator or (n.is_aggregate and n.compute == "data"))

    @cached_property
    def required_codes(self) -> tuple[str, ...]:
        """Data nodes every unit needs a value for: scored ones that feed an aggregate computed
        from its children, data-valued aggregates, and parentless indicators."""
        computed = {n.code for n in self.aggregates}
        return tuple(n.code for n in self.data_nodes
                     if n.scored and (any(p in computed for p in n.parents) or n.is_aggregate
                                      or not n.parents))

    @cached_property
    def denominators(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.type == "denominator")

    @cached_property
    def groups(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.type == "group")

    @cached_property
    def aggregates(self) -> tuple[Node, ...]:
        """Aggregates computed from children, parents after children (a topological order)."""
        order: list[Node] = []
        seen: set[str] = set()
        agg = {n.code: n for n in self.nodes if n.is_aggregate and n.compute == "children"}

        def visit(code: str, stack: tuple[str, ...] = ()) -> None:
            if code in seen or code in stack:
                return
            for child in self.children.get(code, ()):
                if child in agg:
                    visit(child, stack + (code,))
            seen.add(code)
            order.append(agg[code])

        for code in agg:
            visit(code)
        return tuple(order)

    @cached_property
    def root(self) -> Node:
        """The top aggregate: ``meta['root']`` or the parentless aggregate at the highest level."""
        if self.meta.get("root") in self.by_code:
            return self.by_code[self.meta["root"]]
        tops = [n for n in self.nodes if n.is_aggregate and not n.parents]
        if not tops:
            tops = [n for n in self.nodes if n.is_aggregate] or list(self.nodes)
        return max(tops, key=lambda n: (n.level, -self.nodes.index(n)))

    @cached_property
    def levels(self) -> tuple[int, ...]:
        return tuple(sorted({n.level for n in self.nodes if n.type in ("indicator", "aggregate")}))

    def descendants(self, code: str) -> tuple[str, ...]:
        """Every node below ``code`` (children, their children …), each once."""
        out: list[str] = []
        stack = list(self.children.get(code, ()))
        while stack:
            c = stack.pop()
            if c not in out:
                out.append(c)
                stack.extend(self.children.get(c, ()))
        return tuple(out)
