"""Words that mean what they say in the assessment app (issue #14): each label that misled a
province officer or a reviewer, rendered through the real app on a real database in Vietnamese
and in English — the new words are there, the misleading ones are gone.

The labels: "Thẩm định 0,00" before any appraisal; "Chờ thẩm định" on a draft; points that read
as thousands (416,715); the planner's "(+0,5833 điểm DTI (trên 1))"; the header's "· 48"; raw
codes (an edition's id, a catalogue's id, a role's code, an audit action's code); the add-user
form's password field labelled as the admin's own; times in UTC and ISO dates beside d/m/yyyy.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from assessment_support import EDITION, OWN, PASSWORD, login, signed_in

from dti.formatting import format_number
from dti.store import edition_rows
from dti.store.models import Assessment
from dti.web.assessment import words

JSON = {"Accept": "application/json"}
PAGE = f"/app/{EDITION}/{OWN}"
REVIEW = f"/app/review/{EDITION}/{OWN}"
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")

WORDS = {   # what each language must say, and what it must no longer say
    "vi": {"not_appraised": "Chưa thẩm định", "draft": "Đang nhập, chưa gửi Bộ",
           "awaiting": "Chờ thẩm định", "returned": "Bị trả lại", "appraised": "Đã thẩm định",
           "unit": "điểm", "province": "Đà Nẵng", "role": "Cán bộ nhập liệu (tỉnh)",
           "new_password": "Mật khẩu của người dùng mới", "window": "giờ Việt Nam, UTC+7",
           "times": "giờ Việt Nam (UTC+7)", "saved": "Lưu câu trả lời", "submitted": "Đã gửi",
           "draft_state": "Đang nhập", "note": "Ghi chú của tỉnh"},
    "en": {"not_appraised": "Not yet appraised", "draft": "Draft, not yet submitted",
           "awaiting": "Awaiting appraisal", "returned": "Returned", "appraised": "Appraised",
           "unit": "points", "province": "Da Nang City", "role": "Province editor",
           "new_password": "New user's password", "window": "Vietnam time, UTC+7",
           "times": "Vietnam time (UTC+7)", "saved": "Answer saved", "submitted": "Submitted",
           "draft_state": "Draft", "note": "The province's note"},
}


def visible(page: str) -> str:
    """What a reader sees: the text without scripts, tags or attribute values."""
    body = re.sub(r"<script.*?</script>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def person(app, username: str, lang: str) -> tuple[TestClient, str]:
    client, csrf = signed_in(app, username)
    client.get(f"/app/lang/{lang}")
    return client, csrf


def save(client, csrf: str, code: str, fields: dict[str, str], note: str = "") -> dict:
    version = client.get(PAGE, headers=JSON).json()
    version = next(a["version"] for a in version["answers"] if a["code"] == code)
    response = client.post(f"{PAGE}/answers/{code}", headers=JSON, data={
        "csrf": csrf, "version": str(version), "note": note,
        **{f"f_{k}": v for k, v in fields.items()}})
    assert response.status_code == 200, response.text
    return response.json()


def move(client, csrf: str, action: str, reason: str = "") -> None:
    response = client.post(f"{PAGE}/transition", headers=JSON,
                           data={"csrf": csrf, "action": action, "reason": reason})
    assert response.status_code == 200, response.text


def appraise(client, csrf: str, code: str, decision: str, reason: str = "") -> None:
    answers = client.get(REVIEW, headers=JSON).json()["answers"]
    version = next(a["version"] for a in answers if a["code"] == code)
    response = client.post(f"{REVIEW}/answers/{code}", headers=JSON, data={
        "csrf": csrf, "decision": decision, "version": str(version), "reason": reason})
    assert response.status_code == 200, response.text


def answer_state(page: str, code: str) -> str:
    """The words of one answer's state badge on the province's form."""
    block = re.search(rf'id="a-{re.escape(code)}".*?data-answer-state="\w+">([^<]*)<', page, re.S)
    return block.group(1).strip()


def appraised_cell(page: str, main: str) -> str:
    row = re.search(rf'<tr data-main="{main}".*?</tr>', page, re.S).group(0)
    return visible(re.search(r'data-which="appraised">(.*?)</td>', row, re.S).group(1)).strip()


def to_review(app, lang: str):
    """An editor's two answers, submitted by the approver, and a reviewer who has started."""
    editor, editor_csrf = person(app, "editor", lang)
    save(editor, editor_csrf, "NTS.02", {"value": "có"})
    save(editor, editor_csrf, "NTS.04", {"a": "3", "b": "4"})
    approver, approver_csrf = person(app, "approver", lang)
    move(approver, approver_csrf, "submit")
    reviewer, reviewer_csrf = person(app, "reviewer", lang)
    move(reviewer, reviewer_csrf, "start_review")
    return editor, (reviewer, reviewer_csrf)


