"""Workbook bombs: every XLSX the package reads is refused, quickly and in little memory, when it
unpacks to far more than a DTI workbook can hold — through the library, the app and the CLI.

The bombs are real XLSX files: a real workbook with one sheet's XML replaced by a long run of rows
streamed into the archive, so building them stays fast.  Time and memory are measured in a fresh
Python process (``ru_maxrss`` after against before the call), so nothing else in the test run
blurs the figures.
"""

from __future__ import annotations

import io
import json
import re
import struct
import subprocess
import sys
import warnings
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dti.cli import main
from dti.errors import CatalogueError
from dti.io.assessment_xlsx import ANSWERS, ROW_HEADROOM, read_import, template
from dti.scoring import catalogue_from_bytes, illustrative_catalogue, write_catalogue_xlsx
from dti.store.models import EditionRow
from dti.web.app import create_app
from dti.web.settings import Settings
from dti.workbook_limits import MAX_TABLE_ROWS, MAX_UNPACKED_BYTES, MIB
from assessment_support import EDITION, OWN, login

CATALOGUE = illustrative_catalogue()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TOO_LARGE = "file.workbook_too_large"
COVER_PART, ANSWERS_PART = "xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"
TABLE_PART = "xl/worksheets/sheet1.xml"
SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns='
              b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
SHEET_TAIL = b"</sheetData></worksheet>"


def assessment_workbook() -> bytes:
    return template(CATALOGUE, EDITION, OWN, "Đà Nẵng", {}, {})


def catalogue_workbook() -> bytes:
    out = io.BytesIO()
    write_catalogue_xlsx(CATALOGUE, out)
    return out.getvalue()


def with_sheet(base: bytes, part: str, rows: Callable[[], Iterator[bytes]], level: int = 6) -> bytes:
    """``base`` with the XML of one sheet replaced by ``rows``, streamed into the archive."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as target:
        for info in source.infolist():
            if info.filename != part:
                target.writestr(info.filename, source.read(info.filename))
                continue
            with target.open(part, "w", force_zip64=True) as sheet:
                sheet.write(SHEET_HEAD)
                for chunk in rows():
                    sheet.write(chunk)
                sheet.write(SHEET_TAIL)
    return out.getvalue()


def zeros(megabytes: int) -> Callable[[], Iterator[bytes]]:
    """The same row again and again: DEFLATE packs it about 400 times."""
    chunk = b'<row><c t="n"><v>0</v></c></row>' * 32768   # 1 MiB
    return lambda: (chunk for _ in range(megabytes))


def numbered_rows(count: int, row: bytes) -> Callable[[], Iterator[bytes]]:
    """``count`` rows from a template with ``%d`` placeholders, in batches of 10,000."""
    fields = row.count(b"%d")

    def rows() -> Iterator[bytes]:
        for start in range(1, count + 1, 10_000):
            yield b"".join(row % ((n,) * fields) for n in range(start, min(start + 10_000, count + 1)))
    return rows


# the million rows of the issue: a code and a number per row (~11 MB packed)
MILLION = (b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>NTS.%d</t></is></c><c r="B%d"><v>%d</v>'
           b'</c></row>')
# rows as short as openpyxl reads them: a million fit under the unpacked-size limit
COMPACT = b"<row><c><v>%d</v></c></row>"


def one_wide_row() -> Iterator[bytes]:
    """One row of 1.5 million cells (27 MB unpacked, under the limit): openpyxl alone builds
    the whole row, 800 MB, before handing it over."""
    yield b'<row r="1">'
    for start in range(0, 1_500_000, 10_000):
        yield b"".join(b"<c><v>%d</v></c>" % n for n in range(start, start + 10_000))
    yield b"</row>"


def column_flood() -> Iterator[bytes]:
    """700,000 column widths before the rows (28 MB unpacked): no cell, but as many elements."""
    yield b"</sheetData><cols>"
    for start in range(1, 700_001, 10_000):
        yield b"".join(b'<col min="%d" max="%d" width="9"/>' % (n, n) for n in range(start, start + 10_000))
    yield b"</cols><sheetData>"


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    made = {
        "import-zeros": with_sheet(assessment_workbook(), ANSWERS_PART, zeros(420), level=9),
        "import-million": with_sheet(assessment_workbook(), ANSWERS_PART,
                                     numbered_rows(1_000_000, MILLION)),
        "import-compact": with_sheet(assessment_workbook(), ANSWERS_PART,
                                     numbered_rows(1_000_000, COMPACT)),
        "import-wide-cover": with_sheet(assessment_workbook(), COVER_PART, one_wide_row),
        "catalogue-wide": with_sheet(catalogue_workbook(), TABLE_PART, one_wide_row),
        "catalogue-columns": with_sheet(catalogue_workbook(), TABLE_PART, column_flood),
        "catalogue-zeros": with_sheet(catalogue_workbook(), TABLE_PART, zeros(420), level=9),
        "catalogue-compact": with_sheet(catalogue_workbook(), TABLE_PART,
                                        numbered_rows(MAX_TABLE_ROWS + 10, COMPACT)),
    }
    paths = {}
    for name, data in made.items():
        paths[name] = folder / f"{name}.xlsx"
        paths[name].write_bytes(data)
    return paths


def unpacked(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        return sum(i.file_size for i in archive.infolist())


def test_the_bombs_are_what_the_issue_describes(bombs):
    zero = bombs["import-zeros"]
    assert zero.stat().st_size < 1.5 * MIB and unpacked(zero) >= 400 * 10**6
    million = bombs["import-million"]
    assert million.stat().st_size < 20 * MIB and unpacked(million) > MAX_UNPACKED_BYTES
    # the compact million passes the archive check: only the row limit can stop it
    assert unpacked(bombs["import-compact"]) < MAX_UNPACKED_BYTES


PROBE = r"""
import json, sys, time
from pathlib import Path

