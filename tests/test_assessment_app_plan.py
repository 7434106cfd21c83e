"""The planner in the assessment app: points still within reach and what-if on answers, scoped to
the user's own province, never ranking against other provinces' unpublished answers."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from assessment_support import EDITION, OTHER, OWN, login, populate

from dti.services import assessments as changes
from dti.scoring import illustrative_catalogue
from dti.store import assessments
from dti.web.app import create_app
from dti.web.settings import Settings

CAT = illustrative_catalogue()


def _client(store, user):
    client = TestClient(create_app(Settings(), store=store))
    return client, login(client, user)


def test_gaps_are_the_missing_points_of_the_province_own_answers(store):
    world = populate(store)
    yesno = next(i for i in CAT.items if i.rule.kind == "yesno")
    with store.transaction() as session:
        changes.save_answer(session, world.actors["editor"], EDITION, OWN, yesno.code,
                                {"value": "có"}, 0)
    client, _ = _client(store, "editor")
    page = client.get(f"/app/plan/{EDITION}/{OWN}", headers={"accept": "application/json"})
    assert page.status_code == 200
    gaps = {g["code"]: g for g in page.json()["gaps"]}
    assert yesno.code not in gaps                      # full marks: nothing to gain
    scored = sum(i.max_points for i in CAT.items if i.scored)
    assert sum(g["missing"] for g in gaps.values()) == pytest.approx(scored - yesno.max_points)
    html = client.get(f"/app/plan/{EDITION}/{OWN}").text
    assert "MINH HOẠ" in html and "Điểm còn có thể đạt" in html


def test_what_if_on_answers_adds_points_over_1000_to_the_total_and_saves_nothing(store):
    populate(store)
    ratio = next(i for i in CAT.items if i.rule.kind == "ratio" and i.max_points >= 10)
    a, b = (f.name for f in ratio.rule.fields)
    client, csrf = _client(store, "editor")
    response = client.post(f"/app/plan/{EDITION}/{OWN}", headers={"accept": "application/json"},
                           data={"csrf": csrf, f"a_{ratio.code}__{a}": "1", f"a_{ratio.code}__{b}": "2"})
    assert response.status_code == 200, response.text
    body = response.json()["what_if"]
    total = next(r for r in body["standing"] if r["node"] == "DTI")
    assert total["score_before"] == 0.0                  # nothing answered yet
    assert total["score_after"] == pytest.approx(round(ratio.max_points / 2 / 1000, 4))
    with store.reading() as session:
        from dti.store.accounts import PUBLIC  # noqa: F401  (the store is unchanged)
        view = assessments.view(session, populate_actor(store, "editor"), EDITION, OWN)
        assert view.answers[ratio.code].answer.self_points is None
    html = client.post(f"/app/plan/{EDITION}/{OWN}",
                       data={"csrf": csrf, f"a_{ratio.code}__{a}": "1", f"a_{ratio.code}__{b}": "2"}).text
    assert f"{ratio.max_points / 2:.2f}".replace(".", ",") in html   # vi-VN points


def populate_actor(store, username):
    from sqlalchemy import select

    from dti.store.accounts import Actor
    from dti.store.models import User

    with store.reading() as session:
        return Actor.of(session.scalar(select(User).where(User.username == username)))


def test_another_province_plan_is_refused(store):
    populate(store)
    client, csrf = _client(store, "other_editor")
    assert client.get(f"/app/plan/{EDITION}/{OWN}").status_code == 403
    assert client.post(f"/app/plan/{EDITION}/{OWN}", data={"csrf": csrf}).status_code == 403
    assert client.get(f"/app/plan/{EDITION}/{OTHER}").status_code == 200
    assert client.post(f"/app/plan/{EDITION}/{OTHER}", data={}).status_code == 403   # no CSRF token