# -- "Thẩm định 0,00" before anything is appraised ----------------------------------------------


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_nothing_appraised_says_not_yet_appraised_rather_than_zero(app, world, lang):
    w = WORDS[lang]
    save(*signed_in(app, "editor"), "NTS.02", {"value": "có"})
    reviewer, _ = person(app, "reviewer", lang)
    page = reviewer.get(REVIEW).text
    for main in ("NTS", "TCS", "total"):                  # was "0,00": read as appraised to zero
        assert appraised_cell(page, main) == w["not_appraised"]
    line = re.search(r'id="a-NTS.02".*?</dl>', page, re.S).group(0)
    assert visible(re.search(r'<dd data-which="appraised">(.*?)</dd>', line, re.S).group(1)
                   ).strip() == w["not_appraised"]

    _, (reviewer, csrf) = to_review(app, lang)
    appraise(reviewer, csrf, "NTS.02", "accept")
    page = reviewer.get(REVIEW).text
    ten = "10,00" if lang == "vi" else "10.00"
    assert appraised_cell(page, "NTS") == ten          # one answer appraised: its points
    assert appraised_cell(page, "TCS") == w["not_appraised"]   # still none in this one


# -- a draft answer is not "awaiting appraisal" --------------------------------------------------


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_each_answer_says_the_state_it_is_really_in(app, world, lang):
    w = WORDS[lang]
    editor, csrf = person(app, "editor", lang)
    save(editor, csrf, "NTS.02", {"value": "có"})
    page = editor.get(PAGE).text
    assert answer_state(page, "NTS.02") == w["draft"] == answer_state(page, "NTS.01")
    assert w["awaiting"] not in visible(page)            # no draft carries "Chờ thẩm định"

    editor, (reviewer, reviewer_csrf) = to_review(app, lang)
    page = editor.get(PAGE).text
    assert answer_state(page, "NTS.02") == w["awaiting"] == answer_state(page, "NTS.04")

    appraise(reviewer, reviewer_csrf, "NTS.02", "accept")
    appraise(reviewer, reviewer_csrf, "NTS.04", "return", "thiếu minh chứng")
    move(reviewer, reviewer_csrf, "return", "bổ sung minh chứng")
    page = editor.get(PAGE).text
    assert answer_state(page, "NTS.02") == w["appraised"]
    assert answer_state(page, "NTS.04") == w["returned"]
    assert answer_state(page, "NTS.01") == w["draft"]    # back with the province, not appraised


# -- points with two decimals --------------------------------------------------------------------


def test_points_are_written_with_two_decimals_rounded_as_a_person_rounds():
    assert words.points_text(416.715, "vi") == "416,72"    # not 416,715 nor binary 416,71
    assert words.points_text(416.715, "en") == "416.72"
    assert words.points_text(0.625, "vi") == "0,63"        # half up, not half to even
    assert words.points_text(1000, "vi") == "1.000,00" and words.points_text(1000, "en") == "1,000.00"
    assert words.points_text(10, "vi") == "10,00" and words.points_text(None, "en") == "—"


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_points_figure_on_the_form_and_the_appraisal_has_two_decimals(app, world, lang):
    w = WORDS[lang]
    editor, csrf = person(app, "editor", lang)
    assert save(editor, csrf, "NTS.04", {"a": "1", "b": "16"})["self_points"] == 0.625
    page = editor.get(PAGE).text
    shown = "0,63" if lang == "vi" else "0.63"
    assert re.search(rf"data-points>{shown}</output> / 10[,.]00 {w['unit']}", page)
    assert f"<span data-total>{shown}</span>" in page
    assert f'<span data-main-points="NTS">{shown}</span>' in page
    figure = r"\d{1,3}(\.\d{3})*,\d\d" if lang == "vi" else r"\d{1,3}(,\d{3})*\.\d\d"
    reviewer, _ = person(app, "reviewer", lang)
    appraisal = reviewer.get(REVIEW).text
    assert f'<span class="points">{shown}</span>' in appraisal
    # the catalogue's own method text ("Mỗi cảnh báo quá hạn trừ 2 điểm") is the ministry's words
    page = re.sub(r'<details class="about">.*?</details>', "", page, flags=re.S)
    for text in (visible(page), visible(appraisal)):
        before_unit = re.findall(rf"(\d[\d.,]*) {w['unit']}\b", text)
        assert len(before_unit) > 9                       # every shown answer's maximum, at least
        assert [n for n in before_unit if not re.fullmatch(figure, n)] == []


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_planner_says_how_much_the_dti_rises_on_its_scale(app, world, lang):
    editor, _ = person(app, "editor", lang)
    gaps = editor.get(f"/app/plan/{EDITION}/{OWN}", headers=JSON).json()["gaps"]
    gain = sum(g["missing"] for g in gaps)
    text = visible(editor.get(f"/app/plan/{EDITION}/{OWN}").text)
    dti = format_number(gain / 1000, lang, 4)             # an index keeps its 4 decimals
    if lang == "vi":
        assert f"chỉ số DTI tăng {dti} trên thang 0–1" in text
        assert "điểm DTI (trên 1)" not in text and "(+" not in text
    else:
        assert f"the DTI rises by {dti} on its 0–1 scale" in text
        assert "out of 1" not in text and "(+" not in text
    assert f"{words.points_text(gain, lang)} {WORDS[lang]['unit']}" in text


