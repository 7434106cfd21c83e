"""Publication: an edition's results computed by the engine, frozen into a snapshot with one
checksum, verified by recomputing, and shown on the portal as an ordinary edition.

The pure part — :func:`snapshot_of`, :func:`computed`, :func:`rank_intervals`, :func:`checksum`,
:func:`verify` — needs no database: a snapshot carries its framework, recipe and values as data,
so anyone holding one can recompute it.  :func:`publish` runs in the caller's transaction: the
inputs are read, computed and written in one transaction, so an assessment reopened meanwhile
cannot slip past the approval check into the published numbers.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Protocol

import numpy as np
from sqlalchemy.orm import Session

from dti.editions import Edition, PublishedResults, framework_source, load_edition
from dti.engine.build import Build, build
from dti.engine.data import Dataset
from dti.engine.recipe import Recipe
from dti.clock import now
from dti.errors import Conflict
from dti.framework.load import framework_from_dict
from dti.services import assessments
from dti.store import audit, edition_rows
from dti.store.access import require_role
from dti.store.accounts import Actor, reauthenticate
from dti.store.models import EditionRow
from dti.units import load_unit_set
from dti.workflow import Action, Role

# The uncertainty analysis published with every edition: each main indicator's points vary by
# ±25 % (a reader sees how firm a rank is when the weights are not taken as exact), seeded.
PUBLISHED_ANALYSIS = {"runs": 1000, "seed": 2022, "design": "random",
                      "choices": [{"name": "weights", "noise": 0.25}]}


class EditionFields(Protocol):
    """What a snapshot takes from an edition (an :class:`EditionRow`, or any object with these)."""

    code: str
    year: int
    name_vi: str
    name_en: str
    base_edition: str
    unit_set: str
    catalogue_checksum: str
    illustrative: bool


def results(session: Session, edition: EditionRow, which: str = "final") -> Build:
    """The ranking computed by the engine from the stored points, with the base edition's method."""
    base = load_edition(edition.base_edition)
    data = dataset(edition_rows.main_values(session, edition, which), base.framework, edition.unit_set)
    return build(data, base.framework, base.recipe)


def dataset(values: dict[str, dict[str, float]], framework, unit_set: str) -> Dataset:
    """Province → main indicator → value as the engine's input, one row per unit of the set."""
    units = load_unit_set(unit_set)
    nodes = framework.data_nodes
    matrix = np.array([[values.get(u, {}).get(n.code, np.nan) for n in nodes] for u in units.codes],
                      dtype=float)
    # every grouping column of the set: a method may rank within one (the ministries' "group")
    extra = dict.fromkeys(k for u in units for k in u.groups if k != "region")
    groups = {"region": tuple(u.region or "" for u in units)} | {
        c: tuple(u.groups.get(c, "") for u in units) for c in extra}
    return Dataset(units.codes, tuple(n.code for n in nodes), matrix, groups, unit_set=unit_set)


def publish(session: Session, actor: Actor, code: str, password: str) -> EditionRow:
    """Freeze the edition: every assessment approved → published; framework, recipe, values,
    results, catalogue and the audit trail's head stored with one checksum.  Refused unless every
    province is approved."""
    require_role(actor, Role.ADMIN)
    reauthenticate(session, actor, password, f"publish {code}")
    edition = edition_rows.get(session, code)
    if edition.status == "published":
        raise Conflict("this edition is published already")
    if not edition.unit_set.startswith("provinces-"):
        # The portal shows a store edition as a provincial ranking; the ministry pages show the
        # published record only.  Publishing here would put bodies into the provinces' tables.
        raise Conflict("an edition of ministries and government bodies cannot be published on the "
                       "portal yet: its results stay in the app (Kết quả), its assessments approved")
    pending = edition_rows.pending_provinces(session, edition)
    if pending:
        raise Conflict(f"{len(pending)} province(s) not approved yet: {', '.join(pending[:10])}"
                       f"{' …' if len(pending) > 10 else ''}", pending=pending)
    snapshot = freeze(session, edition)
    _mark_published(session, actor, edition)
    # The audit trail's head — every line before the publication line, this publication's own
    # transitions included — is part of what is published: a history rewritten before it no
    # longer matches the published checksum.  (Taken after the changes above are flushed: the
    # trail's lock comes last and is held to the commit, so the publication line follows it.)
    snapshot["audit_head"] = audit.head(session)
    edition_rows.store_snapshot(session, actor, edition, snapshot, checksum(snapshot))
    return edition


def _mark_published(session: Session, actor: Actor, edition: EditionRow) -> None:
    """Every assessment of the edition → published (each transition audited), and the edition
    with it; its snapshot is stored by :func:`edition_rows.store_snapshot` once the audit trail's
    head is known."""
    for province in edition_rows.province_codes(session, edition):
        assessments.transition(session, actor, edition.code, province, Action.PUBLISH)
    edition.status, edition.published_at = "published", now()
    edition.version += 1


