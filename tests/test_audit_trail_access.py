"""Who may read which lines of the audit trail, through ``audit.entries`` (the store call the audit
pages make).  The expectations are written out here from the rules — ministry roles read every
province, province roles their own only, the public nothing — not read from ``dti.workflow``."""

from __future__ import annotations

import pytest
from assessment_support import EDITION, OTHER, OWN, populate

from dti.errors import NotAllowed
from dti.store import audit
from dti.store.accounts import PUBLIC

# actor -> provinces whose lines it sees when it names no province; None: refused
SEES = {"admin": {OWN, OTHER}, "reviewer": {OWN, OTHER}, "editor": {OWN}, "approver": {OWN},
        "other_editor": {OTHER}, "public": None}


@pytest.fixture
def world(store):
    world = populate(store)
    with store.transaction() as session:
        for province in (OWN, OTHER):
            audit.write(session, world.actors["admin"], "test.line", edition=EDITION,
                        province=province)
    world.actors["public"] = PUBLIC
    return world


def _provinces(world, name: str, province: str | None = None) -> set[str]:
    with world.store.reading() as session:
        rows = audit.entries(session, world.actors[name], EDITION, province)
    return {r["province_code"] for r in rows if r["action"] == "test.line"}


@pytest.mark.parametrize("name", sorted(SEES))
def test_each_role_reads_the_lines_the_view_audit_rule_gives_it(world, name):
    if SEES[name] is None:
        with pytest.raises(NotAllowed, match="logged-in users"):
            _provinces(world, name)
        return
    assert _provinces(world, name) == SEES[name]
    for province in (OWN, OTHER):
        if province in SEES[name]:
            assert _provinces(world, name, province) == {province}
        else:
            with pytest.raises(NotAllowed, match="another province"):
                _provinces(world, name, province)
