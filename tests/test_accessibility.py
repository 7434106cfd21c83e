"""Accessibility: axe-core (the WCAG 2 A and AA rules) finds no violation on the portal's public
pages, in Vietnamese and in English, at a desktop width and at a phone's 375 px.

axe-core comes from the ``axe-playwright-python`` package (the ``test`` extra), which ships axe's
``axe.min.js`` (MPL-2.0) inside the wheel: nothing is fetched at test time.  The script is
evaluated in the page by Playwright, so the portal's strict Content-Security-Policy (no inline
script) stays as it is served.  Chromium is Debian's, launched as ``tests/test_browser.py`` does.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterator

import pytest

CHROMIUM = os.environ.get("DTI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TAGS = ["wcag2a", "wcag2aa"]
E22, E21 = "dti-province-2022", "dti-province-2021"

# Every public page kind, by its Vietnamese path; English is the same path under /en.
PAGES = {
    "home": "/",
    "ranking-2022": f"/editions/{E22}",
    "ranking-2021": f"/editions/{E21}",
    "ranking-filtered": f"/editions/{E22}?region=T%C3%A2y%20Nguy%C3%AAn",
    "map": f"/editions/{E22}/map",
    "map-by-rank": f"/editions/{E22}/map?indicator=KTS&show=rank",
    "profile": f"/provinces/19?edition={E21}",
    "story": f"/provinces/19/story?edition={E21}",
    "compare": f"/compare?units=48,79,19&edition={E22}",
    "compare-empty": "/compare",
    "indicator": f"/editions/{E22}/indicators/KTS",
    "method": f"/editions/{E22}/method",
    "record": "/record",
    "not-found": "/editions/no-such-edition",
    "ministries-2021": "/levels/ministry?edition=dti-ministry-2021",
    "national": "/levels/national",
    "ministry-profile": "/levels/ministry/BKHDT",
}
NEW = {"story", "record"}     # skipped while the route answers 404, never otherwise
STATUS = {"not-found": 404}
WIDTHS = {"desktop": 1366, "phone": 375}


def _axe_source() -> str:
    try:
        import axe_playwright_python
    except ImportError:
        return ""
    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[test]')"
    if not _axe_source():
        return "axe-core is not installed (pip install -e '.[test]' brings axe-playwright-python)"
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium fonts-noto-core)"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"accessibility tests cannot run in CI: {reason}", pytrace=False)
        pytest.skip(reason=f"accessibility tests need Chromium and axe-core locally: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def live_app() -> Iterator[str]:
    from assessment_support import serving

    from dti.web import create_app

    with serving(create_app()) as base:
        yield base


def axe_violations(page) -> list[dict]:
    """axe.run over the whole document, WCAG 2 A and AA rules only: the violations found."""
    page.evaluate(_axe_source())
    results = page.evaluate("""tags => axe.run(document, {runOnly: {type: "tag", values: tags},
                                                         resultTypes: ["violations"]})""", TAGS)
    return results["violations"]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])} nodes): {v['help']}")
        for node in v["nodes"][:5]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['html'][:200]}")
            if node.get("failureSummary"):
                lines.append("      " + node["failureSummary"].replace("\n", " ")[:300])
    return "\n".join(lines)


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("kind", list(PAGES))
def test_axe_finds_no_wcag_violation(browser, live_app, kind, lang, width):
    path = PAGES[kind] if lang == "vi" else "/en" + PAGES[kind]
    context = browser.new_context(viewport={"width": WIDTHS[width], "height": 900},
                                  locale="vi-VN" if lang == "vi" else "en-GB")
    try:
        page = context.new_page()
        response = page.goto(live_app + path)
        assert response is not None
        if kind in NEW and response.status == 404:
            pytest.skip(reason=f"the {kind} page is not served at {path} (404)")
        assert response.status == STATUS.get(kind, 200), f"{path} answered {response.status}"
        assert page.get_attribute("html", "lang") == lang
        violations = axe_violations(page)
    finally:
        context.close()
    assert violations == [], f"axe found on {path} at {WIDTHS[width]} px:\n{describe(violations)}"


def test_axe_finds_no_violation_once_the_ranking_is_sorted_by_a_pillar(browser, live_app):
    """Sorting rewrites the table in the browser (site.js) and marks the header with aria-sort."""
    context = browser.new_context(viewport={"width": WIDTHS["desktop"], "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{live_app}/editions/{E22}")
        page.click('table.ranking thead th[data-sort="KTS"]')
        assert page.get_attribute('th[data-sort="KTS"]', "aria-sort") == "descending"
        violations = axe_violations(page)
    finally:
        context.close()
    assert violations == [], f"axe found on the sorted ranking:\n{describe(violations)}"
