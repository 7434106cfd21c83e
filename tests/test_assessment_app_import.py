"""The Excel round-trip through the real app: template, dry run, apply all or nothing — and a
real server process killed in the middle of an import."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import openpyxl
from fastapi.testclient import TestClient
from sqlalchemy import select

from dti.services import assessments as changes
from dti.io.assessment_xlsx import ANSWERS, VALUE_HEAD
from dti.scoring import illustrative_catalogue, parse_answer
from dti.store.models import Answer, Assessment, AuditEntry, EditionRow
from dti.web.app import create_app
from dti.web.settings import Settings
from assessment_support import EDITION, OWN, login

CATALOGUE = illustrative_catalogue()
BASE = f"/app/{EDITION}/{OWN}"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def client_for(store, username: str) -> tuple[TestClient, str]:
    client = TestClient(create_app(Settings(), store=store))
    login(client, username)
    return client, csrf_of(client, username)


def csrf_of(client, username: str) -> str:
    page = client.get(f"/app/{EDITION}/{OWN if username != 'other_editor' else '01'}/import")
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def sample_values(item) -> dict[int, object]:
    """Cell values (by value column number) that every rule accepts."""
    values = {}
    for n, field in enumerate(item.rule.fields, start=1):
        values[n] = ("Có" if field.kind == "yesno" else field.options[0].label
                     if field.kind == "choice" else 7 if n == 1 else 10)
    return values


def fill(data: bytes, filled: dict[str, dict[int, object]], notes: dict[str, str] | None = None) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book[ANSWERS]
    header = {c.value: c.column for c in sheet[1]}
    rows = {c.value: c.row for c in sheet["A"]}
    for code, values in filled.items():
        for n, value in values.items():
            sheet.cell(row=rows[code], column=header[VALUE_HEAD.format(n=n)], value=value)
    for code, note in (notes or {}).items():
        sheet.cell(row=rows[code], column=header["Ghi chú / Note"], value=note)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def answers_dump(store) -> list[tuple]:
    with store.reading() as session:
        rows = session.execute(select(Answer).order_by(Answer.id)).scalars().all()
        return [(a.id, a.indicator_code, json.dumps(a.self_value, sort_keys=True), a.self_points,
                 a.final_points, a.note, a.version, a.updated_by) for a in rows]


def audit_dump(store) -> list[tuple]:
    with store.reading() as session:
        return [(e.id, e.action, e.indicator_code) for e in
                session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def own_answers(store) -> dict[str, Answer]:
    with store.reading() as session:
        assessment = session.scalar(select(Assessment).join(EditionRow).where(
            EditionRow.code == EDITION, Assessment.province_code == OWN))
        return {a.indicator_code: a for a in session.scalars(
            select(Answer).where(Answer.assessment_id == assessment.id))}


def upload(client, csrf: str, data: bytes, name: str = "phieu.xlsx", json_reply: bool = False,
           base: str = BASE):
    headers = {"Accept": "application/json"} if json_reply else {}
    return client.post(f"{base}/import", data={"csrf": csrf}, headers=headers,
                       files={"file": (name, data, XLSX)})


def test_download_fill_dry_run_then_apply_all(world):
    client, csrf = client_for(world.store, "editor")
    template = client.get(f"{BASE}/template.xlsx")
    assert template.status_code == 200 and template.headers["content-type"] == XLSX
    assert f'filename="dti-{EDITION}-{OWN}.xlsx"' in template.headers["content-disposition"]
    items = [i for i in CATALOGUE.items[:8]]
    data = fill(template.content, {i.code: sample_values(i) for i in items},
                notes={items[0].code: "Theo Quyết định 12/QĐ-UBND"})
    before, audit_before = answers_dump(world.store), audit_dump(world.store)

    preview = upload(client, csrf, data)
    assert preview.status_code == 200, preview.text
    assert all(f'data-code="{i.code}"' in preview.text for i in items)
    assert 'class="count">8<' in preview.text
    assert answers_dump(world.store) == before and audit_dump(world.store) == audit_before
    as_json = upload(client, csrf, data, json_reply=True).json()
    assert [c["code"] for c in as_json["changes"]] == [i.code for i in items]
    assert as_json["stale"] == 0 and as_json["changes"][0]["before_points"] is None
    sha = re.search(r'name="sha256" value="([0-9a-f]{64})"', preview.text).group(1)
    assert sha == as_json["sha256"]
    assert (Path(world.store.evidence_dir) / "imports" / sha).is_file()

    applied = client.post(f"{BASE}/import/apply", data={"csrf": csrf, "sha256": sha,
                                                        "filename": "phieu.xlsx"},
                          follow_redirects=False)
    assert applied.status_code == 303 and applied.headers["location"] == f"{BASE}?imported=8"
    stored = own_answers(world.store)
    for item in items:
        raw = {f.name: str(v) for f, v in zip(item.rule.fields, sample_values(item).values())}
        expected = item.points(parse_answer(item, raw)[0])
        assert expected is not None
        assert (stored[item.code].self_points, stored[item.code].version) == (expected, 1)
    assert stored[items[0].code].note == "Theo Quyết định 12/QĐ-UBND"
    assert stored[CATALOGUE.items[20].code].version == 0
    with world.store.reading() as session:
        line = session.scalar(select(AuditEntry).where(AuditEntry.action == "import.apply"))
    assert line.after["sha256"] == sha and line.after["count"] == 8
    assert line.province_code == OWN and line.username == "editor"


def test_a_workbook_with_one_bad_row_is_refused_and_nothing_is_written(world):
    client, csrf = client_for(world.store, "editor")
    template = client.get(f"{BASE}/template.xlsx").content
    good = {i.code: sample_values(i) for i in CATALOGUE.items[:5] if i.rule.fields[0].kind == "number"}
    data = fill(template, {**good, "NTS.03": {1: "mười"}})
    before, audit_before = answers_dump(world.store), audit_dump(world.store)
    page = upload(client, csrf, data)
    assert page.status_code == 422
    assert 'data-code="answer.not_a_number"' in page.text
    assert re.search(r"<td>Trả lời</td><td>4</td><td>Giá trị 1 / Value 1</td><td><code>NTS.03", page.text)
    problems = upload(client, csrf, data, json_reply=True).json()["error"]["problems"]
    assert [(p["code"], p["row"], p["column"], p["indicator"]) for p in problems] == [
        ("answer.not_a_number", 4, "Trả lời!Giá trị 1 / Value 1", "NTS.03")]
    assert answers_dump(world.store) == before and audit_dump(world.store) == audit_before


def test_files_that_are_not_workbooks_or_too_large_are_refused(world, monkeypatch):
    client, csrf = client_for(world.store, "editor")
    csv = upload(client, csrf, "Mã,Giá trị 1\nNTS.03,5\n".encode(), name="phieu.xlsx",
                 json_reply=True)
    assert csv.status_code == 422
    assert csv.json()["error"]["problems"][0]["code"] == "import.not_xlsx"
    docx = upload(client, csrf, b"MZ\x90\x00" + b"\x00" * 64, name="phieu.xlsx")
    assert docx.status_code == 422 and "import.not_xlsx" in docx.text
    monkeypatch.setenv("DTI_EVIDENCE_MAX_BYTES", "1000")
    large = upload(client, csrf, client.get(f"{BASE}/template.xlsx").content, json_reply=True)
    assert large.json()["error"]["problems"][0]["code"] == "import.too_large"


def test_another_provinces_editor_is_refused_and_nothing_is_written(world):
    editor, _ = client_for(world.store, "editor")
    data = fill(editor.get(f"{BASE}/template.xlsx").content,
                {i.code: sample_values(i) for i in CATALOGUE.items[:3]})
    other, csrf = client_for(world.store, "other_editor")
    before = answers_dump(world.store)
    assert other.get(f"{BASE}/template.xlsx").status_code == 403
    assert upload(other, csrf, data).status_code == 403
    assert upload(other, csrf, data, json_reply=True).json()["error"]["status"] == 403
    # their own province's import page refuses the other province's workbook, located
    refused = upload(other, csrf, data, json_reply=True, base=f"/app/{EDITION}/01")
    assert refused.status_code == 422
    assert {p["code"] for p in refused.json()["error"]["problems"]} == {"import.wrong_province"}
    assert answers_dump(world.store) == before


def test_a_stale_import_is_refused_with_409_and_nothing_is_written(world):
    client, csrf = client_for(world.store, "editor")
    template = client.get(f"{BASE}/template.xlsx").content
    items = [i for i in CATALOGUE.items[:6]]
    data = fill(template, {i.code: sample_values(i) for i in items})
    with world.store.transaction() as session:   # someone saves NTS.03 after the download
        changes.save_answer(session, world.actors["editor"], EDITION, OWN, "NTS.03",
                                {"x": "1"}, expected_version=0)
    before, audit_before = answers_dump(world.store), audit_dump(world.store)
    preview = upload(client, csrf, data)
    assert preview.status_code == 200
    assert re.search(r'data-code="NTS.03" class="stale"', preview.text)
    assert "/import/apply" not in preview.text
    sha = upload(client, csrf, data, json_reply=True).json()["sha256"]
    refused = client.post(f"{BASE}/import/apply", data={"csrf": csrf, "sha256": sha},
                          headers={"Accept": "application/json"})
    assert refused.status_code == 409
    assert [s["indicator"] for s in refused.json()["error"]["stale"]] == ["NTS.03"]
    assert answers_dump(world.store) == before and audit_dump(world.store) == audit_before


def test_apply_needs_the_csrf_token_and_a_kept_file(world):
    client, csrf = client_for(world.store, "editor")
    assert client.post(f"{BASE}/import/apply", data={"csrf": "x", "sha256": "0" * 64}).status_code == 403
    missing = client.post(f"{BASE}/import/apply", data={"csrf": csrf, "sha256": "../../etc"},
                          headers={"Accept": "application/json"})
    assert missing.status_code == 404


# -- a real server killed in the middle of an import ---------------------------------------------

SERVER = """
import socket, sys, uvicorn
from dti.web.app import create_app
from dti.web.settings import Settings
app = create_app(Settings(database_url=sys.argv[1], evidence_dir=sys.argv[2]))
listening = socket.socket(fileno=int(sys.argv[3]))   # bound by the test: no port to race for
uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[listening])
"""


def start_server(store, hold: Path | None = None) -> tuple[subprocess.Popen, str]:
    """A server process on a socket the test has already bound; with ``hold``, imports stop
    after each saved row until that file is removed (``DTI_IMPORT_HOLD_FILE``)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    env = {k: v for k, v in os.environ.items() if k != "DTI_IMPORT_HOLD_FILE"}
    if hold is not None:
        env["DTI_IMPORT_HOLD_FILE"] = str(hold)
    with sock:
        process = subprocess.Popen([sys.executable, "-c", SERVER, store.url, str(store.evidence_dir),
                                    str(sock.fileno())], env=env, pass_fds=[sock.fileno()])
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/app/login", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("the server did not start")