# -- the province, the edition and the roles by name ---------------------------------------------


def header(page: str) -> str:
    return visible(re.search(r'<span class="who".*?</span>\s*</span>', page, re.S).group(0)).strip()


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_header_names_the_province_and_the_role(app, world, lang):
    w = WORDS[lang]
    editor, _ = person(app, "editor", lang)
    for url in (PAGE, f"/app/plan/{EDITION}/{OWN}", f"/app/audit/{EDITION}?province={OWN}",
                f"{PAGE}/import"):
        page = editor.get(url)
        assert page.status_code == 200, url
        assert header(page.text) == f"Editor · {w['role']} · {w['province']}", url
        text = visible(page.text)
        assert not re.search(rf"· {OWN}\b", header(page.text))
        assert EDITION not in text and "province_editor" not in text, url
    edition = "Kỳ thử nghiệm 2022" if lang == "vi" else "Test edition 2022"
    assert edition in visible(editor.get(f"{PAGE}/import").text)


def test_a_code_that_names_two_provinces_is_named_by_the_editions_unit_set():
    assert words.province_label("24", "vi", "provinces-63") == "Bắc Giang"
    assert words.province_label("24", "vi", "provinces-34") == "Bắc Ninh"
    assert words.province_label("24", "vi") == "24"          # no edition: no guess
    assert words.province_label("48", "en") == "Da Nang City"  # the same in both sets


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_admin_and_audit_pages_show_names_not_codes(app, world, lang):
    w = WORDS[lang]
    admin, csrf = person(app, "admin", lang)
    editor, editor_csrf = person(app, "editor", lang)
    save(editor, editor_csrf, "NTS.02", {"value": "có"})
    approver, approver_csrf = person(app, "approver", lang)
    move(approver, approver_csrf, "submit")
    page = visible(admin.get("/app/admin").text)
    assert "dti-2022-minh-hoa" not in page and "province_editor" not in page
    assert ("Bộ chỉ số thành phần DTI cấp tỉnh" if lang == "vi" else "Provincial DTI sub-indicators") in page
    assert f"48 · {w['province']}" in page
    audit = visible(admin.get(f"/app/audit/{EDITION}").text)
    assert "dti-2022-minh-hoa" not in audit and "answer.save" not in audit
    assert "assessment.submit" not in audit and "review_status" not in audit
    assert w["saved"] in audit and f"{w['draft_state']} → {w['submitted']}" in audit


def test_the_appraisal_screen_in_english_is_entirely_english(app, world):
    editor, csrf = signed_in(app, "editor")
    save(editor, csrf, "NTS.02", {"value": "có"}, note="đã ban hành")
    reviewer, _ = person(app, "reviewer", "en")
    text = visible(reviewer.get(REVIEW).text)
    assert WORDS["en"]["note"] in text and "Ghi chú" not in text


# -- the add-user form's password field ----------------------------------------------------------


