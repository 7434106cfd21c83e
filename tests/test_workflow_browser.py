"""The whole assessment workflow in a real browser (Playwright driving Debian's Chromium against
the app under uvicorn): a province editor fills answers and uploads evidence, the approver
submits, a reviewer returns one answer with a reason, the editor fixes it, the approver submits
again, the reviewer appraises (adjusting one answer) and approves, the admin publishes — and the
public ranking then shows the province's total from the *appraised* points.  Screenshots of every
step go to ``var/screenshots/workflow-*.png``.

The other 62 provinces are approved through the store beforehand (publication needs every
province approved); everything about province 48 goes through the pages.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from test_browser import CHROMIUM, CHROMIUM_ARGS, SHOTS, _missing
from assessment_support import EDITION, OWN, PASSWORD, pdf, populate, serving

from dti.scoring import illustrative_catalogue
from dti.store.models import Answer, Assessment
from dti.web.app import create_app
from dti.web.settings import Settings

CAT = illustrative_catalogue()
RATIO = next(i for i in CAT.items if i.rule.kind == "ratio" and i.max_points == 10)
YESNO = next(i for i in CAT.items if i.rule.kind == "yesno" and i.max_points >= 5)
PDF = pdf()   # a real PDF: evidence must open as what it claims to be


def _need_chromium() -> None:
    import os

    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run in CI: {reason}", pytrace=False)
        pytest.skip(reason=f"browser tests need Debian's chromium locally: {reason}")


@pytest.fixture
def live(store):
    """The app on a free loopback port, serving ``store``."""
    _need_chromium()
    populate(store)
    with store.transaction() as session:
        others = select(Assessment.id).where(Assessment.province_code != OWN)
        session.execute(update(Assessment).where(Assessment.province_code != OWN)
                        .values(state="approved"))
        session.execute(update(Answer).where(Answer.assessment_id.in_(others))
                        .values(final_points=1.0))
    with serving(create_app(Settings(), store=store)) as base:
        yield base


def _login(browser, base: str, username: str):
    context = browser.new_context(base_url=base, locale="vi-VN")
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())   # the confirmations before state changes
    page.goto("/app/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/app/login'] button[type=submit]")
    page.wait_for_load_state()
    return context, page


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"workflow-{name}.png"), full_page=False)


def _answer_ratio(page, a: str, b: str) -> None:
    block = page.locator(f"[id='a-{RATIO.code}']")
    block.locator("input[name=f_a]").fill(a)
    block.locator("input[name=f_b]").fill(b)
    block.locator("input[name=f_b]").blur()
    block.locator("[data-status]").filter(has_text="Đã lưu").wait_for(timeout=10_000)


def _transition(page, action: str, reason: str | None = None) -> None:
    form = page.locator(f"form.transition:has(input[name=action][value={action}])")
    if reason:
        form.locator("input[name=reason], textarea[name=reason]").fill(reason)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()


def test_the_whole_workflow_in_chromium(live, store):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            _walk(browser, live, store)
        finally:
            browser.close()


def _walk(browser, base: str, store) -> None:
    form_url = f"/app/{EDITION}/{OWN}"
    # 1. the editor answers two sub-indicators (points computed as they type) and attaches evidence
    editor_ctx, editor = _login(browser, base, "editor")
    editor.goto(form_url)
    assert "MINH HOẠ" in editor.inner_text("body")
    _answer_ratio(editor, "3", "4")
    assert editor.locator(f"[id='a-{RATIO.code}'] [data-points]").inner_text().startswith("7,5")
    yes = editor.locator(f"[id='a-{YESNO.code}']")
    yes.locator("select[name=f_value]").select_option(label="Có")
    yes.locator("[data-status]").filter(has_text="Đã lưu").wait_for(timeout=10_000)
    upload = editor.locator(f"[id='a-{RATIO.code}'] form.upload")
    upload.locator("input[type=file]").set_input_files(
        [{"name": "quyet-dinh-tuyen-truyen.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    upload.locator("button[type=submit]").click()
    editor.wait_for_load_state()
    assert "quyet-dinh-tuyen-truyen.pdf" in editor.locator(f"[id='a-{RATIO.code}']").inner_text()
    _shot(editor, "1-editor-answers-and-evidence")

    # 2. the approver submits
    approver_ctx, approver = _login(browser, base, "approver")
    approver.goto(form_url)
    _transition(approver, "submit")
    assert "Đã gửi" in approver.inner_text("body")
    _shot(approver, "2-approver-submitted")

    # 3. the reviewer starts the review, returns the ratio answer with a reason, sends it back
    reviewer_ctx, reviewer = _login(browser, base, "reviewer")
    review_url = f"/app/review/{EDITION}/{OWN}"
    reviewer.goto(review_url)
    _transition(reviewer, "start_review")
    _appraise(reviewer, RATIO.code, "return", reason="Minh chứng chưa khớp số liệu: cần 4/4 cơ quan")
    _transition(reviewer, "return", reason="Một chỉ số cần bổ sung minh chứng")
    assert "Trả lại" in reviewer.inner_text("body")
    _shot(reviewer, "3-reviewer-returned")

    # 4. the editor sees the reason, fixes the answer; the approver submits again
    editor.goto(form_url)
    assert "Minh chứng chưa khớp số liệu" in editor.inner_text("body")
    _answer_ratio(editor, "4", "4")
    _shot(editor, "4-editor-fixed")
    approver.goto(form_url)
    _transition(approver, "submit")

    # 5. the reviewer accepts the fixed answer, adjusts the yes/no one to "no", approves
    reviewer.goto(review_url)
    _transition(reviewer, "start_review")
    _appraise(reviewer, RATIO.code, "accept")
    _appraise(reviewer, YESNO.code, "adjust", reason="Chưa có văn bản ban hành", fields={"f_value": "không"})
    _transition(reviewer, "finish_appraisal")
    _transition(reviewer, "approve")
    assert "Đã phê duyệt" in reviewer.inner_text("body")
    _shot(reviewer, "5-reviewer-approved")

    # 6. the admin publishes, re-entering the password
    admin_ctx, admin = _login(browser, base, "admin")
    admin.goto("/app/admin")
    publish = admin.locator(f"form.publish[action='/app/admin/editions/{EDITION}/publish']")
    publish.locator("input[name=password]").fill(PASSWORD)
    publish.locator("button[type=submit]").click()
    admin.wait_for_load_state()
    _shot(admin, "6-admin-published")

    # 7. the public ranking shows the appraised points: 10 (ratio, accepted) + 0 (yes/no adjusted)
    public_ctx = browser.new_context(base_url=base)
    public = public_ctx.new_page()
    public.goto(f"/editions/{EDITION}.json")
    rows = {r["code"]: r for r in public_ctx.request.get(f"/editions/{EDITION}.json").json()["results"]}
    assert rows[OWN]["value"] == pytest.approx(RATIO.max_points / 1000)
    public.goto(f"/editions/{EDITION}")
    assert "MINH HOẠ" in public.inner_text("body")
    _shot(public, "7-public-ranking")
    with store.reading() as session:
        state = session.scalar(select(Assessment.state).where(Assessment.province_code == OWN))
    assert state == "published"
    for context in (editor_ctx, approver_ctx, reviewer_ctx, admin_ctx, public_ctx):
        context.close()


def _appraise(page, code: str, decision: str, reason: str | None = None,
              fields: dict[str, str] | None = None) -> None:
    form = page.locator(f"form.appraise[action$='/answers/{code}']")
    form.locator(f"input[name=decision][value={decision}]").check()
    for name, value in (fields or {}).items():
        target = form.locator(f"[name={name}]")
        if target.evaluate("e => e.tagName") == "SELECT":
            target.select_option(value=value)
        else:
            target.fill(value)
    if reason:
        form.locator("input[name=reason]").fill(reason)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()


@pytest.fixture
def live_bodies(store):
    """The app with a ministry edition beside the provincial one, on a free loopback port."""
    from assessment_support import World, populate_ministries

    _need_chromium()
    world: World = populate_ministries(populate(store))
    with serving(create_app(Settings(), store=store)) as base:
        yield base, world


def test_a_ministry_fills_and_submits_in_chromium(live_bodies, store):
    """Bộ Tài chính's editor lands on the body's form, answers a sub-indicator (saved on blur),
    and the page fits a phone; the approver submits once every answer is in; the reviewer's
    queue of the ministry edition shows the body as submitted."""
    from playwright.sync_api import sync_playwright

    from assessment_support import MINISTRY_EDITION, OWN_BODY
    from dti.scoring import illustrative_ministry_catalogue
    from dti.services import assessments as changes
    from dti.services.demo_year import answer_for
    import numpy as np

    base, world = live_bodies
    catalogue = illustrative_ministry_catalogue()
    ratio = next(i for i in catalogue.items if i.rule.kind == "ratio")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            ctx, editor = _login(browser, base, "bo_editor")
            assert editor.url.endswith(f"/app/{MINISTRY_EDITION}/{OWN_BODY}")
            assert "Bộ Tài chính" in editor.inner_text("header")
            editor.goto(f"/app/{MINISTRY_EDITION}/{OWN_BODY}?section={ratio.main_code}")
            block = editor.locator(f"[id='a-{ratio.code}']")
            first, second = (f"input[name=f_{f.name}]" for f in ratio.rule.fields)
            block.locator(first).fill("3")
            block.locator(second).fill("4")
            block.locator(second).blur()
            block.locator("[data-status]").filter(has_text="Đã lưu").wait_for(timeout=10_000)
            editor.set_viewport_size({"width": 375, "height": 800})
            assert editor.evaluate("document.documentElement.scrollWidth") <= 375
            _shot(editor, "ministry-editor-375")
            ctx.close()
            rng = np.random.default_rng(5)
            with store.transaction() as session:   # the rest of the answers, through the service
                for item in catalogue.items:
                    if item.code != ratio.code:
                        changes.save_answer(session, world.actors["bo_editor"], MINISTRY_EDITION,
                                            OWN_BODY, item.code, answer_for(item, 0.7, rng), 0)
            ctx, approver = _login(browser, base, "bo_approver")
            _transition(approver, "submit")
            assert "Đã gửi" in approver.inner_text(".state")
            ctx.close()
            ctx, reviewer = _login(browser, base, "reviewer")
            reviewer.goto(f"/app/review/{MINISTRY_EDITION}")
            row = reviewer.locator(f"tr[data-province='{OWN_BODY}']")
            assert "Bộ Tài chính" in row.inner_text() and "Đã gửi" in row.inner_text()
            assert "Bộ, cơ quan" in reviewer.inner_text("table thead")
            _shot(reviewer, "ministry-queue")
            ctx.close()
        finally:
            browser.close()
    with store.reading() as session:
        from dti.store.access import find

        _, assessment = find(session, MINISTRY_EDITION, OWN_BODY)
        assert assessment.state == "submitted"
