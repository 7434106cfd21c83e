"""The assessment app under pressure: a request waiting on the database never stalls the others,
bodies are refused by size before they are read, evidence is limited per request and per
province, only the document types the app names are stored, and a save without a field of the
answer is refused rather than taken as "clear it"."""

from __future__ import annotations

import io
import socket
import struct
import subprocess
import sys
import threading
import time
import zipfile
import zlib

import httpx
import pytest
from sqlalchemy import select
from assessment_support import EDITION, OWN, fresh_store, login, pdf, populate, serving

from dti.services import assessments as changes
from dti.store.evidence import check_upload
from dti.store.models import Answer, Assessment, AuditEntry, Evidence
from dti.web.app import create_app
from dti.web.settings import Settings

JSON = {"Accept": "application/json"}
CODE = "NTS.04"   # a ratio: fields a and b

HOLD_LOCK = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
connection.execute("ROLLBACK")
"""


def _answer(store, code: str = CODE) -> Answer:
    with store.reading() as session:
        return session.scalar(select(Answer).join(Assessment, Answer.assessment_id == Assessment.id)
                              .where(Assessment.province_code == OWN, Answer.indicator_code == code))


def _audit_count(store) -> int:
    with store.reading() as session:
        return len(session.scalars(select(AuditEntry.id)).all())


def _in_review(world) -> None:
    """The province answered and submitted; the ministry started its review."""
    with world.store.transaction() as session:
        changes.save_answer(session, world.actors["editor"], EDITION, OWN, CODE,
                                {"a": "3", "b": "4"}, 0)
        changes.transition(session, world.actors["approver"], EDITION, OWN, "submit")
        changes.transition(session, world.actors["reviewer"], EDITION, OWN, "start_review")


def _fastest(client: httpx.Client, path: str, tries: int = 3) -> float:
    """Seconds of the fastest of a few GETs (each must answer 200): what the server can do while
    the appraisal waits, not how busy the test machine happens to be."""
    best = float("inf")
    for _ in range(tries):
        start = time.perf_counter()
        response = client.get(path, timeout=10)
        best = min(best, time.perf_counter() - start)
        assert response.status_code == 200, (path, response.status_code)
    return best


def test_pages_answer_while_an_appraisal_waits_for_the_write_lock(tmp_path):
    """Another process holds SQLite's write lock; a reviewer's appraisal waits for it; the
    portal's ranking page and the log-in page still answer within 200 ms; once the lock is
    released the appraisal is saved."""
    store = fresh_store("sqlite", tmp_path)
    world = populate(store)
    _in_review(world)
    app = create_app(Settings(), store=store)
    with serving(app) as base, httpx.Client(base_url=base) as reviewer, \
            httpx.Client(base_url=base, follow_redirects=True) as visitor:
        csrf = login(reviewer, "reviewer")
        _fastest(visitor, "/"), _fastest(visitor, "/app/login")   # templates compiled, caches warm
        holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(tmp_path / "dti.db")],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        outcome: dict[str, httpx.Response] = {}
        try:
            assert holder.stdout.readline().strip() == "locked"
            appraisal = threading.Thread(target=lambda: outcome.setdefault("r", reviewer.post(
                f"/app/review/{EDITION}/{OWN}/answers/{CODE}", headers=JSON, timeout=60,
                data={"csrf": csrf, "decision": "accept", "version": _answer(store).version})))
            appraisal.start()
            time.sleep(0.5)   # the appraisal is in the server, waiting for the lock
            assert appraisal.is_alive() and "r" not in outcome
            ranking, log_in = _fastest(visitor, "/"), _fastest(visitor, "/app/login")
            assert appraisal.is_alive(), "the appraisal should still be waiting for the lock"
        finally:
            holder.communicate("release\n", timeout=10)
        appraisal.join(30)
    assert ranking < 0.2 and log_in < 0.2, (ranking, log_in)
    assert outcome["r"].status_code == 200, outcome["r"].text
    assert _answer(store).review_status == "accepted"
    store.close()


# -- a save must name the answer's fields --------------------------------------------------------


@pytest.fixture
def editor(store):
    """The province's editor, logged in through the real form, and one stored answer (3 of 4)."""
    from fastapi.testclient import TestClient

    world = populate(store)
    client = TestClient(create_app(Settings(), store=store))
    csrf = login(client, "editor")
    with store.transaction() as session:
        changes.save_answer(session, world.actors["editor"], EDITION, OWN, CODE,
                                {"a": "3", "b": "4"}, 0)
    return client, csrf


