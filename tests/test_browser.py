"""The portal in a real browser: Playwright driving Debian's Chromium (/usr/bin/chromium, never a
downloaded browser) against the running app (uvicorn on a loopback port) and against the static
export (``dti export-site`` served by ``http.server``).  A reader's path: the 2022 ranking, sort
by a pillar, filter a region, search, Thái Nguyên on the map, its profile, English, compare three
provinces, download the CSV.  Screenshots go to ``var/screenshots/``.

Without Chromium or Playwright the tests are skipped with the reason on a developer's machine,
and fail when ``CI`` is set (``.ci/run`` installs Chromium; the ``test`` extra, Playwright).
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from pathlib import Path
from typing import Callable, Iterator

import pytest

from dti.cli import main

E = "dti-province-2022"
CHROMIUM = os.environ.get("DTI_CHROMIUM", "/usr/bin/chromium")
# Chromium as this machine runs it: no sandbox as root, and no calls home (the network is closed).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(__file__).parents[1] / "var" / "screenshots"
HIGHLANDS = "Tây Nguyên"


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[test]')"
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        return (f"Chromium is not installed at {CHROMIUM} "
                "(apt-get install chromium fonts-noto-core; .ci/run does it)")
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run in CI: {reason}", pytrace=False)
        pytest.skip(reason=f"browser tests need Debian's chromium locally: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def live_app() -> Iterator[str]:
    """The portal under uvicorn in a background thread, on a free loopback port."""
    from assessment_support import serving

    from dti.web import create_app

    with serving(create_app()) as base:
        yield base


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def static_site(tmp_path_factory) -> Iterator[str]:
    """``dti export-site --edition 2022`` served by a plain static file server."""
    folder = tmp_path_factory.mktemp("static") / "site"
    assert main(["export-site", "--edition", E, "--out", str(folder)]) == 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class Site:
    """Where a page is on the running app and on the static export."""

    def __init__(self, name: str, base: str) -> None:
        self.name, self.base = name, base

    def url(self, app_path: str, static_path: str) -> str:
        return self.base + (static_path if self.name == "static" else app_path)

    def ranking(self) -> str:
        return self.url(f"/editions/{E}", f"/editions/{E}/index.html")

    def map(self) -> str:
        return self.url(f"/editions/{E}/map", f"/editions/{E}/map/index.html")

    def compare(self) -> str:
        return self.url("/compare", "/compare/index.html")


@pytest.fixture(params=["app", "static"])
def site(request) -> Site:
    return Site(request.param, request.getfixturevalue("live_app" if request.param == "app"
                                                       else "static_site"))


@pytest.fixture
def page(browser, site):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN",
                                  accept_downloads=True)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"


def shot(page, name: str, full_page: bool = False) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def column_values(page, code: str) -> list[str]:
    return page.eval_on_selector(f'table.ranking thead th[data-sort="{code}"]', """th => {
        const i = Array.prototype.indexOf.call(th.parentNode.children, th);
        return Array.from(th.closest('table').tBodies[0].rows, r => r.cells[i].dataset.value);
    }""")


def regions(page) -> list[str]:
    return page.eval_on_selector_all("table.ranking tbody tr", "rows => rows.map(r => r.dataset.region)")


def submit(page, action: Callable[[], None]) -> None:
    with page.expect_navigation():
        action()
    page.wait_for_load_state("load")


def test_a_readers_path_through_the_ranking_map_and_profile(page, site):
    # the 2022 ranking, exactly as published at the top
    page.goto(site.ranking())
    rows = page.locator("table.ranking tbody tr")
    assert rows.count() == 63
    assert "Đà Nẵng" in rows.first.inner_text() and "0,8002" in rows.first.inner_text()
    shot(page, f"{site.name}-ranking-vi")

    # sort by a pillar: click its header; the column reads from high to low, missing values last
    page.click('table.ranking thead th[data-sort="KTS"]')
    values = column_values(page, "KTS")
    present = [float(v) for v in values if v]
    assert len(present) > 5 and present == sorted(present, reverse=True)
    assert all(v for v in values[: len(present)])
    assert page.get_attribute('th[data-sort="KTS"]', "aria-sort") == "descending"

    # filter a region: choose it and send the form
    page.select_option("#region", HIGHLANDS)
    submit(page, lambda: page.click("form.filters button[type=submit]"))
    assert regions(page) and set(regions(page)) == {HIGHLANDS}
    assert len(regions(page)) == 5

    # search, across every region
    page.select_option("#region", "")
    page.fill("#search", "thai nguyen")
    submit(page, lambda: page.press("#search", "Enter"))
    names = page.eval_on_selector_all("table.ranking tbody tr td:nth-child(2)",
                                      "cells => cells.map(c => c.innerText.trim())")
    assert names == ["Thái Nguyên"]
    from_ranking = page.get_attribute("table.ranking tbody tr td:nth-child(2) a", "href")
    shot(page, f"{site.name}-search")

    # click Thái Nguyên on the map: it leads where the ranking's link leads
    page.goto(site.map())
    shape = page.locator('svg a:has(path[aria-label^="Thái Nguyên —"])').first
    shape.scroll_into_view_if_needed()
    shot(page, f"{site.name}-map")
    submit(page, lambda: shape.click())
    assert from_ranking and page.url.split("?")[0].endswith(from_ranking.split("?")[0].lstrip("./"))

    # the profile: rank 8 in 2022
    assert page.inner_text("h1").strip() == "Thái Nguyên"
    total = page.locator("table.figures tbody tr").first.locator("td")
    assert total.nth(2).inner_text().strip() == "8"
    # its 2022 total was published as a rank only: "not published", never 0; the mean is a number
    assert total.nth(1).inner_text().strip() == "chưa công bố"
    assert re.search(r"\b0,\d{4}\b", page.inner_text("table.figures tbody tr >> nth=0"))
    shot(page, f"{site.name}-profile-vi", full_page=True)

    # English: the name in English and numbers with a decimal point
    submit(page, lambda: page.click("header a.lang"))
    assert page.inner_text("h1").strip() in ("Thai Nguyen", "Thai Nguyen Province")
    assert page.get_attribute("html", "lang") == "en"
    total = page.locator("table.figures tbody tr").first.locator("td")
    assert total.nth(2).inner_text().strip() == "8"
    assert total.nth(1).inner_text().strip() == "not published"
    assert re.search(r"\b0\.\d{4}\b", page.inner_text("table.figures tbody tr >> nth=0"))
    assert not re.search(r"\b0,\d{4}\b", page.inner_text("main"))
    shot(page, f"{site.name}-profile-en", full_page=True)

    # and the English 2022 ranking says 0.8002 for Đà Nẵng
    page.goto(site.url(f"/en/editions/{E}", f"/en/editions/{E}/index.html"))
    first = page.locator("table.ranking tbody tr").first.inner_text()
    assert "Da Nang" in first and "0.8002" in first


def test_compare_three_provinces(page, site):
    page.goto(site.compare())
    page.select_option("#compare-units", ["48", "79", "19"])
    submit(page, lambda: page.click("form.filters button[type=submit]"))
    page.wait_for_selector("table.compare", timeout=10_000)
    heads = page.eval_on_selector_all("table.compare thead th.num", "ths => ths.map(t => t.innerText.trim())")
    shot(page, f"{site.name}-compare", full_page=True)
    # the selection comes in the list's (ranking) order of the site's latest edition: 2024 in the
    # app, 2022 in the export (made for that edition)
    assert sorted(heads) == sorted(["Đà Nẵng", "TP. Hồ Chí Minh", "Thái Nguyên"])
    first_row = page.locator("table.compare tbody tr").first.locator("td")
    da_nang = first_row.nth(1 + heads.index("Đà Nẵng")).inner_text().strip()
    assert da_nang.startswith("0,7069" if site.name == "app" else "0,8002")   # published totals


def test_compare_link_with_three_provinces(page, site):
    """The comma form of the selection (what a shared link carries) works on both."""
    page.goto(site.compare() + "?units=48,79,19")
    page.wait_for_selector("table.compare", timeout=10_000)
    heads = page.eval_on_selector_all("table.compare thead th.num", "ths => ths.map(t => t.innerText.trim())")
    assert heads == ["TP. Hồ Chí Minh", "Đà Nẵng", "Thái Nguyên"] or heads == [
        "Đà Nẵng", "TP. Hồ Chí Minh", "Thái Nguyên"]
    assert "Thái Nguyên" in heads and len(heads) == 3


def test_download_the_ranking_csv(page, site, tmp_path):
    page.goto(site.ranking())
    with page.expect_download() as download:
        page.click("p.meta a:text-is('CSV')")
    path = tmp_path / "ranking.csv"
    download.value.save_as(path)
    text = path.read_bytes().decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("code,name,region,DTI,rank_DTI,")
    assert len(lines) == 64
    assert lines[1].startswith("48,Đà Nẵng,") and ",0.8002,1," in lines[1]
    assert any(line.startswith("19,Thái Nguyên,") and ",8," in line for line in lines)


def test_the_map_shows_another_indicator(page, site):
    assert page.request.get(site.map()).ok
    page.goto(site.map())
    page.select_option("#indicator", "KTS")
    submit(page, lambda: page.click("form.filters button[type=submit]"))
    page.wait_for_function("document.querySelector('#indicator') && "
                           "document.querySelector('#indicator').value === 'KTS'")
    if site.name == "static":      # the form's ?indicator=KTS led to that indicator's own page
        assert page.url.split("?")[0].endswith(f"/editions/{E}/map/indicators/KTS/index.html")
    assert page.locator('svg path[aria-label^="Thái Nguyên —"]').count() == 1
