"""The public portal under abuse: junk parameters cost no render, answers are precomputed bytes
(ETag → 304, gzip), expensive work runs in bounded pools of its own (503 + Retry-After beyond
them, never on the event loop, never in the assessment app's pool), reports are rendered ahead
onto disk, and every public answer carries the security headers."""

from __future__ import annotations

import gzip
import inspect
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from dti.web import create_app, reports
from dti.web.ahead import ReportShelf, ReportSpec, fingerprint
from dti.web.context import context_of
from dti.web.portal_http import ACTIVITY, public_routes, start_ahead
from dti.web.settings import Settings
from dti.web.snapshot import Catalogue
from test_browser import browser  # noqa: F401  (the Chromium fixture: skipped without it)
from assessment_support import populate, serving

E = "dti-province-2022"
RANKING = f"/editions/{E}"
NATIONAL = f"/reports/editions/{E}.pdf"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.shipped()


@pytest.fixture(scope="module")
def client(catalogue) -> TestClient:
    return TestClient(create_app(catalogue=catalogue))


class Renders:
    """Counts the real report renders (and can hold them until released)."""

    def __init__(self, monkeypatch, hold: bool = False) -> None:
        self.count = 0
        self.started = threading.Event()
        self.release = threading.Event()
        if not hold:
            self.release.set()
        for name in ("national_report", "province_report"):
            monkeypatch.setattr(reports, name, self._counted(getattr(reports, name)))

    def _counted(self, render):
        def counted(*args, **kwargs):
            self.count += 1
            self.started.set()
            assert self.release.wait(60), "the test never released the render"
            return render(*args, **kwargs)

        return counted


# ---------------------------------------------------------------- junk parameters, ETag, gzip


def test_a_junk_parameter_costs_no_render(catalogue, monkeypatch, tmp_path):
    renders = Renders(monkeypatch)
    client = TestClient(create_app(Settings(report_dir=str(tmp_path)), catalogue=catalogue))
    first = client.get(NATIONAL)
    assert first.status_code == 200 and first.content.startswith(b"%PDF")
    assert renders.count == 1
    for i in range(20):
        again = client.get(f"{NATIONAL}?x={i}&_={i * 7}&utm_source=junk")
        assert again.status_code == 200 and again.content == first.content
    # the default basis named, or the PDF asked in another process: still the one file on disk
    assert client.get(f"{NATIONAL}?basis=provinces-63&x=1").content == first.content
    fresh = TestClient(create_app(Settings(report_dir=str(tmp_path)), catalogue=catalogue))
    assert fresh.get(f"{NATIONAL}?cache=bust").content == first.content
    assert renders.count == 1


def test_unknown_parameters_are_ignored_and_recognised_ones_kept(client):
    plain = client.get(RANKING)
    junk = client.get(f"{RANKING}?x=1&nonce=42")
    assert junk.content == plain.content and junk.headers["etag"] == plain.headers["etag"]
    assert "nonce" not in junk.text                    # the language link drops it too
    region = client.get(f"{RANKING}?region=T%C3%A2y%20Nguy%C3%AAn&x=2")
    assert region.content != plain.content and "region=T" in region.text
    assert client.get("/api/v1/editions/dti-province-2022/results?junk=1").json()["count"] == 63


def test_answers_carry_a_strong_etag_and_a_match_is_304(client):
    first = client.get(RANKING, headers={"accept-encoding": "identity"})
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = client.get(f"{RANKING}?x=1", headers={"if-none-match": etag, "accept-encoding": "identity"})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    other = client.get(RANKING, headers={"if-none-match": '"something-else"'})
    assert other.status_code == 200
    json_twin = client.get(f"{RANKING}.json")
    assert json_twin.headers["etag"] != client.get(RANKING).headers["etag"]