from dti.errors import CatalogueError
from dti.io.assessment_xlsx import read_import, template
from dti.scoring import catalogue_from_bytes, illustrative_catalogue

kind, path = sys.argv[1], Path(sys.argv[2])
catalogue = illustrative_catalogue()
edition, province = "dti-test-2022", "48"


def parse(data, name):
    if kind == "import":
        return read_import(data, name, catalogue, edition, province)[1]
    try:
        catalogue_from_bytes(data, name)
    except CatalogueError as exc:
        return exc.problems
    return []


parse(template(catalogue, edition, province, "Đà Nẵng", {}, {}), "warm.xlsx")  # load every module
data = path.read_bytes()


def kilobytes(field):
    with open("/proc/self/status") as status:
        return int(next(l for l in status if l.startswith(field)).split()[1])


before = kilobytes("VmRSS:")
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")   # the peak (VmHWM) starts again from the resident size now
start, cpu = time.perf_counter(), time.process_time()
problems = parse(data, path.name)
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
rise = kilobytes("VmHWM:") - before
print(json.dumps({"seconds": elapsed, "cpu_seconds": cpu, "rise_mb": rise / 1024,
                  "problems": [[p.code, p.message, p.file] for p in problems]}))
"""


def probe(kind: str, path: Path) -> dict:
    """Parse ``path`` in a fresh process: seconds (wall and CPU), peak resident memory rise
    (MB) and the problems.

    The process may take 1.5 GiB of address space past its start, so an unguarded parse fails
    there instead of swapping the machine."""
    limit = ("import resource, os\n"
             "vm = int(next(l for l in open('/proc/self/status') if l.startswith('VmSize')).split()[1])\n"
             "resource.setrlimit(resource.RLIMIT_AS, ((vm + 1536 * 1024) * 1024,) * 2)\n")
    done = subprocess.run([sys.executable, "-c", limit + PROBE, kind, str(path)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("kind, bomb", [("import", "import-zeros"), ("import", "import-million"),
                                        ("import", "import-compact"),
                                        ("import", "import-wide-cover"),
                                        ("catalogue", "catalogue-wide"),
                                        ("catalogue", "catalogue-columns"),
                                        ("catalogue", "catalogue-zeros"),
                                        ("catalogue", "catalogue-compact")])
def test_a_bomb_is_refused_within_a_second_in_little_memory(bombs, kind, bomb):
    result = probe(kind, bombs[bomb])
    print(bomb, f"{result['seconds']:.3f} s", f"{result['cpu_seconds']:.3f} s CPU",
          f"{result['rise_mb']:.1f} MB")
    assert [p[0] for p in result["problems"]] == [TOO_LARGE]
    code, message, where = result["problems"][0]
    assert message.startswith("the workbook is too large to read") and "try again" in message
    assert where.startswith(bombs[bomb].name)
    # CPU time: the wall clock of a shared two-core machine measures the neighbours too
    assert result["cpu_seconds"] < 1.0, result
    assert result["rise_mb"] < 100, result


def test_the_refusal_names_the_limit_and_the_sheet(bombs):
    zero = bombs["import-zeros"]
    rows, problems = read_import(zero.read_bytes(), zero.name, CATALOGUE, EDITION, OWN)
    assert rows == [] and len(problems) == 1
    assert "unpacks to" in problems[0].message and "32 MB" in problems[0].message
    compact = bombs["import-compact"]
    rows, problems = read_import(compact.read_bytes(), compact.name, CATALOGUE, EDITION, OWN)
    assert rows == [] and len(problems) == 1
    assert problems[0].file == f"{compact.name}[{ANSWERS}]"
    assert f"more than {len(CATALOGUE.items) + 1 + ROW_HEADROOM:,} rows" in problems[0].message


def test_a_real_workbook_a_little_over_the_catalogue_still_reads():
    # blank rows past the catalogue (a user's stray formatting) are not a bomb
    data = assessment_workbook()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read(ANSWERS_PART)
    filled = sheet.split(b"<sheetData>")[1].split(b"</sheetData>")[0]
    last = len(CATALOGUE.items) + 1
    blank = b"".join(b'<row r="%d"/>' % n for n in range(last + 1, last + 1 + ROW_HEADROOM))
    padded = with_sheet(data, ANSWERS_PART, lambda: iter([filled, blank]))
    found, problems = read_import(padded, "phieu.xlsx", CATALOGUE, EDITION, OWN)
    assert problems == [] and found == []
    # one row more is refused
    more = blank + b'<row r="%d"/>' % (last + 1 + ROW_HEADROOM)
    padded = with_sheet(data, ANSWERS_PART, lambda: iter([filled, more]))
    found, problems = read_import(padded, "phieu.xlsx", CATALOGUE, EDITION, OWN)
    assert [p.code for p in problems] == [TOO_LARGE]


def test_a_row_padded_to_the_last_column_counts_every_cell():
    # each row names a cell in column XFD: read, it is 16,384 cells wide
    wide = numbered_rows(100, b'<row r="%d"><c r="XFD%d"><v>1</v></c></row>')
    data = with_sheet(catalogue_workbook(), TABLE_PART, wide)
    with pytest.raises(CatalogueError) as refused:
        catalogue_from_bytes(data, "wide.xlsx")
    assert [p.code for p in refused.value.problems] == [TOO_LARGE]
    assert "more than 50,000 cells" in refused.value.problems[0].message


def declare(data: bytes, part: str, size: int) -> bytes:
    """``data`` with the unpacked size of ``part`` rewritten to ``size`` in both headers."""
    name = part.encode()
    central = data.index(b"PK\x01\x02")
    while data[central + 46:central + 46 + len(name)] != name:
        central = data.index(b"PK\x01\x02", central + 4)
    local = struct.unpack("<I", data[central + 42:central + 46])[0]
    out = bytearray(data)
    out[central + 24:central + 28] = struct.pack("<I", size)
    out[local + 22:local + 26] = struct.pack("<I", size)
    return bytes(out)


def test_a_part_that_lies_about_its_size_is_read_no_further_than_it_says():
    honest = with_sheet(catalogue_workbook(), TABLE_PART, numbered_rows(300_000, COMPACT))
    lying = declare(honest, TABLE_PART, 4096)
    with zipfile.ZipFile(io.BytesIO(lying)) as archive:
        assert archive.getinfo(TABLE_PART).file_size == 4096
    with pytest.raises(CatalogueError) as refused:
        catalogue_from_bytes(lying, "lying.xlsx")
    assert [p.code for p in refused.value.problems] == ["file.bad_xlsx"]


def with_part(base: bytes, name: str, content: bytes = b"<x/>") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # a duplicate name is what some of the tests send
            target.writestr(zipfile.ZipInfo(name), content)
    return out.getvalue()


@pytest.mark.parametrize("name", ["../../etc/cron.d/x", "/abs.xml", "xl\\worksheets\\s.xml",
                                  "C:/x.xml", "xl/a\x1bb.xml", "xl/workbook.xml"])
def test_a_part_with_a_name_no_spreadsheet_writes_is_refused_unread(name):
    data = with_part(catalogue_workbook(), name)
    with pytest.raises(CatalogueError) as refused:
        catalogue_from_bytes(data, "odd.xlsx")
    problem = refused.value.problems[0]
    assert problem.code == "file.bad_xlsx" and "no spreadsheet program writes" in problem.message
    rows, problems = read_import(with_part(assessment_workbook(), name), "odd.xlsx", CATALOGUE,
                                 EDITION, OWN)
    assert [p.code for p in problems] == ["file.bad_xlsx"]


def test_too_many_parts_or_a_huge_shared_part_are_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(catalogue_workbook())) as source, \
            zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))
        for n in range(1_001):
            target.writestr(f"xl/media/image{n}.png", b"")
    rows, problems = read_import(out.getvalue(), "parts.xlsx", CATALOGUE, EDITION, OWN)
    assert [p.code for p in problems] == [TOO_LARGE] and "1,010 parts" in problems[0].message
    strings = with_part(catalogue_workbook(), "xl/sharedStrings.xml",
                        b"".join(b"<si><t>%d</t></si>" % n for n in range(700_000)))
    with pytest.raises(CatalogueError) as refused:
        catalogue_from_bytes(strings, "strings.xlsx")
    assert [p.code for p in refused.value.problems] == [TOO_LARGE]
    assert "'xl/sharedStrings.xml'" in refused.value.problems[0].message


# -- through the app and the CLI ---------------------------------------------------------------


def signed_in(store, username: str) -> tuple[TestClient, str]:
    client = TestClient(create_app(Settings(), store=store))
    csrf = login(client, username)
    return client, csrf


def import_csrf(client) -> str:
    page = client.get(f"/app/{EDITION}/{OWN}/import")
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def written(store) -> tuple:
    from dti.store.models import Answer, AuditEntry

    with store.reading() as session:
        answers = session.execute(select(Answer.id, Answer.version, Answer.self_value)).all()
        audit = session.scalar(select(func.count()).select_from(AuditEntry))
        editions = session.scalar(select(func.count()).select_from(EditionRow))
    kept = Path(store.evidence_dir) / "imports"
    return sorted(map(tuple, answers)), audit, editions, sorted(kept.glob("*")) if kept.exists() else []


@pytest.mark.parametrize("bomb", ["import-zeros", "import-million", "import-compact"])
def test_the_app_refuses_a_bomb_upload_and_writes_nothing(world, bombs, bomb):
    client, _ = signed_in(world.store, "editor")
    csrf = import_csrf(client)
    before = written(world.store)
    data = bombs[bomb].read_bytes()
    reply = client.post(f"/app/{EDITION}/{OWN}/import", data={"csrf": csrf},
                        headers={"Accept": "application/json"},
                        files={"file": ("phieu.xlsx", data, XLSX)})
    assert reply.status_code == 422
    problems = reply.json()["error"]["problems"]
    assert [p["code"] for p in problems] == [TOO_LARGE]
    assert problems[0]["file"].startswith("phieu.xlsx")
    page = client.post(f"/app/{EDITION}/{OWN}/import", data={"csrf": csrf},
                       files={"file": ("phieu.xlsx", data, XLSX)})
    assert page.status_code == 422 and f'data-code="{TOO_LARGE}"' in page.text
    assert "quá lớn" in page.text   # the officer reads it in Vietnamese
    assert written(world.store) == before


@pytest.mark.parametrize("bomb", ["catalogue-zeros", "catalogue-compact"])
def test_the_admin_catalogue_upload_refuses_a_bomb_and_creates_nothing(world, bombs, bomb):
    admin, csrf = signed_in(world.store, "admin")
    before = written(world.store)
    reply = admin.post("/app/admin/editions/new", headers={"Accept": "application/json"}, data={
        "csrf": csrf, "code": "dti-2023", "year": "2023", "name_vi": "Kỳ 2023", "name_en": "2023",
        "source": "upload"}, files={"catalogue": ("catalogue.xlsx", bombs[bomb].read_bytes(), XLSX)})
    assert reply.status_code == 422
    problems = reply.json()["error"]["problems"]
    assert [p["code"] for p in problems] == [TOO_LARGE]
    assert problems[0]["file"].startswith("catalogue.xlsx")
    assert written(world.store) == before


def test_the_cli_prints_one_line_and_exits_1(bombs, tmp_path, capsys):
    for bomb in ("catalogue-zeros", "catalogue-compact"):
        assert main(["validate", str(bombs[bomb]), "--edition", "dti-province-2022"]) == 1
        out, err = capsys.readouterr()
        assert err.count("\n") == 1 and TOO_LARGE in err and bombs[bomb].name in err
        assert "Traceback" not in out + err
    for bomb in ("import-zeros", "import-compact"):
        assert main(["plan", "answers", "48", "--workbook", str(bombs[bomb]),
                     "--set", f"{CATALOGUE.items[0].code}.a=3", "--demo"]) == 1
        out, err = capsys.readouterr()
        assert err.count("\n") == 1 and TOO_LARGE in err and bombs[bomb].name in err