def new_user_form(page: str) -> str:
    return re.search(r'<form method="post" action="/app/admin/users/new".*?</form>', page,
                     re.S).group(0)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_new_users_password_is_labelled_as_theirs_and_logs_them_in(app, world, lang):
    admin, csrf = person(app, "admin", lang)
    form = visible(new_user_form(admin.get("/app/admin").text))
    assert WORDS[lang]["new_password"] in form
    for misleading in ("Nhập lại mật khẩu", "Re-enter your password", "Mật khẩu của bạn",
                       "Your own password"):
        assert misleading not in form
    made = admin.post("/app/admin/users/new", follow_redirects=False, data={
        "csrf": csrf, "username": "hue_editor", "display_name": "Cán bộ Huế",
        "password": "mat-khau-cua-hue-1", "role": "province_editor", "province_code": "46"})
    assert made.status_code == 303
    refused = TestClient(app)                  # the admin's own password is not theirs
    page = refused.get("/app/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    assert refused.post("/app/login", data={"username": "hue_editor", "password": PASSWORD,
                                            "csrf": token}).status_code == 401
    newcomer = TestClient(app)
    login(newcomer, "hue_editor", "mat-khau-cua-hue-1")   # asserts the 303 of a log-in
    page = newcomer.get(f"/app/{EDITION}/46")
    assert page.status_code == 200 and "Cán bộ Huế" in header(page.text)
    assert header(page.text).endswith("Huế")


# -- dates and times: dd/mm/yyyy, Vietnam time ---------------------------------------------------


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_window_is_typed_and_shown_in_vietnam_time_and_stored_in_utc(app, world, lang):
    w = WORDS[lang]
    admin, csrf = person(app, "admin", lang)
    made = admin.post(f"/app/admin/editions/{EDITION}/window", follow_redirects=False, data={
        "csrf": csrf, "opens_at": "2026-03-01T08:00", "closes_at": "2026-03-31T17:00"})
    assert made.status_code == 303
    with world.store.reading() as session:
        row = edition_rows.get(session, EDITION)
        assert (row.opens_at, row.closes_at) == (datetime(2026, 3, 1, 1, 0),
                                                 datetime(2026, 3, 31, 10, 0))
    page = admin.get("/app/admin").text
    assert 'name="closes_at" value="2026-03-31T17:00"' in page      # read back as typed
    window = re.search(r'<form method="post" action="[^"]*/window".*?</form>', page, re.S).group(0)
    assert w["window"] in visible(window) and "UTC)" not in visible(window)
    assert "01/03/2026 08:00" in visible(window) and "31/03/2026 17:00" in visible(window)
    audit = visible(admin.get(f"/app/audit/{EDITION}").text)
    assert "31/03/2026 17:00" in audit and "2026-03-31T10:00" not in audit


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_times_are_vietnam_time_and_no_iso_date_is_shown(app, world, lang):
    editor, csrf = person(app, "editor", lang)
    save(editor, csrf, "NTS.02", {"value": "có"})
    editor.post(f"{PAGE}/answers/NTS.02/comments", headers=JSON, data={"csrf": csrf, "body": "?"})
    with world.store.reading() as session:
        updated = session.scalar(select(Assessment.updated_at).where(
            Assessment.province_code == OWN))
    local = (updated + timedelta(hours=7)).strftime("%d/%m/%Y %H:%M")
    reviewer, _ = person(app, "reviewer", lang)
    queue = reviewer.get(f"/app/review/{EDITION}").text
    row = re.search(rf'<tr data-province="{OWN}".*?</tr>', queue, re.S).group(0)
    assert local in visible(row)
    admin, _ = person(app, "admin", lang)
    for page in (queue, reviewer.get(REVIEW).text, editor.get(PAGE).text,
                 admin.get("/app/admin").text, admin.get(f"/app/audit/{EDITION}").text):
        text = visible(page)
        assert not ISO_DATE.search(text), ISO_DATE.search(text)
        assert WORDS[lang]["times"] in text


def test_without_a_time_zone_database_vietnam_time_is_a_fixed_utc_plus_7(monkeypatch):
    def missing(name):
        raise ZoneInfoNotFoundError(name)

    monkeypatch.setattr(words, "ZoneInfo", missing)
    fixed = words._vietnam_zone()
    for day in (datetime(1990, 1, 15), datetime(2026, 7, 1), datetime(2026, 12, 31, 23, 30)):
        assert fixed.utcoffset(day) == ZoneInfo("Asia/Ho_Chi_Minh").utcoffset(day) == timedelta(hours=7)


