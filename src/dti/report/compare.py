"""Compare two editions: score and rank change per unit, on a common basis.

Published figures are used where they exist and computed ones elsewhere (the same rule as the
profile).  When the editions share no unit basis, the earlier edition's values are rebased onto
the later one's units through the 2025 crosswalk (plain mean of former provinces) and rebuilt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dti.editions import load_edition
from dti.engine.compare import compare as compare_builds
from dti.errors import InputError, Problem
from dti.report.profile import edition_build, figure_for
from dti.units import load_crosswalk


@dataclass(frozen=True, slots=True)
class UnitChange:
    """One unit's score and rank in both editions and their change (a rank change is positive when
    the unit moved up); each figure says whether it is "published" or "computed"."""

    code: str
    name: str
    score_before: float | None
    score_after: float | None
    score_change: float | None
    rank_before: int | None
    rank_after: int | None
    rank_change: int | None
    source_before: str
    source_after: str

    @classmethod
    def of(cls, code: str, name: str, before: tuple[float | None, int | None, str],
           after: tuple[float | None, int | None, str]) -> "UnitChange":
        """From the (value, rank, source) of each edition; changes only where both are known."""
        (vb, rb, sb), (va, ra, sa) = before, after
        return cls(code, name, vb, va, None if vb is None or va is None else round(va - vb, 4),
                   rb, ra, None if rb is None or ra is None else rb - ra, sb, sa)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "score_before": self.score_before,
                "score_after": self.score_after, "score_change": self.score_change,
                "rank_before": self.rank_before, "rank_after": self.rank_after,
                "rank_change": self.rank_change, "source_before": self.source_before,
                "source_after": self.source_after}


@dataclass(frozen=True, slots=True)
class EditionComparison:
    """Two editions compared on one basis, node by node: ``method`` says whether the basis is
    shared or the earlier values were rebased; ``results`` are ordered by the later rank."""

    before: str
    after: str
    basis: str
    method: str
    node: str
    results: tuple[UnitChange, ...]

    @property
    def compared(self) -> int:
        """How many units have a rank in both editions."""
        return sum(r.rank_change is not None for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        return {"before": self.before, "after": self.after, "basis": self.basis,
                "method": self.method, "node": self.node,
                "results": [r.as_dict() for r in self.results], "compared": self.compared}


def edition_comparison(before_id: str, after_id: str, node: str | None = None,
                       lang: str = "vi") -> dict[str, Any]:
    """:func:`compare_editions` as the mapping its JSON and CSV outputs show."""
    return compare_editions(before_id, after_id, node, lang).as_dict()


def compare_editions(before_id: str, after_id: str, node: str | None = None,
                     lang: str = "vi") -> EditionComparison:
    before, after = load_edition(before_id), load_edition(after_id)
    for edition in (before, after):
        if node is not None and node not in edition.framework:
            raise InputError([Problem("cli.unknown_node", f"{node!r} is not a node of {edition.id}; "
                                      "its nodes are " + ", ".join(n.code for n in
                                                                   edition.framework.nodes))])
    common = [b for b in after.bases if b in before.bases]
    rows: list[UnitChange] = []
    if common:
        basis = common[0]
        units = after.units(basis)
        code_b = node or before.framework.root.code
        code_a = node or after.framework.root.code
        for unit in units:
            rows.append(UnitChange.of(unit.code, unit.name(lang),
                                      figure_for(before, basis, unit.code, code_b),
                                      figure_for(after, basis, unit.code, code_a)))
        method = "same basis"
    else:
        basis = after.unit_set
        units = after.units(basis)
        crosswalk = load_crosswalk(before.unit_set, after.unit_set)
        result = compare_builds(edition_build(before, before.unit_set),
                                edition_build(after, after.unit_set), node, crosswalk.new_to_old)
        for i, code in enumerate(result.units):
            rows.append(UnitChange.of(
                code, units.get(code).name(lang),
                (_f(result.score_before[i]), _i(result.rank_before[i]), "computed"),
                (_f(result.score_after[i]), _i(result.rank_after[i]), "computed")))
        method = "rebased through the 2025 crosswalk (plain mean of former provinces)"
    rows.sort(key=lambda r: (r.rank_after is None, r.rank_after or 0, r.code))
    return EditionComparison(before.id, after.id, basis, method,
                             node or after.framework.root.code, tuple(rows))


def _f(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def _i(x: float) -> int | None:
    return None if np.isnan(x) else int(x)
