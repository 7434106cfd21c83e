"""Editions in the store: creation from a scoring catalogue, assessment windows, lock exceptions,
results from the final points, and publication (a frozen snapshot with its checksum).

A published edition becomes an ordinary :class:`dti.editions.Edition` for the public portal
(:func:`published_editions`); drafts and editions under review never leave the store.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from dti.editions import (Edition, PublishedResults, edition_ids, framework_source,
                          load_edition)
from dti.engine.build import Build, build
from dti.engine.data import Dataset
from dti.engine.recipe import Recipe
from dti.framework.load import framework_from_dict
from dti.errors import Conflict, NotFound
from dti.scoring import ScoringCatalogue
from dti.store import audit
from dti.store.access import find, require_role
from dti.store.accounts import Actor, now, reauthenticate
from dti.store.assessments import catalogue_of, transition
from dti.store.models import Answer, Assessment, EditionRow, LockException
from dti.units import load_unit_set
from dti.workflow import Action, Role, State


# The uncertainty analysis published with every edition: each main indicator's points vary by
# ±25 % (a reader sees how firm a rank is when the weights are not taken as exact), seeded.
EDITION_CODE = re.compile(r"[a-z0-9][a-z0-9-]{1,79}")
PUBLISHED_ANALYSIS = {"runs": 1000, "seed": 2022, "design": "random",
                      "choices": [{"name": "weights", "noise": 0.25}]}


def create_edition(session: Session, actor: Actor, catalogue: ScoringCatalogue, code: str, year: int,
                   name_vi: str, name_en: str, base_edition: str = "dti-province-2022",
                   opens_at: datetime | None = None, closes_at: datetime | None = None,
                   previous: str | None = None) -> EditionRow:
    """A new edition with an empty draft assessment for every province of the base's unit set;
    ``previous`` (a store edition's code or a shipped edition's id) is what it is compared with."""
    require_role(actor, Role.ADMIN)
    if not EDITION_CODE.fullmatch(code or ""):
        raise Conflict(f"{code!r} cannot be an edition code: use 2–80 lower-case letters, digits "
                       "and '-' (e.g. dti-province-2025)")
    if not (name_vi or "").strip() or len(name_vi) > 300 or len(name_en or "") > 300:
        raise Conflict("an edition needs a Vietnamese name of at most 300 characters")
    base = load_edition(base_edition)
    if previous and previous not in edition_ids() and session.scalar(
            select(EditionRow.id).where(EditionRow.code == previous)) is None:
        raise Conflict(f"no edition {previous!r} to compare with")
    if catalogue.framework_id != base.framework.id:
        raise Conflict(f"the catalogue is for framework {catalogue.framework_id!r}, the base edition "
                       f"uses {base.framework.id!r}")
    if session.scalar(select(EditionRow).where(EditionRow.code == code)) is not None:
        raise Conflict(f"an edition {code!r} exists already")
    edition = EditionRow(code=code, year=year, name_vi=name_vi, name_en=name_en,
                         framework_id=base.framework.id, base_edition=base_edition,
                         previous_code=previous or None,
                         unit_set=base.unit_set, catalogue=catalogue.to_dict(),
                         catalogue_checksum=catalogue.checksum(), illustrative=catalogue.illustrative,
                         opens_at=opens_at, closes_at=closes_at, status="open", version=1)
    session.add(edition)
    session.flush()
    t = now()
    units = load_unit_set(base.unit_set)
    session.execute(insert(Assessment), [
        {"edition_id": edition.id, "province_code": u.code, "state": "draft", "version": 1,
         "updated_at": t, "simulated": False} for u in units])
    ids = session.execute(select(Assessment.id).where(Assessment.edition_id == edition.id)).scalars()
    session.execute(insert(Answer), [
        {"assessment_id": a, "indicator_code": i.code, "version": 0, "reviewed_version": 0,
         "note": "", "review_status": "pending"} for a in ids for i in catalogue.items])
    audit.write(session, actor, "edition.create", edition=code,
                after={"catalogue": catalogue.id, "checksum": edition.catalogue_checksum})
    return edition


def get(session: Session, code: str) -> EditionRow:
    edition = session.scalar(select(EditionRow).where(EditionRow.code == code))
    if edition is None:
        raise NotFound(f"no edition {code!r}")
    return edition


def all_editions(session: Session) -> list[EditionRow]:
    return list(session.scalars(select(EditionRow).order_by(EditionRow.year.desc(), EditionRow.code)))


def set_window(session: Session, actor: Actor, code: str, opens_at: datetime | None,
               closes_at: datetime | None) -> EditionRow:
    require_role(actor, Role.ADMIN)
    edition = get(session, code)
    if opens_at and closes_at and closes_at <= opens_at:
        raise Conflict("the window must close after it opens")
    before = {"opens_at": _iso(edition.opens_at), "closes_at": _iso(edition.closes_at)}
    edition.opens_at, edition.closes_at = opens_at, closes_at
    edition.version += 1
    audit.write(session, actor, "edition.window", edition=code, before=before,
                after={"opens_at": _iso(opens_at), "closes_at": _iso(closes_at)})
    return edition


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


def grant_lock_exception(session: Session, actor: Actor, code: str, province: str, reason: str,
                         password: str) -> Assessment:
    """Re-open an approved assessment: admin only, password re-entered, reason kept."""
    require_role(actor, Role.ADMIN)
    reauthenticate(session, actor, password, f"lock exception {code}/{province}")
    _, assessment = find(session, code, province)
    assessment = transition(session, actor, code, province, Action.REOPEN, reason=reason)
    session.add(LockException(assessment_id=assessment.id, granted_by=actor.id, granted_at=now(),
                              reason=reason.strip()))
    return assessment


def state_counts(session: Session, code: str) -> dict[str, int]:
    edition = get(session, code)
    rows = session.execute(select(Assessment.state, func.count()).where(
        Assessment.edition_id == edition.id).group_by(Assessment.state)).all()
    return {state: n for state, n in rows}


def main_values(session: Session, edition: EditionRow, which: str = "final") -> dict[str, dict[str, float]]:
    """Province → main indicator → 0..1 value, from the stored points (``final`` by default)."""
    catalogue = catalogue_of(edition)
    column = getattr(Answer, f"{which}_points")
    rows = session.execute(select(Assessment.province_code, Answer.indicator_code, column)
                           .join(Answer, Answer.assessment_id == Assessment.id)
                           .where(Assessment.edition_id == edition.id)).all()
    points: dict[str, dict[str, float | None]] = {}
    for province, indicator, value in rows:
        points.setdefault(province, {})[indicator] = value
    return {p: catalogue.main_values(pts) for p, pts in points.items()}


def results(session: Session, edition: EditionRow, which: str = "final") -> Build:
    """The ranking computed by the engine from the stored points, with the base edition's method."""
    base = load_edition(edition.base_edition)
    data = _dataset(main_values(session, edition, which), base.framework, edition.unit_set)
    return build(data, base.framework, base.recipe)


