"""Editions in the store: the table's rows in and out — creation from a scoring catalogue,
assessment windows, lock exceptions, the main-indicator values of the final points, and the writes
of a publication.

What needs the shipped editions, the engine or the analysis — checking a new edition against its
base, computing results, freezing and verifying a publication — is :mod:`dti.services`' work; this
module only reads and writes rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from dti.clock import now
from dti.errors import Conflict, NotFound
from dti.scoring import ScoringCatalogue
from dti.store import audit
from dti.store.access import require_role
from dti.store.accounts import Actor
from dti.store.assessments import catalogue_of
from dti.store.models import Answer, Assessment, EditionRow
from dti.units import load_unit_set
from dti.workflow import Role, State

EDITION_CODE = re.compile(r"[a-z0-9][a-z0-9-]{1,79}")


@dataclass(frozen=True)
class NewEdition:
    """An edition to add: its code, year and names, the base edition whose framework and unit set
    it takes, the edition it is compared with and its assessment window."""

    code: str
    year: int
    name_vi: str
    name_en: str
    base_edition: str
    framework_id: str
    unit_set: str
    previous: str | None = None
    opens_at: datetime | None = None
    closes_at: datetime | None = None


def check_new(code: str, name_vi: str, name_en: str) -> None:
    """Refuse an edition code or names the table would not take (Conflict, before any read)."""
    if not EDITION_CODE.fullmatch(code or ""):
        raise Conflict(f"{code!r} cannot be an edition code: use 2–80 lower-case letters, digits "
                       "and '-' (e.g. dti-province-2025)")
    if not (name_vi or "").strip() or len(name_vi) > 300 or len(name_en or "") > 300:
        raise Conflict("an edition needs a Vietnamese name of at most 300 characters")


def exists(session: Session, code: str) -> bool:
    return session.scalar(select(EditionRow.id).where(EditionRow.code == code)) is not None


def add_edition(session: Session, actor: Actor, catalogue: ScoringCatalogue,
                new: NewEdition) -> EditionRow:
    """Write a new edition with an empty draft assessment for every province of its unit set (the
    checks that need the shipped editions are :func:`dti.services.edition_setup.create_edition`'s)."""
    require_role(actor, Role.ADMIN)
    if exists(session, new.code):
        raise Conflict(f"an edition {new.code!r} exists already")
    edition = EditionRow(code=new.code, year=new.year, name_vi=new.name_vi, name_en=new.name_en,
                         framework_id=new.framework_id, base_edition=new.base_edition,
                         previous_code=new.previous or None,
                         unit_set=new.unit_set, catalogue=catalogue.to_dict(),
                         catalogue_checksum=catalogue.checksum(), illustrative=catalogue.illustrative,
                         opens_at=new.opens_at, closes_at=new.closes_at, status="open", version=1)
    session.add(edition)
    session.flush()
    t = now()
    units = load_unit_set(new.unit_set)
    session.execute(insert(Assessment), [
        {"edition_id": edition.id, "province_code": u.code, "state": "draft", "version": 1,
         "updated_at": t, "simulated": False} for u in units])
    ids = session.execute(select(Assessment.id).where(Assessment.edition_id == edition.id)).scalars()
    session.execute(insert(Answer), [
        {"assessment_id": a, "indicator_code": i.code, "version": 0, "reviewed_version": 0,
         "note": "", "review_status": "pending"} for a in ids for i in catalogue.items])
    audit.write(session, actor, "edition.create", edition=new.code,
                after={"catalogue": catalogue.id, "checksum": edition.catalogue_checksum})
    return edition


def get(session: Session, code: str) -> EditionRow:
    edition = session.scalar(select(EditionRow).where(EditionRow.code == code))
    if edition is None:
        raise NotFound(f"no edition {code!r}")
    return edition


def all_editions(session: Session) -> list[EditionRow]:
    return list(session.scalars(select(EditionRow).order_by(EditionRow.year.desc(), EditionRow.code)))


def unit_editions(session: Session, unit: str) -> list[EditionRow]:
    """The editions that assess ``unit`` (a province's, or a body's), newest first: a ministry's
    editor has nothing to do in a provincial edition."""
    return list(session.scalars(select(EditionRow).join(Assessment).where(
        Assessment.province_code == unit).order_by(EditionRow.year.desc(), EditionRow.code)))


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


def province_codes(session: Session, edition: EditionRow) -> list[str]:
    """Every province with an assessment in the edition, in the order they were created."""
    return list(session.scalars(select(Assessment.province_code).where(
        Assessment.edition_id == edition.id).order_by(Assessment.id)))


def pending_provinces(session: Session, edition: EditionRow) -> list[str]:
    """The provinces whose assessment is not approved yet, by code."""
    return list(session.scalars(select(Assessment.province_code).where(
        Assessment.edition_id == edition.id, Assessment.state != State.APPROVED.value)
        .order_by(Assessment.province_code)))


def store_snapshot(session: Session, actor: Actor, edition: EditionRow, snapshot: dict[str, Any],
                   checksum: str) -> None:
    """Keep the publication's snapshot and checksum, and write the ``edition.publish`` line."""
    edition.snapshot, edition.snapshot_checksum = snapshot, checksum
    audit.write(session, actor, "edition.publish", edition=edition.code,
                after={"checksum": checksum, "audit_head": snapshot["audit_head"]})


def published_rows(session: Session) -> list[EditionRow]:
    return list(session.scalars(select(EditionRow).where(EditionRow.status == "published")))
