"""The service layer's pure parts and the one clock.

A publication is computed and verified here without any database: the snapshot is built in memory
from the illustrative catalogue and simulated answers (as the demo draws them), computed by
:mod:`dti.services.publication`, and checked as a reader holding only the snapshot would check it.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from types import SimpleNamespace

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dti import clock
from dti.editions.demo import demo_dataset
from dti.scoring import illustrative_catalogue
from dti.services import publication
from dti.services.demo import answer_for
from dti.store import audit
from dti.store.access import window_problem
from dti.store.accounts import Actor, create_user
from dti.store.models import AuditEntry, EditionRow, User

CATALOGUE = illustrative_catalogue()


def _simulated_values(seed: int = 7) -> dict[str, dict[str, float]]:
    """Province → main indicator → value, from simulated answers scored by the catalogue."""
    data, rng = demo_dataset(), np.random.default_rng(seed)
    values = {}
    for row, province in enumerate(data.units):
        quality = {c: float(data.values[row, data.columns.index(c)]) for c in data.columns}
        points = {}
        for item in CATALOGUE.items:
            answer = answer_for(item, quality.get(item.main_code, 0.5), rng)
            points[item.code] = item.points(answer) if item.scored else None
        values[province] = CATALOGUE.main_values(points)
    return values


@pytest.fixture(scope="module")
def frozen():
    edition = SimpleNamespace(code="dti-test-2022", year=2022, name_vi="Kỳ thử nghiệm 2022",
                              name_en="Test edition 2022", base_edition="dti-province-2022",
                              unit_set="provinces-63", catalogue_checksum=CATALOGUE.checksum(),
                              illustrative=True)
    refuse = pytest.MonkeyPatch()
    refuse.setattr(Session, "__init__", _no_database)
    try:
        snapshot = publication.snapshot_of(edition, _simulated_values())
    finally:
        refuse.undo()
    return snapshot


def _no_database(*args, **kwargs):
    raise AssertionError("the publication's pure part opened a database session")


def test_a_publication_is_computed_and_verified_without_a_database(frozen, monkeypatch):
    monkeypatch.setattr(Session, "__init__", _no_database)
    stored = publication.checksum(frozen)
    assert publication.verify(frozen, stored)
    dti = frozen["scores"]["DTI"]
    assert len(dti) == 63 and all(v is not None for v in dti.values())
    best = max(dti, key=dti.get)
    assert frozen["ranks"]["DTI"][best] == 1
    assert frozen["uncertainty"]["runs"] == 1000
    for interval in frozen["uncertainty"]["units"].values():
        assert interval["p05"] <= interval["median"] <= interval["p95"]


def test_a_tampered_snapshot_is_refused(frozen):
    stored = publication.checksum(frozen)
    province = next(iter(frozen["scores"]["DTI"]))
    score_changed = copy.deepcopy(frozen)
    score_changed["scores"]["DTI"][province] = 0.999
    assert not publication.verify(score_changed, stored)
    # a snapshot whose inputs were changed and its checksum made again: the recomputed results no
    # longer match the ones it carries
    values_changed = copy.deepcopy(frozen)
    main = next(iter(values_changed["values"][province]))
    values_changed["values"][province][main] = 1.0 - values_changed["values"][province][main]
    assert not publication.verify(values_changed, publication.checksum(values_changed))


def test_moving_the_clock_once_moves_it_for_every_store_module(store, monkeypatch):
    moved = datetime(2031, 5, 17, 9, 30)
    monkeypatch.setattr(clock, "source", lambda: moved)
    with store.transaction() as session:
        user = create_user(session, "clock.test", "correct-horse-9", "admin", None, "Kiểm tra")
        audit.write(session, Actor.of(user), "test.clock")
    with store.reading() as session:
        assert session.scalar(select(User.created_at).where(User.username == "clock.test")) == moved
        assert session.scalar(select(AuditEntry.at).where(AuditEntry.action == "test.clock")) == moved
    edition = EditionRow(status="open", opens_at=moved + timedelta(days=1), closes_at=None)
    assert window_problem(edition)[0].startswith("the assessment window opens")
    monkeypatch.setattr(clock, "source", lambda: moved + timedelta(days=2))
    assert window_problem(edition) is None