def _dataset(values: dict[str, dict[str, float]], framework, unit_set: str) -> Dataset:
    """Province → main indicator → value as the engine's input, one row per unit of the set."""
    units = load_unit_set(unit_set)
    nodes = framework.data_nodes
    matrix = np.array([[values.get(u, {}).get(n.code, np.nan) for n in nodes] for u in units.codes],
                      dtype=float)
    return Dataset(units.codes, tuple(n.code for n in nodes), matrix,
                   {"region": tuple(u.region or "" for u in units)}, unit_set=unit_set)


def publish(session: Session, actor: Actor, code: str, password: str) -> EditionRow:
    """Freeze the edition: every assessment approved → published; framework, recipe, values,
    results, catalogue and the audit trail's head stored with one checksum.  Refused unless every
    province is approved."""
    require_role(actor, Role.ADMIN)
    reauthenticate(session, actor, password, f"publish {code}")
    edition = get(session, code)
    if edition.status == "published":
        raise Conflict("this edition is published already")
    pending = list(session.scalars(select(Assessment.province_code).where(
        Assessment.edition_id == edition.id, Assessment.state != State.APPROVED.value)
        .order_by(Assessment.province_code)))
    if pending:
        raise Conflict(f"{len(pending)} province(s) not approved yet: {', '.join(pending[:10])}"
                       f"{' …' if len(pending) > 10 else ''}", pending=pending)
    snapshot = freeze(session, edition)
    for assessment in session.scalars(select(Assessment).where(Assessment.edition_id == edition.id)):
        transition(session, actor, code, assessment.province_code, Action.PUBLISH)
    edition.status, edition.published_at = "published", now()
    edition.version += 1
    # The audit trail's head — every line before the publication line, this publication's own
    # transitions included — is part of what is published: a history rewritten before it no
    # longer matches the published checksum.  (Taken after the changes above are flushed: the
    # trail's lock comes last and is held to the commit, so the publication line follows it.)
    snapshot["audit_head"] = audit.head(session)
    edition.snapshot, edition.snapshot_checksum = snapshot, checksum(snapshot)
    audit.write(session, actor, "edition.publish", edition=code,
                after={"checksum": edition.snapshot_checksum, "audit_head": snapshot["audit_head"]})
    return edition