def test_gzip_when_accepted(client):
    raw = client.get(f"{RANKING}.json", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in raw.headers and raw.headers["vary"] == "Accept-Encoding"
    with client.stream("GET", f"{RANKING}.json", headers={"accept-encoding": "gzip"}) as packed:
        body = b"".join(packed.iter_raw())
        assert packed.headers["content-encoding"] == "gzip"
        assert int(packed.headers["content-length"]) == len(body) < len(raw.content) / 3
    assert gzip.decompress(body) == raw.content
    assert packed.headers["etag"] != raw.headers["etag"]       # one ETag per representation


# ---------------------------------------------------------------- bounded pools, 503


def test_a_full_report_pool_answers_503_with_retry_after(catalogue, monkeypatch):
    renders = Renders(monkeypatch, hold=True)
    app = create_app(Settings(report_renders=1), catalogue=catalogue)
    with serving(app) as base, ThreadPoolExecutor(2) as pool:
        first = pool.submit(httpx.get, f"{base}/reports/provinces/19.pdf?edition={E}", timeout=60)
        assert renders.started.wait(30)
        same = pool.submit(httpx.get, f"{base}/reports/provinces/19.pdf?edition={E}&x=1", timeout=60)
        busy = httpx.get(f"{base}/reports/provinces/20.pdf?edition={E}", timeout=10)
        assert busy.status_code == 503
        assert int(busy.headers["retry-after"]) > 0
        assert "try again" in busy.text
        renders.release.set()
        assert first.result().status_code == 200 and same.result().status_code == 200
        assert same.result().content == first.result().content
        assert renders.count == 1                        # single-flight: one render for both
        assert httpx.get(f"{base}/reports/provinces/20.pdf?edition={E}", timeout=60).status_code == 200


def test_app_login_answers_while_cache_busting_pdf_requests_run(store):
    """48 anonymous PDF requests at once — junk parameters and distinct provinces — against a
    server with the assessment app: the log-in page still answers within 2 s (it took 7 s or
    more while the renders filled the thread pool the app shares)."""
    populate(store)
    app = create_app(Settings(), store=store)
    codes = [r.code for r in context_of(app).catalogue.ranking(E).rows][:24]
    urls = ([f"/reports/editions/{E}.pdf?bust={i}" for i in range(24)]
            + [f"/reports/provinces/{c}.pdf?edition={E}&bust={i}" for i, c in enumerate(codes)])
    with serving(app) as base, httpx.Client(base_url=base) as visitor, \
            ThreadPoolExecutor(len(urls)) as pool:
        assert visitor.get("/app/login").status_code == 200          # templates compiled
        flood = [pool.submit(httpx.get, base + u, timeout=120) for u in urls]
        time.sleep(0.5)                                            # the renders are under way
        started = time.perf_counter()
        log_in = visitor.get("/app/login", timeout=30)
        took = time.perf_counter() - started
        statuses = [f.result().status_code for f in flood]
    assert log_in.status_code == 200 and took < 2, f"/app/login took {took:.1f} s"
    assert set(statuses) <= {200, 503} and 503 in statuses and 200 in statuses


def test_a_planner_solve_never_blocks_the_event_loop(catalogue, monkeypatch):
    """Solves held in the planner pool: the portal still answers; beyond the pool, 503."""
    from dti.analysis import planner

    release = threading.Event()
    solve = planner.plan_target

    def held(*args, **kwargs):
        assert release.wait(60)
        return solve(*args, **kwargs)

    monkeypatch.setattr(planner, "plan_target", held)
    app = create_app(Settings(page_renders=1), catalogue=catalogue)
    limit = context_of(app).gates.planner.limit
    plans = [f"/api/v1/editions/{E}/provinces/48/plan?rank={r}" for r in range(1, limit + 1)]
    with serving(app) as base, ThreadPoolExecutor(limit) as pool:
        held_plans = [pool.submit(httpx.get, base + p, timeout=60) for p in plans]
        time.sleep(1)
        started = time.perf_counter()
        assert httpx.get(f"{base}/api/v1/editions", timeout=10).status_code == 200
        assert httpx.get(f"{base}{RANKING}", timeout=10).status_code == 200
        assert time.perf_counter() - started < 5
        busy = httpx.get(f"{base}/api/v1/editions/{E}/provinces/48/plan?rank=50", timeout=10)
        assert busy.status_code == 503 and busy.headers["retry-after"]
        assert busy.json()["error"]["status"] == 503
        release.set()
        assert all(f.result().status_code == 200 for f in held_plans)


def test_maps_and_charts_are_drawn_outside_the_server_process(catalogue, monkeypatch):
    """vl-convert keeps the GIL for up to seconds per map: drawn in the server process it would
    stall the event loop from any thread.  Here it cannot even be imported, and maps still draw."""
    import sys

    from dti.web import maps

    monkeypatch.setitem(sys.modules, "vl_convert", None)      # any import here fails
    maps.render.cache_clear()
    ranking = catalogue.ranking(E)
    svg = maps.map_svg(ranking, "CQS", "en")
    assert svg.startswith("<svg") and "/provinces/48" in svg
    chart = reports.chart_svg(reports.top_spec(ranking, "vi"), "vi")
    assert "<svg" in chart and "Đà Nẵng" in chart


def test_the_drawing_helper_explains_a_refusal_and_survives_being_killed():
    from dti.web import vega

    with pytest.raises(vega.DrawingFailed, match="vl-convert could not draw"):
        vega.to_svg({"mark": "no-such-mark"}, {})
    vega._HELPER._process.kill()                               # an out-of-memory kill, say
    spec = {"mark": "bar", "data": {"values": [{"a": 1}]},
            "encoding": {"x": {"field": "a", "type": "quantitative"}}}
    assert vega.to_svg(spec, {}).startswith("<svg")


def test_the_drawing_helper_ends_when_idle_and_is_started_again_on_the_next_drawing():
    """Its drawing engine holds some 180 MB per server worker: only while charts are drawn."""
    import subprocess
    import sys
    import time

    from dti.web import vega

    helper = subprocess.Popen([sys.executable, "-c", "from dti.web import vega; "
                               "vega.IDLE_SECONDS = 0.5; vega.main()"], stdin=subprocess.PIPE)
    started = time.monotonic()
    assert helper.wait(timeout=30) == 0 and time.monotonic() - started < 30
    helper.stdin.close()
    spec = {"mark": "bar", "data": {"values": [{"a": 1}]},
            "encoding": {"x": {"field": "a", "type": "quantitative"}}}
    assert vega.to_svg(spec, {}).startswith("<svg")
    vega._HELPER._process.stdin.close()                        # as if it had gone quiet and ended
    vega._HELPER._process.wait(timeout=30)
    assert vega.to_svg(spec, {}).startswith("<svg")


def test_a_chart_drawn_by_one_worker_is_read_by_the_others(tmp_path, monkeypatch):
    from dti.web import vega

    spec = {"mark": "bar", "data": {"values": [{"a": 2}]},
            "encoding": {"x": {"field": "a", "type": "quantitative"}}}
    vega.keep_in(tmp_path / "charts")
    try:
        drawn = vega.to_svg(spec, {})
        assert [p.suffix for p in (tmp_path / "charts").iterdir() if p.suffix == ".svg"] == [".svg"]

        def no_drawing(request):
            raise AssertionError("drawn again")

        monkeypatch.setattr(vega._HELPER, "draw", no_drawing)   # another worker: no helper at hand
        assert vega.to_svg(spec, {}) == drawn
    finally:
        vega.keep_in(None)


def test_the_workers_share_one_drawing_helper_and_restart_it_when_killed(tmp_path):
    """Two helpers at once (one per worker) took the server's peak memory near 1 GB under
    benchmarks/load.py; workers keeping their charts in one folder share one helper."""
    import subprocess
    import sys

    from dti.web import vega

    folder = tmp_path / ("deep-" * 20) / "charts"        # beyond a Unix socket path's length
    spec = {"mark": "bar", "data": {"values": [{"a": 3}]},
            "encoding": {"x": {"field": "a", "type": "quantitative"}}}
    vega.keep_in(folder)
    try:
        assert vega.to_svg(spec, {}).startswith("<svg")
        shared = vega._shared(folder)
        assert len(shared._started) == 1
        other_worker = ("import sys; from pathlib import Path; from dti.web import vega; "
                        "vega.keep_in(Path(sys.argv[1])); "
                        "svg = vega.to_svg({'mark': 'point', 'data': {'values': [{'a': 4}]}, "
                        "'encoding': {'x': {'field': 'a', 'type': 'quantitative'}}}, {}); "
                        "print(svg[:4], len(vega._shared(Path(sys.argv[1]))._started))")
        run = subprocess.run([sys.executable, "-c", other_worker, str(folder)],
                             capture_output=True, text=True, timeout=120)
        assert run.stdout.split() == ["<svg", "0"], run.stderr        # it started none
        shared._started[0].kill()                                    # killed: its socket stays
        shared._started[0].wait()
        assert (folder / "draw.sock").exists()
        spec["data"]["values"][0]["a"] = 5
        assert vega.to_svg(spec, {}).startswith("<svg")
        assert len(shared._started) == 1 and shared._started[0].poll() is None
    finally:
        vega.keep_in(None)


# Public routes that may stay plain coroutines: they only look up what is already built.
LOOKUPS = {"home", "list_editions", "get_edition", "get_results", "get_province", "get_history",
           "get_framework", "national_report_pdf", "province_report_pdf"}


def test_every_public_route_is_async_and_does_its_work_off_the_loop():
    """A plain ``def`` route would run in the thread pool the assessment app shares; an
    ``async def`` one doing the work itself would block the loop."""
    for route in public_routes():
        endpoint = route.endpoint
        assert inspect.iscoroutinefunction(endpoint), f"{route.path} is not async"
        offloaded = hasattr(endpoint, "__wrapped__")
        assert offloaded or endpoint.__name__ in LOOKUPS, (
            f"{route.path} ({endpoint.__name__}) is async without a pool: decorate it with "
            "@offloaded or list it here if it only looks up a prebuilt answer")


# ---------------------------------------------------------------- ahead of time


def test_reports_are_rendered_ahead_and_the_first_request_renders_nothing(tmp_path, monkeypatch):
    catalogue = Catalogue.shipped(("dti-province-2020",))
    monkeypatch.setattr(reports, "national_report", lambda c, e, lang, b: f"%PDF {e} {lang}".encode())
    monkeypatch.setattr(reports, "province_report",
                        lambda c, e, code, lang, b: f"%PDF {e} {code} {lang}".encode())
    renders = Renders(monkeypatch)
    settings = Settings(report_dir=str(tmp_path), warm_up=True, render_ahead=True)
    app = create_app(settings, catalogue=catalogue)
    shelf = context_of(app).reports
    total = len(list(shelf.specs()))
    assert total == 2 + 2 * 63
    with serving(app) as base:
        deadline = time.monotonic() + 180      # the pages are built first, then the reports
        while len(list(shelf.folder.glob("*.pdf"))) < total:
            assert time.monotonic() < deadline, "the reports were not rendered ahead"
            time.sleep(0.1)
        rendered = renders.count
        first = httpx.get(f"{base}/en/reports/provinces/19.pdf?edition=dti-province-2020")
        assert first.status_code == 200 and first.content == b"%PDF dti-province-2020 19 en"
        assert renders.count == rendered == total
        warm = context_of(app).public.cache.get(context_of(app).public.key("/editions/dti-province-2020", b""))
        assert warm is not None                        # the ranking page was built at start too


def test_work_ahead_waits_while_a_request_is_under_way(tmp_path, monkeypatch):
    """The first reader after start does not share the interpreter with the pages and reports
    built ahead: they wait for a quiet moment (the first PDF request took 155 ms, then 12 ms)."""
    catalogue = Catalogue.shipped(("dti-province-2020",))
    monkeypatch.setattr(reports, "national_report", lambda c, e, lang, b: b"%PDF")
    monkeypatch.setattr(reports, "province_report", lambda c, e, code, lang, b: b"%PDF")
    app = create_app(Settings(report_dir=str(tmp_path), warm_up=True, render_ahead=True),
                     catalogue=catalogue)
    ranking = context_of(app).public.key("/editions/dti-province-2020", b"")
    ACTIVITY.enter()                       # a request under way, as long as this test says
    try:
        thread = start_ahead(app)
        time.sleep(1.0)
        assert context_of(app).public.cache.get(ranking) is None
        assert not list(context_of(app).reports.folder.glob("*.pdf"))
    finally:
        ACTIVITY.leave()
    thread.join(120)
    assert not thread.is_alive()
    assert context_of(app).public.cache.get(ranking) is not None
    assert len(list(context_of(app).reports.folder.glob("*.pdf"))) == 2 + 2 * 63


def test_a_report_file_is_never_served_for_other_figures(tmp_path):
    full, older = Catalogue.shipped(), Catalogue.shipped(("dti-province-2020", "dti-province-2021"))
    assert fingerprint(full) != fingerprint(older) and fingerprint(full) == fingerprint(Catalogue.shipped())
    from dti.web.render_gate import RenderGate

    gate = RenderGate("reports", 1)
    a, b = ReportShelf(full, tmp_path, gate), ReportShelf(older, tmp_path, gate)
    spec = ReportSpec("dti-province-2020", "provinces-63", "vi", "48")
    (a.folder).mkdir(parents=True)
    (a.folder / spec.file_name).write_bytes(b"%PDF of the full catalogue")
    assert a.stored(spec) == b"%PDF of the full catalogue"
    assert b.stored(spec) is None and a.folder != b.folder


# ---------------------------------------------------------------- security headers


@pytest.mark.parametrize("path", [RANKING, f"/en{RANKING}", f"{RANKING}.json", f"{RANKING}.csv",
                                  f"{RANKING}/map", "/provinces/48", "/compare",
                                  "/api/v1/editions", "/editions/no-such-edition",
                                  "/api/v1/editions/nope/results", "/static/site.js",
                                  "/api/v1/docs", "/en/api/v1/docs"])
def test_portal_answers_carry_the_security_headers(client, path):
    for _ in range(2):                                   # built, then from the cache: the same
        headers = client.get(path).headers
        policy = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self';" in policy
        assert "style-src 'self';" in policy and "unsafe-inline" not in policy
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin" and headers["x-frame-options"] == "DENY"


def test_the_api_docs_page_has_the_same_strict_policy(client):
    policy = client.get("/api/v1/docs").headers["content-security-policy"]
    assert policy == client.get(RANKING).headers["content-security-policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy and "https:" not in policy


def test_public_templates_hold_no_inline_script_or_style():
    templates = Path(__file__).parents[1] / "src" / "dti" / "web" / "templates"
    for page in templates.glob("*.html"):
        if page.name.startswith("report_"):          # PDF layouts, never served as pages
            continue
        text = page.read_text(encoding="utf-8")
        assert "<style" not in text and " style=" not in text, page.name
        assert all("src=" in tag for tag in text.split("<script")[1:]), page.name


def test_the_pages_work_in_a_browser_under_the_policy(browser):  # noqa: F811 (the fixture)
    """Chromium enforces the policy: no page of the portal trips it, and the site's own script
    still runs (the ranking sorts on a click)."""
    with serving(create_app()) as base:
        context = browser.new_context()
        tab = context.new_page()
        refused: list[str] = []
        tab.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
        for path in (RANKING, f"/en{RANKING}/map", "/provinces/48", "/compare?units=48,79",
                     f"/provinces/48/plan?edition={E}", f"{RANKING}/method", "/no-such-page",
                     "/api/v1/docs"):
            tab.goto(base + path)
        tab.goto(base + RANKING)
        tab.click("table.ranking thead th[data-sort]:nth-of-type(4)")
        assert tab.get_attribute("table.ranking thead th[data-sort]:nth-of-type(4)", "aria-sort")
        context.close()
    assert refused == []


def test_the_rules_and_settings_are_documented(client):
    docs = (Path(__file__).parents[1] / "docs" / "cli.md").read_text(encoding="utf-8")
    for name in ("DTI_REPORT_DIR", "DTI_REPORT_RENDERS", "DTI_PAGE_RENDERS", "DTI_WARM_UP",
                 "DTI_RENDER_AHEAD"):
        assert f"`{name}" in docs, name
    rules = docs.split("How the public side answers", 1)[1].split("##", 1)[0]
    assert sorted(p for p in context_of(client.app).public.recognised if f"`{p}`" not in rules) == []


def test_settings_from_the_environment():
    from dti.errors import DtiError

    served = Settings.from_env({})
    assert (served.report_dir, served.report_renders, served.page_renders) == ("var/reports", 1, 2)
    assert served.warm_up and served.render_ahead and not Settings().warm_up
    tuned = Settings.from_env({"DTI_REPORT_RENDERS": "3", "DTI_RENDER_AHEAD": "0"})
    assert tuned.report_renders == 3 and not tuned.render_ahead
    with pytest.raises(DtiError, match="DTI_PAGE_RENDERS: 'many'"):
        Settings.from_env({"DTI_PAGE_RENDERS": "many"})
