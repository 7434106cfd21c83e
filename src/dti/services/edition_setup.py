"""A new edition, checked against the shipped edition whose method it takes, then written by
:func:`dti.store.edition_rows.add_edition`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from dti.editions import edition_ids, load_edition
from dti.errors import Conflict
from dti.scoring import ScoringCatalogue
from dti.store import edition_rows
from dti.store.access import require_role
from dti.store.accounts import Actor
from dti.store.edition_rows import NewEdition
from dti.store.models import EditionRow
from dti.workflow import Role


def create_edition(session: Session, actor: Actor, catalogue: ScoringCatalogue, code: str, year: int,
                   name_vi: str, name_en: str, base_edition: str = "dti-province-2022",
                   opens_at: datetime | None = None, closes_at: datetime | None = None,
                   previous: str | None = None) -> EditionRow:
    """A new edition with an empty draft assessment for every province of the base's unit set;
    ``previous`` (a store edition's code or a shipped edition's id) is what it is compared with."""
    require_role(actor, Role.ADMIN)
    edition_rows.check_new(code, name_vi, name_en)
    base = load_edition(base_edition)
    if previous and previous not in edition_ids() and not edition_rows.exists(session, previous):
        raise Conflict(f"no edition {previous!r} to compare with")
    if catalogue.framework_id != base.framework.id:
        raise Conflict(f"the catalogue is for framework {catalogue.framework_id!r}, the base edition "
                       f"uses {base.framework.id!r}")
    return edition_rows.add_edition(session, actor, catalogue, NewEdition(
        code, year, name_vi, name_en, base_edition, base.framework.id, base.unit_set,
        previous=previous, opens_at=opens_at, closes_at=closes_at))