def freeze(session: Session, edition: EditionRow) -> dict[str, Any]:
    """Everything a publication is: framework and recipe as data, the inputs (main-indicator
    values from the final points), the results, and what they came from."""
    base = load_edition(edition.base_edition)
    snapshot = {"edition": edition.code, "year": edition.year, "name_vi": edition.name_vi,
                "name_en": edition.name_en, "base_edition": base.id, "unit_set": edition.unit_set,
                "framework": framework_source(base.id), "recipe": base.recipe.to_dict(),
                "catalogue_checksum": edition.catalogue_checksum,
                "illustrative": edition.illustrative, "seed": PUBLISHED_ANALYSIS["seed"],
                "analysis": PUBLISHED_ANALYSIS, "values": main_values(session, edition)}
    return {**snapshot, **computed(snapshot)}


def computed(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The scores and ranks of a snapshot, recomputed from its own framework, recipe and values
    alone — publication stores them, :func:`verify` recomputes them."""
    framework = framework_from_dict(snapshot["framework"])
    recipe = Recipe.from_dict(snapshot["recipe"])
    data = _dataset(snapshot["values"], framework, snapshot["unit_set"])
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
    out = []
    for row in session.scalars(select(EditionRow).where(EditionRow.status == "published")):
        snap = row.snapshot or {}
        base = load_edition(row.base_edition)
        framework = framework_from_dict(snap["framework"]) if "framework" in snap else base.framework
        recipe = Recipe.from_dict(snap["recipe"]) if "recipe" in snap else base.recipe
        scores = {c: {u: v for u, v in per.items() if v is not None}
                  for c, per in snap.get("scores", {}).items()}
        units = load_unit_set(row.unit_set).codes
        results = PublishedResults(row.unit_set, f"store:{row.code}", units, scores,
                                   snap.get("ranks", {}))
        note = ("MINH HOẠ — số liệu mô phỏng, không phải kết quả chính thức / ILLUSTRATIVE — "
                "simulated data, not official results" if row.illustrative else "")
        out.append(Edition(id=row.code, year=row.year, name_vi=row.name_vi, name_en=row.name_en,
                           framework=framework, recipe=recipe, unit_set=row.unit_set,
                           previous=row.previous_code, published_on=row.published_at.date().isoformat()
                           if row.published_at else "", legal_basis=base.legal_basis, note=note,
                           merge_rule=None, published=(results,), status="published",
                           illustrative=row.illustrative, uncertainty=snap.get("uncertainty")))
    return out
