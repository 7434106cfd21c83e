"""The figures the engine adds to the shipped editions, kept beside them as data.

Where a shipped edition published a province's inputs but not its score (or not its rank), the
profile fills the gap from the computation (``source`` "computed").  Those fills depend only on the
shipped files, so they are written once to ``dti/editions/computed.json`` — a short command then
reads a few dozen numbers instead of loading NumPy and building five editions.  The file is exact
(floats written as Python writes them, read back bit for bit); ``tests/test_computed_figures.py``
rebuilds every edition and fails when the file and the engine disagree.  After changing a shipped
edition, its published values or the record, write it again:

    .venv/bin/python -m dti.report.computed

Editions that are not the shipped ones (those published from the assessment store) are always
built.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dti.editions import Edition, edition_ids, load_edition

if TYPE_CHECKING:
    from dti.engine.build import Build

FILE = "computed.json"

# edition id -> basis -> node code -> {"scores": {unit: value}, "ranks": {unit: rank}}
Table = dict[str, dict[str, dict[str, dict[str, dict[str, Any]]]]]


def _path() -> Path:
    return Path(str(resources.files("dti.editions"))) / FILE


@lru_cache(maxsize=1)
def shipped_computed() -> Table:
    """The file as written by :func:`write`; empty when it is missing (every edition is then built)."""
    try:
        return json.loads(_path().read_text(encoding="utf-8"))["editions"]
    except FileNotFoundError:
        return {}


def is_shipped(edition: Edition) -> bool:
    """True for the package's own edition object (the one :func:`load_edition` returns).  Asked
    for every figure a page shows: the table's ids and load_edition's cache answer it without
    listing the package folder."""
    return edition.id in shipped_computed() and load_edition(edition.id) is edition


def lookup(edition: Edition, basis: str, node_code: str) -> dict[str, dict[str, Any]] | None:
    """The computed scores and ranks of one node of a shipped edition, or None when the edition
    must be built (not a shipped edition, or a basis the file does not hold)."""
    if not is_shipped(edition):
        return None
    bases = shipped_computed()[edition.id]
    if basis not in bases:
        return None
    return bases[basis].get(node_code, {"scores": {}, "ranks": {}})


def node_figures(b: Build, code: str) -> dict[str, dict[str, Any]]:
    """One node of a build as the profile fills gaps from it: the units with a computed score,
    and every unit's rank only when every unit has a score (a rank among a few would mislead)."""
    import numpy as np

    if code not in b.codes:
        return {"scores": {}, "ranks": {}}
    scores = b.published_score(code)
    filled = {u: float(v) for u, v in zip(b.units, scores) if not math.isnan(v)}
    ranks = {} if np.isnan(scores).any() else {u: int(r) for u, r in zip(b.units, b.rank(code))}
    return {"scores": filled, "ranks": ranks}


def computed_table() -> Table:
    """Every shipped edition built on its published values: per basis, the nodes with at least
    one computed score (see :func:`node_figures`)."""
    from dti.report.profile import edition_build

    table: Table = {}
    for eid in edition_ids():
        edition = load_edition(eid)
        for basis in edition.bases:
            b = edition_build(edition, basis)
            figures = {code: node_figures(b, code) for code in b.codes}
            table.setdefault(eid, {})[basis] = {c: f for c, f in figures.items() if f["scores"]}
    return table


def write(path: Path | None = None) -> Path:
    target = path or _path()
    payload = {"note": "Written by `python -m dti.report.computed` from the shipped editions; "
                       "checked by tests/test_computed_figures.py. Do not edit by hand.",
               "editions": computed_table()}
    target.write_text(json.dumps(payload, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                      encoding="utf-8")
    return target


if __name__ == "__main__":
    print(write())