@pytest.mark.parametrize("fields, code", [
    ({"f_zz": "5"}, "answer.unknown_field"),                 # a field the rule does not have
    ({"f_a": "3", "f_b": "4", "f_zz": "1"}, "answer.unknown_field"),
    ({}, "answer.no_fields"),                                 # nothing at all
    ({"a": "3", "b": "4"}, "answer.no_fields"),               # names without the f_ prefix
])
def test_a_save_without_the_answers_fields_is_refused_and_changes_nothing(store, editor, fields,
                                                                          code):
    client, csrf = editor
    before, audited = _answer(store), _audit_count(store)
    response = client.post(f"/app/{EDITION}/{OWN}/answers/{CODE}", headers=JSON,
                           data={"csrf": csrf, "version": before.version, **fields})
    assert response.status_code == 422, response.text
    problem = response.json()["error"]["problems"][0]
    assert (problem["code"], problem["indicator"]) == (code, CODE)
    after = _answer(store)
    assert (after.self_value, after.self_points, after.version) == \
        ({"a": 3.0, "b": 4.0}, before.self_points, before.version)
    assert _audit_count(store) == audited


def test_an_answer_is_cleared_only_by_sending_its_fields_empty(store, editor):
    client, csrf = editor
    version = _answer(store).version
    response = client.post(f"/app/{EDITION}/{OWN}/answers/{CODE}", headers=JSON,
                           data={"csrf": csrf, "version": version, "f_a": "", "f_b": ""})
    assert response.status_code == 200, response.text
    assert (_answer(store).self_value, _answer(store).self_points) == ({}, None)


# -- evidence: only the named kinds, verified by parsing -----------------------------------------