def freeze(session: Session, edition: EditionRow) -> dict[str, Any]:
    """The edition's snapshot from its stored final points (see :func:`snapshot_of`)."""
    return snapshot_of(edition, edition_rows.main_values(session, edition))


def snapshot_of(edition: EditionFields, values: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Everything a publication is: framework and recipe as data, the inputs (province → main
    indicator → value), the results, and what they came from — no database needed."""
    base = load_edition(edition.base_edition)
    snapshot = {"edition": edition.code, "year": edition.year, "name_vi": edition.name_vi,
                "name_en": edition.name_en, "base_edition": base.id, "unit_set": edition.unit_set,
                "framework": framework_source(base.id), "recipe": base.recipe.to_dict(),
                "catalogue_checksum": edition.catalogue_checksum,
                "illustrative": edition.illustrative, "seed": PUBLISHED_ANALYSIS["seed"],
                "analysis": PUBLISHED_ANALYSIS, "values": values}
    return {**snapshot, **computed(snapshot)}


def computed(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The scores and ranks of a snapshot, recomputed from its own framework, recipe and values
    alone — publication stores them, :func:`verify` recomputes them."""
    framework = framework_from_dict(snapshot["framework"])
    recipe = Recipe.from_dict(snapshot["recipe"])
    data = dataset(snapshot["values"], framework, snapshot["unit_set"])
    b = build(data, framework, recipe)
    codes = [n.code for n in framework.nodes]
    out = {"scores": {c: {u: _num(v) for u, v in zip(b.units, b.published_score(c))} for c in codes},
           "ranks": {c: {u: int(r) for u, r in zip(b.units, b.rank(c))} for c in codes}}
    if snapshot.get("analysis"):
        out["uncertainty"] = rank_intervals(data, framework, recipe, snapshot["analysis"])
    return out


def rank_intervals(data: Dataset, framework, recipe: Recipe, raw_spec: dict[str, Any]) -> dict[str, Any]:
    """The published uncertainty analysis: each province's median rank and 5–95 % interval."""
    from dti.analysis.spec import AnalysisSpec
    from dti.analysis.uncertainty import uncertainty

    spec = AnalysisSpec.from_dict(raw_spec)
    result = uncertainty(data, framework, recipe, spec)
    stats = result.stats
    units = {u: {"nominal": _int(result.nominal_rank[i]), "median": _num(stats["median_rank"][i]),
                 "p05": _num(stats["rank_p05"][i]), "p95": _num(stats["rank_p95"][i])}
             for i, u in enumerate(result.units)}
    return {"spec": spec.to_dict(), "runs": result.runs, "failed": int(result.failed.sum()),
            "units": units}


def _int(v: float) -> int | None:
    return None if np.isnan(v) else int(v)


def verify(snapshot: dict[str, Any], stored_checksum: str) -> bool:
    """True when the snapshot is intact and recomputing it gives the very same results."""
    return checksum(snapshot) == stored_checksum and \
        checksum({**snapshot, **computed(snapshot)}) == stored_checksum


def _num(v: float) -> float | None:
    return None if np.isnan(v) else round(float(v), 10)


def checksum(snapshot: dict[str, Any]) -> str:
    canonical = json.dumps(snapshot, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def published_editions(session: Session) -> list[Edition]:
    """The store's published editions as portal editions (results frozen, never recomputed)."""
    return [portal_edition(row) for row in edition_rows.published_rows(session)]


def portal_edition(row: EditionRow) -> Edition:
    """One published edition row as a portal edition, from its snapshot."""
    snap = row.snapshot or {}
    base = load_edition(row.base_edition)
    framework = framework_from_dict(snap["framework"]) if "framework" in snap else base.framework
    recipe = Recipe.from_dict(snap["recipe"]) if "recipe" in snap else base.recipe
    scores = {c: {u: v for u, v in per.items() if v is not None}
              for c, per in snap.get("scores", {}).items()}
    units = load_unit_set(row.unit_set).codes
    frozen = PublishedResults(row.unit_set, f"store:{row.code}", units, scores,
                              snap.get("ranks", {}))
    note = ("MINH HOẠ — số liệu mô phỏng, không phải kết quả chính thức / ILLUSTRATIVE — "
            "simulated data, not official results" if row.illustrative else "")
    return Edition(id=row.code, year=row.year, name_vi=row.name_vi, name_en=row.name_en,
                   framework=framework, recipe=recipe, unit_set=row.unit_set,
                   previous=row.previous_code, published_on=row.published_at.date().isoformat()
                   if row.published_at else "", legal_basis=base.legal_basis, note=note,
                   merge_rule=None, published=(frozen,), status="published",
                   illustrative=row.illustrative, uncertainty=snap.get("uncertainty"))
