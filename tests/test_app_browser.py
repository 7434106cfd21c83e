"""The assessment app in a real browser (Debian's Chromium through Playwright, the app under
uvicorn on a real SQLite store): axe-core's WCAG 2 A and AA rules on every page an official
works in, and a province editor who fills answers by keyboard alone while a reviewer appraises
what changed.

axe comes from the ``axe-playwright-python`` wheel as in ``tests/test_accessibility.py``; nothing
is fetched at test time.  Screenshots go to ``/tmp/app-shots`` (outside the repository) to be
looked at by a person: the test checks what a machine can (words, numbers, no sideways scroll).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

import pytest
from sqlalchemy import select
from assessment_support import EDITION, OTHER, OWN, PASSWORD, fresh_store, pdf, populate, serving
from test_accessibility import CHROMIUM, CHROMIUM_ARGS, _missing, axe_violations, describe

from dti.services import assessments as changes
from dti.store.models import Answer, Assessment
from dti.web.app import create_app
from dti.web.settings import Settings

SHOTS = Path(os.environ.get("DTI_APP_SHOTS", "/tmp/app-shots"))
WIDTHS = {"desktop": 1366, "phone": 375}
FORM = f"/app/{EDITION}/{OTHER}?section=NTS"
APPRAISAL = f"/app/review/{EDITION}/{OWN}"
# Each page kind: who looks at it (None: nobody logged in) and where.
PAGES = {
    "login": (None, "/app/login"),
    "form": ("other_editor", FORM),
    "appraisal": ("reviewer", APPRAISAL),
    "appraisal-changed": ("reviewer", APPRAISAL + "?show=changed"),
    "queue": ("reviewer", f"/app/review/{EDITION}"),
    "admin": ("admin", "/app/admin"),
}
OPTIONS, STEPS, RATIO = "NTS.01", "NTS.03", "NTS.04"


@pytest.fixture(scope="module")
def browser():
    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run in CI: {reason}", pytrace=False)
        pytest.skip(reason=f"browser tests need Chromium and axe-core locally: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _version(store, province: str, code: str) -> int:
    with store.reading() as session:
        return session.scalar(select(Answer.version)
                              .join(Assessment, Answer.assessment_id == Assessment.id)
                              .where(Assessment.province_code == province,
                                     Answer.indicator_code == code))


def _save(store, world, who: str, province: str, code: str, raw: dict[str, str]) -> None:
    with store.transaction() as session:
        changes.save_answer(session, world.actors[who], EDITION, province, code, raw,
                            _version(store, province, code))


def _move(store, world, who: str, province: str, action: str, reason: str | None = None) -> None:
    with store.transaction() as session:
        changes.transition(session, world.actors[who], EDITION, province, action, reason)


def _return_one(store, world, province: str, code: str, reason: str) -> None:
    """The reviewer returns ``code`` with ``reason``, then the whole assessment."""
    with store.transaction() as session:
        changes.appraise_answer(session, world.actors["reviewer"], EDITION, province, code,
                                _version(store, province, code), "return", reason=reason)
    _move(store, world, "reviewer", province, "return", "Bổ sung số liệu chỉ số thành phần")


def _answered(store, world, editor: str, province: str) -> None:
    _save(store, world, editor, province, OPTIONS, {"choice": "pho_chu_tich_ubnd_tinh"})
    _save(store, world, editor, province, STEPS, {"x": "2"})
    _save(store, world, editor, province, RATIO, {"a": "3", "b": "4"})


@pytest.fixture(scope="module")
def busy_year(tmp_path_factory) -> Iterator[str]:
    """A store in the middle of a year: Đà Nẵng (48) resubmitted after a return and under review
    again, one answer changed; Hà Nội (01) returned to its editor with a reason."""
    store = fresh_store("sqlite", tmp_path_factory.mktemp("app-browser"))
    world = populate(store)
    for editor, approver, province in (("editor", "approver", OWN),
                                       ("other_editor", "other_approver", OTHER)):
        _answered(store, world, editor, province)
        _move(store, world, approver, province, "submit")
        _move(store, world, "reviewer", province, "start_review")
        _return_one(store, world, province, RATIO, "Mẫu số phải là tổng số cơ quan cấp tỉnh")
    _save(store, world, "editor", OWN, RATIO, {"a": "3", "b": "5"})
    _move(store, world, "approver", OWN, "submit")
    _move(store, world, "reviewer", OWN, "start_review")
    try:
        with serving(create_app(Settings(), store=store)) as base:
            yield base
    finally:
        store.close()


def _open(browser, base: str, who: str | None, lang: str, width: int):
    """A new browser window ``width`` px wide, logged in as ``who``, in ``lang``."""
    context = browser.new_context(base_url=base, viewport={"width": width, "height": 900},
                                  locale="vi-VN" if lang == "vi" else "en-GB")
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"/app/lang/{lang}?next=/app/login")
    if who is not None:
        page.fill("input[name=username]", who)
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/app/login'] button[type=submit]")
        page.wait_for_load_state()
    return context, page


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("kind", list(PAGES))
def test_axe_finds_no_violation_in_the_assessment_app(browser, busy_year, kind, lang, width):
    """WCAG 2 A and AA, each menu named once, and a phone never scrolls sideways."""
    who, path = PAGES[kind]
    context, page = _open(browser, busy_year, who, lang, WIDTHS[width])
    try:
        response = page.goto(path)
        assert response is not None and response.status == 200, f"{path} answered {response}"
        assert page.get_attribute("html", "lang") == lang
        violations = axe_violations(page)
        _fits(page, WIDTHS[width])
        navs = page.eval_on_selector_all("nav[aria-label]", "ns => ns.map(n => n.ariaLabel)")
    finally:
        context.close()
    assert len(navs) == len(set(navs)), f"two menus with one name on {path}: {navs}"
    assert violations == [], f"axe found on {path} ({lang}) at {WIDTHS[width]} px:\n{describe(violations)}"


# -- the editor by keyboard, the reviewer by filter ------------------------------------------------

PAGE = f"/app/{EDITION}/{OWN}"
YESNO = "TCS.01"


@pytest.fixture
def live(store, browser) -> Iterator[tuple[str, object]]:
    """The app on ``store`` (a user of every role, an open edition) under uvicorn."""
    world = populate(store)
    with serving(create_app(Settings(), store=store)) as base:
        yield base, world


def _tab_to(page, selector: str, backwards: bool = False, limit: int = 250) -> None:
    """Tab (or Shift+Tab) through the page until ``selector`` has the focus, as someone without
    a mouse does; fails when it is not reachable in ``limit`` presses."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)",
                         selector):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{selector} never took the focus after {limit} presses of {key}")