def test_typed_vietnam_time_becomes_utc_and_back():
    assert words.utc_from_local("2026-03-31T17:00") == datetime(2026, 3, 31, 10, 0)
    assert words.utc_from_local("2026-01-01T03:00") == datetime(2025, 12, 31, 20, 0)
    assert words.utc_from_local("2026-03-31T17:00+00:00") == datetime(2026, 3, 31, 17, 0)
    assert words.local_input(datetime(2025, 12, 31, 20, 0)) == "2026-01-01T03:00"
    assert words.local_time(datetime(2025, 12, 31, 20, 0)) == "01/01/2026 03:00"
    with pytest.raises(ValueError):
        words.utc_from_local("31/03/2026")


# -- the audit trail's actions by name -----------------------------------------------------------


def test_every_action_the_store_records_has_a_name_in_both_languages():
    """The audit page shows an action by its name; a code the store writes without a name would
    appear raw (``answer.save``).  The codes are read from the ``audit.write`` calls themselves."""
    from pathlib import Path

    import dti
    from dti.workflow import Action

    source = Path(dti.__file__).parent
    written = set()
    for path in [*source.joinpath("store").rglob("*.py"), *source.joinpath("services").rglob("*.py")]:
        for line in path.read_text(encoding="utf-8").splitlines():
            if "audit.write(" in line:
                written |= set(re.findall(r'"([a-z_]+\.[a-z_]+)"', line))
    written |= {f"answer.{d}" for d in ("accept", "adjust", "return")}        # f"answer.{decision}"
    written |= {f"assessment.{a.value}" for a in (Action.SUBMIT, Action.START_REVIEW, Action.RETURN,
                                                  Action.FINISH_APPRAISAL, Action.APPROVE,
                                                  Action.REOPEN)}
    assert {"answer.save", "user.deactivate", "edition.window", "demo.seed"} <= written
    for lang in ("vi", "en"):
        assert sorted(written - set(words.AUDIT_ACTIONS[lang])) == []


def test_a_refusal_reads_in_the_page_language_and_the_json_keeps_english(app, world):
    """The app's error page says why in Vietnamese (or English), with states by their names and
    a window's end in Vietnam time; the JSON envelope keeps the store's English message."""
    from datetime import datetime

    from assessment_support import EDITION, OTHER, OWN
    from assessment_support import signed_in as client

    from dti.store import edition_rows

    editor, csrf = client(app, "editor")
    other = editor.get(f"/app/{EDITION}/{OTHER}")
    assert other.status_code == 403
    assert "Hồ sơ này thuộc tỉnh hoặc bộ, cơ quan khác" in other.text and "belongs" not in other.text
    as_json = editor.get(f"/app/{EDITION}/{OTHER}", headers={"Accept": "application/json"}).json()
    assert as_json["error"]["message"] == "this assessment belongs to another province or body"
    assert as_json["error"]["refusal"] == "other_unit"
    submit = editor.post(f"/app/{EDITION}/{OWN}/transition", data={"csrf": csrf, "action": "submit"})
    assert submit.status_code == 403 and "Vai trò «Cán bộ nhập liệu (tỉnh)» không được làm việc này" in submit.text
    reviewer, r_csrf = client(app, "reviewer")
    early = reviewer.post(f"/app/{EDITION}/{OWN}/transition", data={"csrf": r_csrf, "action": "approve"})
    assert early.status_code == 403
    assert "trạng thái «Đang nhập»; chỉ làm được khi hồ sơ ở trạng thái: Đã thẩm định" in early.text
    with world.store.transaction() as session:
        edition_rows.set_window(session, world.actors["admin"], EDITION, None,
                                datetime(2026, 3, 31, 10, 0))   # 17:00 in Hà Nội
    late = editor.post(f"/app/{EDITION}/{OWN}/answers/NTS.02", data={"csrf": csrf, "version": "0",
                                                                    "f_value": "có"})
    assert late.status_code == 409
    assert "Thời gian nhập liệu đã kết thúc lúc 31/03/2026 17:00 (giờ Việt Nam)" in late.text
    editor.get("/app/lang/en")
    late_en = editor.post(f"/app/{EDITION}/{OWN}/answers/NTS.02", data={"csrf": csrf, "version": "0",
                                                                       "f_value": "có"})
    assert "The assessment window closed at 31/03/2026 17:00 (Vietnam time)." in late_en.text
