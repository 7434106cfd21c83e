"""Publication freezes an edition: framework and recipe as data, the inputs, the results and one
checksum; recomputing from the snapshot alone gives the same bytes, and a changed number is
caught."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import update
from workspace_support import EDITION, OWN, PASSWORD, populate

from dti.errors import Conflict, NotAllowed
from dti.scoring import illustrative_catalogue
from dti.store import assessments, editions
from dti.store.models import Assessment, EditionRow

CAT = illustrative_catalogue()


def _approve_all(store):
    with store.transaction() as session:
        session.execute(update(Assessment).values(state="approved"))


def test_publication_freezes_and_recomputes_to_the_same_checksum(store):
    world = populate(store)
    yesno = next(i for i in CAT.items if i.rule.kind == "yesno")
    with store.transaction() as session:
        assessments.save_answer(session, world.actors["editor"], EDITION, OWN, yesno.code,
                                {"value": "có"}, 0)
    _approve_all(store)
    with store.transaction() as session:
        row = editions.publish(session, world.actors["admin"], EDITION, PASSWORD)
        snapshot, stored = row.snapshot, row.snapshot_checksum
    with store.reading() as session:
        row = editions.get(session, EDITION)
        assert row.status == "published" and row.snapshot_checksum == stored
        assert editions.verify(row.snapshot, stored)
        frozen = editions.published_editions(session)[0]
    assert snapshot["framework"]["id"] == "qd-922-btttt"
    assert snapshot["values"][OWN][yesno.main_code] == pytest.approx(
        yesno.max_points / next(m.max_points for m in CAT.mains if m.code == yesno.main_code))
    assert snapshot["scores"]["DTI"][OWN] == pytest.approx(yesno.max_points / 1000)
    assert frozen.results().score("DTI", OWN) == pytest.approx(yesno.max_points / 1000)
    assert frozen.illustrative and "MINH HOẠ" in frozen.note

    tampered = copy.deepcopy(row.snapshot)
    tampered["scores"]["DTI"][OWN] = 0.9
    assert not editions.verify(tampered, stored)
    inputs_changed = copy.deepcopy(row.snapshot)
    inputs_changed["values"][OWN][yesno.main_code] = 1.0
    assert not editions.verify(inputs_changed, editions.checksum(inputs_changed))


def test_publication_refuses_an_edition_with_provinces_not_approved_and_changes_nothing(store):
    world = populate(store)
    with store.transaction() as session:
        session.execute(update(Assessment).where(Assessment.province_code != OWN)
                        .values(state="approved"))
    with pytest.raises(Conflict) as refused:
        with store.transaction() as session:
            editions.publish(session, world.actors["admin"], EDITION, PASSWORD)
    assert refused.value.context["pending"] == [OWN]
    with pytest.raises(NotAllowed):
        with store.transaction() as session:
            editions.publish(session, world.actors["reviewer"], EDITION, PASSWORD)
    with store.reading() as session:
        row = session.query(EditionRow).one()
        assert row.status == "open" and row.snapshot is None