def _saved(page, code: str, word: str = "Đã lưu") -> None:
    from playwright.sync_api import expect

    expect(page.locator(f"[id='a-{code}'] [data-status]")).to_have_text(word, timeout=10_000)


def _section_stats(page, main: str) -> str:
    link = page.locator(f"nav.sections a[href$='section={main}']")
    return " ".join(link.locator("xpath=..").locator(".section-stats").inner_text().split())


# Numbers (points, totals) that the browser broke over two lines: "1.00" above "0,00" reads wrong.
BROKEN_NUMBERS = """() => [...document.querySelectorAll("td.num, .points, [data-total]")]
  .filter(e => /^[0-9.,\\s]+$/.test(e.innerText.trim()))
  .filter(e => { const r = document.createRange(); r.selectNodeContents(e);
                 return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size > 1; })
  .map(e => e.innerText)"""


def _fits(page, width: int) -> None:
    """Nothing wider than the screen (the page never scrolls sideways), no number split."""
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll} px wide on a {width} px screen"
    assert page.evaluate(BROKEN_NUMBERS) == [], f"numbers split over two lines on {page.url}"


def _shoot(page, name: str, path: str) -> None:
    """Screenshots of ``path`` at both widths, in Vietnamese and English, into SHOTS."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for lang in ("vi", "en"):
        page.goto(f"/app/lang/{lang}?next={quote(path, safe='')}")
        for width in WIDTHS.values():
            page.set_viewport_size({"width": width, "height": 900})
            page.wait_for_timeout(100)
            _fits(page, width)
            page.screenshot(path=str(SHOTS / f"{name}-{lang}-{width}.png"), full_page=True)
    page.goto(f"/app/lang/vi?next={quote(path, safe='')}")
    page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})


def _editor_fills_by_keyboard(page) -> None:
    """Three answers in two main indicators, typed: a choice, a ratio (two numbers), a yes/no."""
    from playwright.sync_api import expect

    _tab_to(page, f"[id='a-{OPTIONS}'] select[name=f_choice]")
    page.keyboard.press("ArrowDown")          # "Chủ tịch UBND tỉnh" → 1 × 10 points
    page.keyboard.press("Tab")
    _saved(page, OPTIONS)
    expect(page.locator("[data-total]")).to_have_text("10,00")
    assert _section_stats(page, "NTS").startswith("10,00 / 100,00 điểm · đã trả lời 1/10")

    _tab_to(page, f"[id='a-{RATIO}'] input[name=f_a]")
    page.keyboard.type("3")
    page.keyboard.press("Tab")
    page.keyboard.type("4")
    page.keyboard.press("Tab")                # leaving the field saves: 3/4 of 10 points
    expect(page.locator(f"[id='a-{RATIO}'] [data-points]")).to_have_text("7,50", timeout=10_000)
    _saved(page, RATIO)
    expect(page.locator("[data-total]")).to_have_text("17,50")
    assert "đã trả lời 2/10" in _section_stats(page, "NTS")
    assert page.locator("[data-progress=answered]").inner_text() == "2"

    _tab_to(page, "nav.sections a[href$='section=TCS']", backwards=True)
    page.keyboard.press("Enter")
    page.wait_for_url("**section=TCS")
    _tab_to(page, f"[id='a-{YESNO}'] select[name=f_value]")
    page.keyboard.press("ArrowDown")          # "Có" → 10 points
    page.keyboard.press("Tab")
    _saved(page, YESNO)
    expect(page.locator("[data-total]")).to_have_text("27,50")
    assert _section_stats(page, "TCS").startswith("10,00 / ")
    assert "đã trả lời 1/" in _section_stats(page, "TCS")


def _editor_uploads(page) -> None:
    from playwright.sync_api import expect

    block = page.locator(f"[id='a-{YESNO}']")
    block.locator("input[type=file]").set_input_files(
        {"name": "ke-hoach-2022.pdf", "mimeType": "application/pdf", "buffer": pdf("kế hoạch")})
    block.locator("form.upload button[type=submit]").click()
    listed = page.locator(f"[id='a-{YESNO}'] .evidence-files li")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text("ke-hoach-2022.pdf")
    assert "minh chứng 1/" in _section_stats(page, "TCS")


def test_editor_by_keyboard_and_reviewer_by_filter(browser, live, store):
    """Issue 14's walk-through: three answers in two main indicators typed without a mouse, each
    seen saved with the summary following; evidence uploaded; after a return and a fix, the
    reviewer's "changed since the last review" shows exactly the fixed answer, and accepts it."""
    from playwright.sync_api import expect

    base, world = live
    context, page = _open(browser, base, "editor", "vi", WIDTHS["desktop"])
    try:
        page.goto(PAGE + "?section=NTS")
        _editor_fills_by_keyboard(page)
        _editor_uploads(page)
        _shoot(page, "form", PAGE + "?section=TCS")
    finally:
        context.close()
    with store.reading() as session:
        saved = {a.indicator_code: a.self_points for a in session.scalars(
            select(Answer).where(Answer.self_points.is_not(None)))}
    assert saved == {OPTIONS: 10.0, RATIO: 7.5, YESNO: 10.0}

    _move(store, world, "approver", OWN, "submit")
    _move(store, world, "reviewer", OWN, "start_review")
    _return_one(store, world, OWN, RATIO, "Mẫu số phải là tổng số cơ quan cấp tỉnh")
    _save(store, world, "editor", OWN, RATIO, {"a": "3", "b": "5"})
    _move(store, world, "approver", OWN, "submit")
    _move(store, world, "reviewer", OWN, "start_review")

    context, page = _open(browser, base, "reviewer", "vi", WIDTHS["desktop"])
    try:
        page.goto(APPRAISAL)
        page.locator("nav.appraisal-filter a[href$='show=changed']").click()
        page.wait_for_url("**show=changed")
        assert page.locator("article.answer").evaluate_all("a => a.map(x => x.dataset.code)") == [RATIO]
        assert page.locator(".diff del").inner_text().endswith("Tổng số cơ quan cấp tỉnh: 4")
        assert page.locator(".diff ins").inner_text().endswith("Tổng số cơ quan cấp tỉnh: 5")
        _shoot(page, "appraisal", APPRAISAL + "?show=changed")
        page.locator(f"[id='a-{RATIO}'] form.appraise button[type=submit]").click()   # accept
        expect(page.locator("article.answer")).to_have_count(0)
        expect(page.locator("p.none[role=status]")).to_have_text(
            "Không có câu trả lời nào khớp bộ lọc này.")
        assert "(0)" in page.locator("nav.appraisal-filter a[href$='show=changed']").inner_text()
    finally:
        context.close()
    with store.reading() as session:
        ratio = session.scalar(select(Answer).where(Answer.indicator_code == RATIO,
                                                    Answer.self_points.is_not(None)))
    assert (ratio.review_status, ratio.appraised_points, ratio.final_points) == ("accepted", 6.0, 6.0)
