"""Compare two editions: score and rank change per unit, on a common basis.

Published figures are used where they exist and computed ones elsewhere (the same rule as the
profile).  When the editions share no unit basis, the earlier edition's values are rebased onto
the later one's units through the 2025 crosswalk (plain mean of former provinces) and rebuilt.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dti.editions import load_edition
from dti.engine.compare import compare as compare_builds
from dti.errors import InputError, Problem
from dti.report.profile import edition_build, figure_for
from dti.units import load_crosswalk


def edition_comparison(before_id: str, after_id: str, node: str | None = None,
                       lang: str = "vi") -> dict[str, Any]:
    before, after = load_edition(before_id), load_edition(after_id)
    for edition in (before, after):
        if node is not None and node not in edition.framework:
            raise InputError([Problem("cli.unknown_node", f"{node!r} is not a node of {edition.id}; "
                                      "its nodes are " + ", ".join(n.code for n in
                                                                   edition.framework.nodes))])
    common = [b for b in after.bases if b in before.bases]
    rows: list[dict[str, Any]] = []
    if common:
        basis = common[0]
        units = after.units(basis)
        code_b = node or before.framework.root.code
        code_a = node or after.framework.root.code
        for unit in units:
            vb, rb, sb = figure_for(before, basis, unit.code, code_b)
            va, ra, sa = figure_for(after, basis, unit.code, code_a)
            rows.append(_row(unit.code, unit.name(lang), vb, rb, va, ra, sb, sa))
        method = "same basis"
    else:
        basis = after.unit_set
        units = after.units(basis)
        crosswalk = load_crosswalk(before.unit_set, after.unit_set)
        result = compare_builds(edition_build(before, before.unit_set),
                                edition_build(after, after.unit_set), node, crosswalk.new_to_old)
        for i, code in enumerate(result.units):
            rows.append(_row(code, units.get(code).name(lang), _f(result.score_before[i]),
                             _i(result.rank_before[i]), _f(result.score_after[i]),
                             _i(result.rank_after[i]), "computed", "computed"))
        method = "rebased through the 2025 crosswalk (plain mean of former provinces)"
    rows.sort(key=lambda r: (r["rank_after"] is None, r["rank_after"] or 0, r["code"]))
    return {"before": before.id, "after": after.id, "basis": basis, "method": method,
            "node": node or after.framework.root.code, "results": rows,
            "compared": sum(r["rank_change"] is not None for r in rows)}


def _row(code, name, vb, rb, va, ra, sb, sa) -> dict[str, Any]:
    return {"code": code, "name": name, "score_before": vb, "score_after": va,
            "score_change": None if vb is None or va is None else round(va - vb, 4),
            "rank_before": rb, "rank_after": ra,
            "rank_change": None if rb is None or ra is None else rb - ra,
            "source_before": sb, "source_after": sa}


def _f(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def _i(x: float) -> int | None:
    return None if np.isnan(x) else int(x)
