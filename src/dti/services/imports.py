"""Applying a province's filled assessment workbook: a dry-run preview, then all or nothing.

The rows come from :func:`dti.io.assessment_xlsx.read_import`.  A row's blank cells keep the
stored value of that field (the row's filled cells are laid over the stored answer); a row that
changes neither the answer nor the note is left alone.  :func:`preview` writes nothing;
:func:`apply` saves every changed answer through :func:`dti.services.assessments.save_answer`
(points computed by the edition's catalogue, each save audited) inside the caller's one
transaction, then writes one ``import.apply`` audit line with the file's SHA-256 and the count.
Any problem — a stale row, a refused permission, an unreadable answer — raises before the
transaction commits, so nothing from the file is kept.

Testing aid: the environment setting ``DTI_IMPORT_HOLD_FILE`` (a path; unset by default), read at
each call, makes :func:`apply` stop after each saved row, write the number of rows saved so far
into that file and wait until the file is removed, so a test can kill the server at an exact point
in the middle of an import.  Never set it in production.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dti.errors import InputError, NotFound, Problem, StaleEdit
from dti.io import assessment_xlsx
from dti.io.assessment_xlsx import VALUE_HEAD, ImportRow
from dti.scoring import ScoringCatalogue, parse_answer
from dti.store import audit
from dti.store.access import authorize, find
from dti.store.accounts import Actor
from dti.services.assessments import save_answer
from dti.store.assessments import catalogue_of, view
from dti.store.models import Answer
from dti.units import UnitSet, load_unit_set
from dti.workflow import Action

HOLD_SETTING = "DTI_IMPORT_HOLD_FILE"


@dataclass(frozen=True)
class Change:
    """One answer the import would change; ``stale`` when it changed after the template was made."""

    code: str
    before_points: float | None
    after_points: float | None
    before_value: dict[str, Any] | None
    after_value: dict[str, Any]
    stale: bool
    before_note: str = ""
    after_note: str = ""
    stored_version: int = 0
    file_version: int | None = None
    sheet: str = ""
    row: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Target:
    """What reading a workbook for one assessment needs."""

    catalogue: ScoringCatalogue
    units: UnitSet
    province_name: str
    illustrative: bool


def target(session: Session, actor: Actor, edition_code: str, province_code: str) -> Target:
    """The catalogue and provinces to read an import against; needs the EDIT permission."""
    edition, assessment = find(session, edition_code, province_code)
    authorize(session, actor, Action.EDIT, assessment)
    units = load_unit_set(edition.unit_set)
    name = units.get(province_code).name_vi if province_code in units else province_code
    return Target(catalogue_of(edition), units, name, bool(edition.illustrative))


def workbook(session: Session, actor: Actor, edition_code: str, province_code: str) -> bytes:
    """The province's workbook prefilled with its stored answers and versions (VIEW permission)."""
    current = view(session, actor, edition_code, province_code)
    units = load_unit_set(current.edition.unit_set)
    name = units.get(province_code).name_vi if province_code in units else province_code
    answers = {code: v.answer.self_value for code, v in current.answers.items()}
    versions = {code: v.answer.version for code, v in current.answers.items()}
    return assessment_xlsx.template(current.catalogue, edition_code, province_code, name,
                                    answers, versions)


@dataclass(frozen=True)
class _Planned:
    change: Change
    raw: dict[str, Any]
    note: str | None


def _plan(session: Session, actor: Actor, edition_code: str, province_code: str,
          rows: Sequence[ImportRow]) -> list[_Planned]:
    edition, assessment = find(session, edition_code, province_code)
    authorize(session, actor, Action.EDIT, assessment)
    catalogue = catalogue_of(edition)
    stored = {a.indicator_code: a for a in session.scalars(
        select(Answer).where(Answer.assessment_id == assessment.id))}
    planned: list[_Planned] = []
    problems: list[Problem] = []
    for row in rows:
        item, answer = catalogue.item(row.code), stored.get(row.code)
        if item is None or answer is None:
            raise NotFound(f"no sub-indicator {row.code!r} in this edition's catalogue")
        raw = {**(answer.self_value or {}), **row.raw}   # blank cells keep the stored field
        value, found = parse_answer(item, raw)
        heads = {f.name: VALUE_HEAD.format(n=i) for i, f in enumerate(item.rule.fields, start=1)}
        problems += [Problem(p.code, p.message, row=row.row, indicator=row.code, value=p.value,
                             column=f"{row.sheet}!{heads.get(p.column or '', p.column)}")
                     for p in found]
        note = row.note if row.note is not None and row.note != (answer.note or "") else None
        if value == (answer.self_value or {}) and note is None:
            continue
        points = item.points(value) if item.scored else None
        planned.append(_Planned(Change(
            row.code, answer.self_points, points, answer.self_value, value,
            stale=row.version != answer.version, before_note=answer.note or "",
            after_note=(answer.note or "") if note is None else note,
            stored_version=answer.version, file_version=row.version, sheet=row.sheet,
            row=row.row), raw, note))
    if problems:
        raise InputError(problems)
    return planned


def preview(session: Session, actor: Actor, edition_code: str, province_code: str,
            rows: Sequence[ImportRow]) -> list[Change]:
    """What applying ``rows`` would change, in row order; writes nothing.

    Needs the EDIT permission on the assessment (as the web form does); raises InputError when a
    row, laid over the stored answer, cannot be read.
    """
    return [p.change for p in _plan(session, actor, edition_code, province_code, rows)]


def apply(session: Session, actor: Actor, edition_code: str, province_code: str,
          rows: Sequence[ImportRow], sha256: str = "", filename: str | None = None) -> int:
    """Save every changed answer in the caller's transaction; the number saved.

    Raises :class:`~dti.errors.StaleEdit` (409) naming every stale row before saving anything;
    any error raised later (permission, a concurrent save) also leaves the transaction to roll
    back as a whole.
    """
    planned = _plan(session, actor, edition_code, province_code, rows)
    stale = [p.change for p in planned if p.change.stale]
    if stale:
        raise StaleEdit(f"{len(stale)} answer(s) changed after this workbook was downloaded "
                        f"({', '.join(c.code for c in stale)}); nothing was imported — download a "
                        "new template and copy your answers into it",
                        stale=[{"indicator": c.code, "row": c.row, "file_version": c.file_version,
                                "stored_version": c.stored_version} for c in stale])
    hold = os.environ.get(HOLD_SETTING)
    for saved, p in enumerate(planned, 1):
        save_answer(session, actor, edition_code, province_code, p.change.code, p.raw,
                    expected_version=p.change.stored_version, note=p.note)
        if hold:
            session.flush()
            _hold(Path(hold), saved)
    audit.write(session, actor, "import.apply", edition=edition_code, province=province_code,
                after={"sha256": sha256, "count": len(planned), "file": filename})
    return len(planned)


def _hold(marker: Path, saved: int) -> None:
    """The ``DTI_IMPORT_HOLD_FILE`` testing aid: say how many rows are saved (the file appears
    whole, by rename) and wait until the test removes the file."""
    unfinished = marker.with_name(marker.name + ".part")
    unfinished.write_text(str(saved), encoding="ascii")
    unfinished.replace(marker)
    while marker.exists():
        time.sleep(0.01)