def held_at(marker: Path, rows: int, process: subprocess.Popen) -> None:
    """Let the import go on row by row until ``rows`` are saved (not committed), then return
    with the server stopped there."""
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None and time.monotonic() < deadline, "the import never got there"
        if marker.exists() and int(marker.read_text(encoding="ascii")) >= rows:
            return
        if marker.exists():
            marker.unlink()                  # one more row
        time.sleep(0.01)


def test_killing_the_server_mid_import_leaves_the_database_as_before(world, tmp_path):
    hold = tmp_path / "import-hold"
    process, url = start_server(world.store, hold)
    try:
        client = httpx.Client(base_url=url, timeout=30)
        login(client, "editor")
        csrf = csrf_of(client, "editor")
        template = client.get(f"{BASE}/template.xlsx").content
        items = [i for i in CATALOGUE.items[:30]]
        sha = upload(client, csrf, fill(template, {i.code: sample_values(i) for i in items}),
                     json_reply=True).json()["sha256"]
        before, audit_before = answers_dump(world.store), audit_dump(world.store)
        outcome: dict[str, object] = {}

        def apply() -> None:
            try:
                outcome["response"] = client.post(f"{BASE}/import/apply",
                                                  data={"csrf": csrf, "sha256": sha})
            except httpx.TransportError as exc:
                outcome["error"] = exc

        worker = threading.Thread(target=apply)
        worker.start()
        held_at(hold, 15, process)           # 15 of the 30 rows saved, none committed
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
        worker.join(10)
    finally:
        if process.poll() is None:
            process.kill()
    assert "response" not in outcome and isinstance(outcome.get("error"), httpx.TransportError)
    assert answers_dump(world.store) == before
    assert audit_dump(world.store) == audit_before
    assert all(a.version == 0 for a in own_answers(world.store).values())

    process, url = start_server(world.store)   # the database still works
    try:
        client = httpx.Client(base_url=url, timeout=30)
        login(client, "editor")
        csrf = csrf_of(client, "editor")
        done = client.post(f"{BASE}/import/apply", data={"csrf": csrf, "sha256": sha},
                           headers={"Accept": "application/json"})
        assert done.status_code == 200 and done.json()["applied"] == 30
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)
    stored = own_answers(world.store)
    assert sum(a.version == 1 for a in stored.values()) == 30


def test_previewed_workbooks_never_applied_are_cleared_after_two_days(store):
    import os
    import time

    from dti.web.assessment.excel import KEEP_PREVIEWS, _keep

    folder = store.evidence_dir / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    stale, recent = folder / ("a" * 64), folder / ("b" * 64)
    stale.write_bytes(b"old"), recent.write_bytes(b"new")
    os.utime(stale, (time.time() - KEEP_PREVIEWS - 60,) * 2)
    kept = _keep(store, b"PK\x03\x04 a new workbook")
    assert not stale.exists() and recent.exists() and (folder / kept).exists()
