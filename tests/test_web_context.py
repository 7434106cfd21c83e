"""The application context: routes read what they share from one frozen record, and a publication
replaces the catalogue and everything made from it in one step."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dti.web.app import create_app, refresh_public
from dti.web.context import context_of
from dti.web.settings import Settings
from dti.web.snapshot import Catalogue

WEB = Path(__file__).parents[1] / "src" / "dti" / "web"
FIRST = "dti-province-2020"
STATE = re.compile(r"\bapp\.state\b")


def test_a_publication_replaces_the_catalogue_and_all_made_from_it_at_once():
    app = create_app(Settings(), catalogue=Catalogue.shipped((FIRST,)))
    client = TestClient(app)
    assert [e["id"] for e in client.get("/api/v1/editions").json()["editions"]] == [FIRST]
    before = context_of(app)
    cache_before = before.public.cache

    refresh_public(app)     # the catalogue is read again: every shipped edition now

    after = context_of(app)
    assert after is not before and len(after.catalogue.editions) > 1
    assert after.api_v1.catalogue is after.catalogue and after.reports.catalogue is after.catalogue
    assert after.planner is not before.planner and after.public.cache is not cache_before
    for kept in ("settings", "store", "templates", "gates", "public", "stopping"):
        assert getattr(after, kept) is getattr(before, kept), kept
    listed = [e["id"] for e in client.get("/api/v1/editions").json()["editions"]]
    assert listed == sorted((e.id for e in after.catalogue.editions),
                            key=lambda i: after.catalogue.edition(i).year)
    with pytest.raises(dataclasses.FrozenInstanceError):
        after.catalogue = before.catalogue   # type: ignore[misc]


def test_only_the_app_and_the_context_module_touch_app_state():
    readers = sorted(str(p.relative_to(WEB)) for p in WEB.rglob("*.py")
                     if STATE.search(p.read_text(encoding="utf-8")))
    assert readers == ["app.py", "context.py"]


def _included(routes) -> list:
    """Every included router (FastAPI 0.16x keeps them apart and prepares them lazily), nested."""
    found = []
    for route in routes:
        if callable(getattr(route, "effective_candidates", None)):
            found.append(route)
            found += _included(route._effective_candidates)   # as requests will walk them
    return found


def test_every_router_is_prepared_when_the_app_is_made_not_by_its_first_visitor():
    """A worker's first request for a PDF on disk waited 200–500 ms while FastAPI prepared the
    routers it passed through; create_app prepares them all, so no visitor pays for it."""
    import fastapi

    app = create_app(Settings(), catalogue=Catalogue.shipped((FIRST,)))
    included = _included(app.router.routes)
    if tuple(int(p) for p in fastapi.__version__.split(".")[:2]) < (0, 160):
        assert included == [], "an older FastAPI prepares routes at include_router"
        return
    assert included, "FastAPI 0.16x keeps included routers apart; none found"
    assert all(r._effective_candidates_version is not None for r in included)
    assert all(r._effective_low_priority_routes_version is not None for r in included)


def test_templates_look_a_dictionarys_key_up_before_its_methods():
    from dti.web.app import _templates

    template = _templates().env.from_string(
        "{{ d.values }}|{{ d.get('a') }}|{{ d.missing }}|{{ n.real }}|{{ t.save }}")
    assert template.render(d={"values": "v", "a": 1}, n=2.5, t={"save": "Lưu"}) == "v|1||2.5|Lưu"


def test_a_serving_process_settles_its_heap_and_a_test_app_does_not():
    import subprocess
    import sys

    assert Settings.from_env({}).settle_heap and not Settings().settle_heap
    code = ("import gc; from dti.web.portal_http import settle_heap, YOUNG_COLLECTION; "
            "settle_heap(); print(gc.get_freeze_count() > 1000, "
            "gc.get_threshold()[0] == YOUNG_COLLECTION)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]


def test_a_worker_runs_as_many_requests_at_once_as_set():
    from anyio import to_thread

    from dti.errors import DtiError

    assert Settings.from_env({"DTI_REQUEST_THREADS": "3"}).request_threads == 3
    with pytest.raises(DtiError, match="DTI_REQUEST_THREADS"):
        Settings.from_env({"DTI_REQUEST_THREADS": "0"})
    with TestClient(create_app(Settings(request_threads=3))) as client:
        tokens = client.portal.call(lambda: to_thread.current_default_thread_limiter().total_tokens)
    assert tokens == 3