def _png(trailing: bytes = b"") -> bytes:
    def chunk(name: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + name + body + struct.pack(">I", zlib.crc32(name + body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)       # 1×1, 8-bit grey
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x80"))
            + chunk(b"IEND", b"") + trailing)


def _jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def _zip(members: dict[str, bytes], first: tuple[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        if first:
            archive.writestr(zipfile.ZipInfo(first[0]), first[1])    # stored, as ODF wants it
        for name, body in members.items():
            archive.writestr(name, body, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _docx(*extra: str) -> bytes:
    main = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    types = (f'<?xml version="1.0"?><Types><Override PartName="/word/document.xml" '
             f'ContentType="{main}"/></Types>').encode()
    return _zip({"[Content_Types].xml": types, "word/document.xml": b"<w:document/>",
                 **{name: b"x" for name in extra}})


def _xlsx() -> bytes:
    from openpyxl import Workbook

    out = io.BytesIO()
    Workbook().save(out)
    return out.getvalue()


def _odt(*extra: str) -> bytes:
    return _zip({"content.xml": b"<office:document-content/>", **{n: b"x" for n in extra}},
                first=("mimetype", b"application/vnd.oasis.opendocument.text"))


SCRIPTED_PDF = pdf().replace(b"<< /Type /Catalog /Pages 2 0 R >>",
                             b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /J#61vaScript "
                             b"/J#53 (app.alert(1)) >> >>")
HTML_AS_PDF = b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script></body></html>\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.mark.parametrize("name, data, media_type", [
    ("Quyết định.pdf", pdf(), "application/pdf"),
    ("anh.png", _png(), "image/png"),
    ("anh.JPG", _jpeg(), "image/jpeg"),
    ("bao-cao.docx", _docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml."
                              "document"),
    ("so-lieu.xlsx", _xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("van-ban.odt", _odt(), "application/vnd.oasis.opendocument.text"),
    ("ghi-chu.txt", "Báo cáo tuyên truyền".encode(), "text/plain; charset=utf-8"),
    ("so-lieu.csv", "mã,giá trị\n48,12\n".encode(), "text/plain; charset=utf-8"),
])
def test_each_accepted_kind_is_recognised_by_parsing(name, data, media_type):
    assert check_upload(name, data) == (media_type, [])


@pytest.mark.parametrize("name, data, code", [
    ("qd.pdf", HTML_AS_PDF, "evidence.active_content"),          # HTML behind a %PDF- start
    ("anh.svg", SVG, "evidence.active_content"),
    ("anh.png", SVG, "evidence.active_content"),
    ("trang.html", b"<!doctype html><p>xin chao</p>", "evidence.active_content"),
    ("ghi-chu.txt", b"  <script>alert(1)</script>", "evidence.active_content"),
    ("qd.pdf", SCRIPTED_PDF, "evidence.active_content"),         # a script, its name escaped
    ("bao-cao.docx", _docx("word/vbaProject.bin"), "evidence.active_content"),   # macros
    ("van-ban.odt", _odt("Basic/Standard/Module1.xml"), "evidence.active_content"),
    ("qd.pdf", b"%PDF-1.7\n" + b"0" * 400, "evidence.damaged"),  # does not open
    ("qd.pdf", pdf()[:-40], "evidence.damaged"),                  # cut short
    ("anh.png", _png()[:-6], "evidence.damaged"),
    ("anh.png", _png(b"<html><script>alert(1)</script>"), "evidence.damaged"),   # a polyglot
    ("anh.jpg", _jpeg()[:-2], "evidence.damaged"),
    ("qd.svg", pdf(), "evidence.extension_not_allowed"),
    ("qd.html", pdf(), "evidence.extension_not_allowed"),
    ("qd.js", b"var x = 1;", "evidence.extension_not_allowed"),
    ("qd.xml", b"du lieu", "evidence.extension_not_allowed"),
    ("quyet-dinh", pdf(), "evidence.extension_not_allowed"),
    ("anh.pdf", _png(), "evidence.extension_mismatch"),
    ("bao-cao.pdf", _docx(), "evidence.extension_mismatch"),
])
def test_files_that_are_not_what_they_claim_are_refused(name, data, code):
    media_type, problems = check_upload(name, data)
    assert media_type == "" and [p.code for p in problems] == [code], problems


def test_a_refused_kind_is_a_clear_422_over_http_and_nothing_is_stored(store, editor):
    client, csrf = editor
    url = f"/app/{EDITION}/{OWN}/answers/{CODE}/evidence"
    refused = client.post(url, headers=JSON, data={"csrf": csrf},
                          files=[("files", ("qd.pdf", pdf(), "application/pdf")),
                                 ("files", ("qd2.pdf", HTML_AS_PDF, "application/pdf")),
                                 ("files", ("anh.svg", SVG, "image/svg+xml"))])
    assert refused.status_code == 422, refused.text
    problems = refused.json()["error"]["problems"]
    assert [(p["code"], p["file"]) for p in problems] == [
        ("evidence.active_content", "qd2.pdf"), ("evidence.active_content", "anh.svg")]
    assert "macro" in problems[0]["message"] and "markup" in problems[0]["message_en"]
    with store.reading() as session:
        assert session.scalars(select(Evidence)).all() == []
    assert [p for p in store.evidence_dir.rglob("*") if p.is_file()] == []


def test_evidence_downloads_are_attachments_never_sniffed(store, editor):
    client, csrf = editor
    base = f"/app/{EDITION}/{OWN}"
    up = client.post(f"{base}/answers/{CODE}/evidence", headers=JSON, data={"csrf": csrf},
                     files=[("files", ("anh.png", _png(), "image/png"))])
    assert up.status_code == 200, up.text
    got = client.get(f"{base}/evidence/{up.json()['uploaded'][0]['id']}")
    assert got.headers["content-type"] == "image/png"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["x-content-type-options"] == "nosniff"


# -- request bodies limited by route, before they are read ---------------------------------------


def _raw_post_headers(base: str, path: str, length: int, accept: str = "text/html") -> bytes:
    """Send only a POST's headers, announcing ``length`` bytes of body; the server's answer."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAccept: {accept}\r\n"
                     "Content-Type: multipart/form-data; boundary=x\r\n"
                     f"Content-Length: {length}\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(65536):    # the server closes the connection after its answer
            answer += chunk
    return answer


def test_an_oversized_log_in_body_is_refused_before_a_byte_of_it_is_sent(store, tmp_path):
    """1 GiB announced to the log-in form: 413 comes back at once, though no byte of the body
    was sent — so none was read, buffered or spooled to disk."""
    app = create_app(Settings(), store=store)
    with serving(app) as base:
        page = _raw_post_headers(base, "/app/login", 2**30)
        envelope = _raw_post_headers(base, "/app/login", 2**30, accept="application/json")
    head, _, body = page.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), head
    text = body.decode("utf-8", "replace")
    assert "Yêu cầu quá lớn" in text and "The request is too large" in text and "8 KB" in text
    assert b"x-content-type-options: nosniff" in head.lower()
    head, _, body = envelope.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413") and b'"request.too_large"' in body


def test_a_chunked_body_is_counted_and_cut_off_past_the_limit(store):
    """No length announced: the body is counted as it arrives and refused past 8 KB."""
    app = create_app(Settings(), store=store)

    def body():
        for _ in range(2000):          # up to 2 MB, in 1 KB pieces
            yield b"username=" + b"a" * 1015

    with serving(app) as base, httpx.Client(base_url=base) as client:
        refused = client.post("/app/login", content=body(), timeout=30, headers={
            **JSON, "Content-Type": "application/x-www-form-urlencoded"})
    assert refused.status_code == 413, refused.text
    assert refused.json()["error"]["message"].startswith("Yêu cầu quá lớn")


@pytest.fixture
def uploads(store, monkeypatch):
    """An editor's client with a 100 KB per-file limit (so 200 KB of files per upload)."""
    monkeypatch.setenv("DTI_EVIDENCE_MAX_BYTES", "100000")
    from fastapi.testclient import TestClient

    populate(store)
    client = TestClient(create_app(Settings(evidence_quota_mb=1), store=store))
    return client, login(client, "editor")


def _text(n: int, size: int) -> tuple[str, tuple[str, bytes, str]]:
    return ("files", (f"bao-cao-{n}.txt", (f"{n}:" + "a" * size).encode()[:size], "text/plain"))


def _nothing_stored(store) -> bool:
    with store.reading() as session:
        rows = session.scalars(select(Evidence)).all()
    return rows == [] and [p for p in store.evidence_dir.rglob("*") if p.is_file()] == []


def _upload(client, csrf, files):
    return client.post(f"/app/{EDITION}/{OWN}/answers/{CODE}/evidence", headers=JSON,
                       data={"csrf": csrf}, files=files)


def test_too_many_files_in_one_upload_are_refused(store, uploads):
    client, csrf = uploads
    refused = _upload(client, csrf, [_text(n, 100) for n in range(11)])
    assert refused.status_code == 422, refused.text
    problem = refused.json()["error"]["problems"][0]
    assert problem["code"] == "evidence.too_many_files" and "10" in problem["message_en"]
    assert "tối đa 10 tệp" in problem["message"]
    assert _nothing_stored(store)
    assert _upload(client, csrf, [_text(n, 100) for n in range(10)]).status_code == 200


def test_too_many_bytes_in_one_upload_are_refused_before_reading(store, uploads):
    client, csrf = uploads
    refused = _upload(client, csrf, [_text(n, 90_000) for n in range(3)])   # 270 KB > 200 KB
    assert refused.status_code == 413, refused.text
    error = refused.json()["error"]
    assert error["problems"][0]["code"] == "request.too_large"
    assert "một lần tải minh chứng" in error["message"] and "one evidence upload" in error["message"]
    assert _nothing_stored(store)
    accepted = _upload(client, csrf, [_text(n, 90_000) for n in range(2)])
    assert accepted.status_code == 200, accepted.text
    assert [u["size"] for u in accepted.json()["uploaded"]] == [90_000, 90_000]


def test_the_evidence_quota_refuses_an_upload_that_does_not_fit_and_is_shown(store, uploads):
    client, csrf = uploads                                   # quota 1 MB = 1,048,576 bytes
    for batch in range(5):                                   # 5 × 2 × 95 KB = 950,000 bytes
        assert _upload(client, csrf, [_text(batch * 2 + n, 95_000) for n in range(2)]
                       ).status_code == 200
    with store.reading() as session:
        before = len(session.scalars(select(Evidence)).all())
    files_before = sorted(p for p in store.evidence_dir.rglob("*") if p.is_file())
    audited = _audit_count(store)
    refused = _upload(client, csrf, [_text(20, 60_000), _text(21, 60_000)])   # 120 KB > 98 KB
    assert refused.status_code == 422, refused.text
    problem = refused.json()["error"]["problems"][0]
    assert problem["code"] == "evidence.quota_exceeded" and "DTI_EVIDENCE_QUOTA_MB" in \
        problem["message_en"] and "0.1 MB" in problem["message_en"]
    with store.reading() as session:
        assert len(session.scalars(select(Evidence)).all()) == before
    assert sorted(p for p in store.evidence_dir.rglob("*") if p.is_file()) == files_before
    assert _audit_count(store) == audited
    assert _upload(client, csrf, [_text(30, 90_000)]).status_code == 200   # what fits still does

    twin = client.get(f"/app/{EDITION}/{OWN}", headers=JSON).json()["evidence_quota"]
    assert twin == {"used_bytes": 1_040_000, "quota_bytes": 1_048_576}
    page = client.get(f"/app/{EDITION}/{OWN}").text
    assert "Dung lượng minh chứng của tỉnh trong kỳ này: đã dùng 1.016 KB / 1,0 MB" in page


def test_an_adjustment_naming_no_field_of_the_answer_is_refused(store):
    from fastapi.testclient import TestClient

    world = populate(store)
    _in_review(world)
    client = TestClient(create_app(Settings(), store=store))
    csrf = login(client, "reviewer")
    before, audited = _answer(store), _audit_count(store)
    for fields, code in (({"f_zz": "1"}, "answer.unknown_field"), ({}, "answer.no_fields")):
        refused = client.post(f"/app/review/{EDITION}/{OWN}/answers/{CODE}", headers=JSON, data={
            "csrf": csrf, "decision": "adjust", "reason": "Thiếu minh chứng",
            "version": before.version, **fields})
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["problems"][0]["code"] == code
    after = _answer(store)
    assert (after.version, after.review_status, after.appraised_value) == \
        (before.version, "pending", None)
    assert _audit_count(store) == audited


def test_the_evidence_quota_is_a_documented_setting():
    from pathlib import Path

    from dti.errors import DtiError

    assert Settings().evidence_quota_mb == 500
    assert Settings.from_env({"DTI_EVIDENCE_QUOTA_MB": "750"}).evidence_quota_mb == 750
    with pytest.raises(DtiError, match="DTI_EVIDENCE_QUOTA_MB: '0' is not a size in MB"):
        Settings.from_env({"DTI_EVIDENCE_QUOTA_MB": "0"})
    docs = Path(__file__).parents[1] / "docs"
    for page in ("cli.md", "app.md"):
        assert "DTI_EVIDENCE_QUOTA_MB" in (docs / page).read_text(encoding="utf-8")
