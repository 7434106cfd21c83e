"""The assessment workbook: one province's answers as an XLSX to fill offline, and reading it back.

:func:`template` writes three sheets (layout in ``docs/formats.md``, "Assessment workbook"):

* ``Hướng dẫn`` — instructions (Vietnamese, then English) and the fixed, protected cells the
  import checks: edition code (B4), province code (B5), province name (B6).
* ``Trả lời`` — one row per sub-indicator: code, STT, main indicator, name, max points, rule,
  what to enter, then generic value columns (``Giá trị 1 / Value 1`` …, one per field of the
  rule, in the rule's order), a note and the answer's stored version (grey, hidden) that tells a
  stale import apart.  Prefilled with the current answers; drop-down lists on choice and yes/no
  cells, "decimal ≥ 0" on number cells.
* ``Danh sách`` — the option labels the drop-down lists use.

:func:`read_import` reads a filled workbook back into :class:`ImportRow` values and collects
every :class:`~dti.errors.Problem`, located by ``file``, spreadsheet ``row``, ``column`` written
as ``"Sheet!Header"`` (or ``"Sheet!B5"`` for a fixed cell) and ``indicator``; it never raises on
a bad file.  Fields are read with :func:`dti.scoring.parse_answer`, the same rules as the web
form.  A blank answer cell means "leave unchanged".

Pure: openpyxl and :mod:`dti.scoring` only; no database, no web.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dti.errors import Problem, UnknownUnitError
from dti.scoring import ScoringCatalogue, SubIndicator, parse_answer
from dti.scoring.text import nfc
from dti.units import UnitSet, load_unit_set
from dti.units.bodies import is_body_code
from dti.workbook_limits import open_workbook, read_rows

COVER, ANSWERS, LISTS = "Hướng dẫn", "Trả lời", "Danh sách"
EDITION_CELL, CODE_CELL, NAME_CELL = "B4", "B5", "B6"
FORMAT_ID = "dti-assessment-workbook/1"
YES, NO = "Có", "Không"
HEAD = {"code": "Mã / Code", "number": "STT", "main": "Chỉ số chính / Main indicator",
        "name": "Chỉ số thành phần / Sub-indicator", "max": "Điểm tối đa / Max points",
        "rule": "Cách tính điểm / Scoring rule", "fields": "Cần nhập / To enter",
        "note": "Ghi chú / Note", "version": "Phiên bản (không sửa) / Version (do not edit)"}
VALUE_HEAD = "Giá trị {n} / Value {n}"
_VALUE_RE = re.compile(r"^Giá trị (\d+)\b")
FIXED_TIME = datetime(2000, 1, 1)
ROW_HEADROOM = 2_000   # rows past one per sub-indicator the answers sheet may hold (stray formatting)
COVER_CELLS = 10_000   # cells of the cover's first six rows (the template has 12)
MAX_COLUMNS = 32       # cells per row on average; the template has 7 + value columns + 2
KIND_WORDS = {"number": "số ≥ 0 / number ≥ 0", "yesno": "Có/Không", "choice": "chọn / pick"}


@dataclass(frozen=True)
class ImportRow:
    """One filled row: the non-blank answer cells by field name, as text."""

    code: str
    raw: dict[str, str]
    note: str | None
    version: int | None
    sheet: str
    row: int


# -- writing ------------------------------------------------------------------------------------


def template(catalogue: ScoringCatalogue, edition_code: str, province_code: str,
             province_name: str, answers: Mapping[str, dict | None],
             versions: Mapping[str, int]) -> bytes:
    """The workbook for one province, prefilled with ``answers``; the same bytes for the same input."""
    import openpyxl

    book = openpyxl.Workbook()
    _cover(book.active, catalogue, edition_code, province_code, province_name)
    lists = book.create_sheet(LISTS)
    ranges = _lists(lists, catalogue)
    _answers(book.create_sheet(ANSWERS, 1), catalogue, answers, versions, ranges)
    book.active = 1
    book.properties.creator = "DTI"
    book.properties.created = book.properties.modified = FIXED_TIME
    return _fixed_zip(_save(book))


def _cover(sheet, catalogue: ScoringCatalogue, edition: str, code: str, name: str) -> None:
    from openpyxl.styles import Font

    sheet.title = COVER
    body = is_body_code(code)   # a ministry's or government body's workbook, not a province's
    sheet["A1"] = ("Phiếu tự đánh giá chỉ số chuyển đổi số (DTI) cấp bộ / Ministry DTI self-assessment"
                   if body else "Phiếu tự đánh giá chỉ số chuyển đổi số cấp tỉnh (DTI) / DTI self-assessment")
    sheet["A1"].font = Font(bold=True, size=14)
    if catalogue.illustrative:
        sheet["A2"] = ("MINH HOẠ — bộ chỉ số thành phần minh hoạ, không phải bộ chỉ số chính thức / "
                       "ILLUSTRATIVE — an illustrative catalogue, not the official one")
        sheet["A2"].font = Font(bold=True, color="B00020")
    for cell, label, value in (("4", "Mã kỳ đánh giá / Edition", edition),
                               ("5", "Mã bộ, cơ quan / Body code" if body else "Mã tỉnh / Province code", code),
                               ("6", "Tên bộ, cơ quan / Ministry or body" if body else "Tên tỉnh / Province",
                                name),
                               ("7", "Định dạng / Format", FORMAT_ID)):
        sheet[f"A{cell}"] = label
        sheet[f"B{cell}"] = value
        sheet[f"B{cell}"].number_format = "@"
        sheet[f"B{cell}"].font = Font(bold=True)
    lines = [
        "Hướng dẫn",
        f"1. Nhập câu trả lời vào sheet “{ANSWERS}”, cột “Giá trị 1”, “Giá trị 2”… theo cột “Cần nhập”.",
        "2. Số viết 1.234,5 hoặc 1234.5; Có/Không và lựa chọn chọn từ danh sách thả xuống.",
        "3. Ô để trống: giữ nguyên câu trả lời hiện có. Không sửa mã, phiên bản và các ô B4–B6.",
        "4. Tải tệp lên trang “Nhập từ Excel”: hệ thống kiểm tra và cho xem trước mọi thay đổi; "
        "chỉ khi bạn xác nhận mới lưu — lưu tất cả hoặc không lưu gì.",
        "5. Điểm do hệ thống tính từ câu trả lời, không nhập điểm.",
        "",
        "Instructions",
        f"1. Type the answers in the “{ANSWERS}” sheet, columns “Value 1”, “Value 2”… as “To enter” says.",
        "2. Numbers as 1.234,5 or 1234.5; pick Có (yes)/Không (no) and options from the drop-down lists.",
        "3. A blank cell keeps the current answer. Do not change the codes, versions or cells B4–B6.",
        "4. Upload the file on the “Import from Excel” page: it is checked and every change is shown "
        "first; nothing is saved until you confirm, and then everything or nothing is saved.",
        "5. Points are computed from the answers; do not type points.",
    ]
    for i, line in enumerate(lines, start=9):
        sheet[f"A{i}"] = line
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 40
    sheet.protection.sheet = True   # the checked cells stay as written


def _lists(sheet, catalogue: ScoringCatalogue) -> dict[str, str]:
    """Write the yes/no and option lists; the range formula of each list by item code (and "")."""
    from openpyxl.styles import Font

    sheet.append(["Mã / Code", "Lựa chọn / Option", "Tỷ lệ điểm / Fraction of max"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.append(["", YES, 1])
    sheet.append(["", NO, 0])
    ranges = {"": f"'{LISTS}'!$B$2:$B$3"}
    for item in catalogue.items:
        for field in item.rule.fields:
            if field.kind != "choice":
                continue
            first = sheet.max_row + 1
            for option in field.options:
                sheet.append([item.code, option.label, option.fraction])
            ranges[item.code] = f"'{LISTS}'!$B${first}:$B${sheet.max_row}"
    sheet.column_dimensions["B"].width = 48
    sheet.protection.sheet = True
    return ranges


def value_columns(catalogue: ScoringCatalogue) -> int:
    return max([2, *(len(i.rule.fields) for i in catalogue.items)])


def _answers(sheet, catalogue: ScoringCatalogue, answers: Mapping[str, dict | None],
             versions: Mapping[str, int], ranges: Mapping[str, str]) -> None:
    from openpyxl.styles import Font, PatternFill, Protection
    from openpyxl.worksheet.datavalidation import DataValidation

    n = value_columns(catalogue)
    header = [HEAD[k] for k in ("code", "number", "main", "name", "max", "rule", "fields")]
    header += [VALUE_HEAD.format(n=i + 1) for i in range(n)] + [HEAD["note"], HEAD["version"]]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    mains = {m.code: m.name_vi for m in catalogue.mains}
    grey = PatternFill("solid", fgColor="DDDDDD")
    yes_no = DataValidation(type="list", formula1=ranges[""], allow_blank=True)
    decimal = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0",
                             allow_blank=True, error="Nhập một số ≥ 0 / Enter a number ≥ 0")
    choices: dict[str, Any] = {}
    for r, item in enumerate(catalogue.items, start=2):
        answer = answers.get(item.code) or {}
        values = [_cell_value(f, answer.get(f.name)) for f in item.rule.fields]
        sheet.append([item.code, item.number, mains.get(item.main_code, item.main_code),
                      item.name_vi, item.max_points, item.rule.text, _to_enter(item),
                      *values, *([None] * (n - len(values))),
                      None, versions.get(item.code, 0)])
        for i, field in enumerate(item.rule.fields):
            cell = sheet.cell(row=r, column=8 + i)
            cell.protection = Protection(locked=False)
            if field.kind == "number":
                decimal.add(cell)
            elif field.kind == "yesno":
                yes_no.add(cell)
            else:
                if item.code not in choices:
                    choices[item.code] = DataValidation(type="list", formula1=ranges[item.code],
                                                        allow_blank=True)
                choices[item.code].add(cell)
        for i in range(len(item.rule.fields), n):
            sheet.cell(row=r, column=8 + i).fill = grey
        sheet.cell(row=r, column=8 + n).protection = Protection(locked=False)
        sheet.cell(row=r, column=9 + n).fill = grey
    for validation in (yes_no, decimal, *choices.values()):
        sheet.add_data_validation(validation)
    _layout(sheet, n)


def _layout(sheet, n: int) -> None:
    from openpyxl.utils import get_column_letter

    for column, width in zip("ABCDEFG", (10, 6, 22, 48, 10, 40, 44)):
        sheet.column_dimensions[column].width = width
    for i in range(n + 1):
        sheet.column_dimensions[get_column_letter(8 + i)].width = 22
    sheet.column_dimensions[get_column_letter(9 + n)].hidden = True
    sheet.freeze_panes = "H2"
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False   # widths may change; cells outside inputs may not


def _to_enter(item: SubIndicator) -> str:
    return "; ".join(f"{i}: {f.label_vi} ({KIND_WORDS[f.kind]})"
                     for i, f in enumerate(item.rule.fields, start=1))


def _cell_value(field, value: Any) -> Any:
    if value is None:
        return None
    if field.kind == "yesno":
        return YES if value else NO
    if field.kind == "choice":
        return next((o.label for o in field.options if o.key == value), str(value))
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _save(book) -> bytes:
    from openpyxl.writer.excel import ExcelWriter

    buffer = io.BytesIO()
    archive = zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED)
    ExcelWriter(book, archive).save()   # unlike Workbook.save, keeps the fixed "modified" time
    return buffer.getvalue()


def _fixed_zip(data: bytes) -> bytes:
    """The same archive with fixed entry times, so equal input gives equal bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()


# -- reading ------------------------------------------------------------------------------------


def read_import(data: bytes, filename: str, catalogue: ScoringCatalogue, edition_code: str,
                province_code: str, unit_set: UnitSet | None = None
                ) -> tuple[list[ImportRow], list[Problem]]:
    """The filled rows of a workbook and every problem found in it (never raises on bad input).

    ``unit_set`` names the provinces a cover sheet may name (default: the 63 provinces).
    """
    book, problem = _open(data, filename)
    if book is None:
        return [], [problem]
    try:
        return _read_book(book, filename, catalogue, edition_code, province_code, unit_set)
    except Exception as exc:  # noqa: BLE001 — a damaged sheet fails while its rows are read
        return [], [_damaged(filename, exc)]
    finally:
        book.close()   # a read-only book holds the archive open


def _read_book(book, filename: str, catalogue: ScoringCatalogue, edition_code: str,
               province_code: str, unit_set: UnitSet | None
               ) -> tuple[list[ImportRow], list[Problem]]:
    problems: list[Problem] = []
    names = set(book.sheetnames)
    for sheet in (COVER, ANSWERS):
        if sheet not in names:
            problems.append(Problem("import.missing_sheet", f"the workbook has no sheet "
                                    f"“{sheet}”; download a new template and copy the answers "
                                    "into it", file=filename, column=sheet))
    rows: list[ImportRow] = []
    found: list[Problem] = []
    if ANSWERS in names:
        rows, found = _read_answers(book[ANSWERS], filename, catalogue)
        if any(p.code == "file.workbook_too_large" for p in found):
            return [], found   # one clear refusal, not a list of side effects
    if COVER in names:
        cover, refused = _cover_cells(book[COVER], filename)
        if refused is not None:
            return [], [refused]
        problems += _check_cover(cover, filename, edition_code, province_code,
                                 unit_set or load_unit_set("provinces-63"))
    return rows, problems + found


def _cover_cells(sheet, filename: str) -> tuple[dict[str, Any], Problem | None]:
    """The cover cells the import checks (B4–B6) by reference, reading no further than row 6."""
    rows, refused = read_rows(sheet, filename, max_cells=COVER_CELLS, first=6)
    cells = {}
    for ref in (EDITION_CELL, CODE_CELL, NAME_CELL):
        number = int(ref[1:])
        row = rows[number - 1] if number <= len(rows) else ()
        cells[ref] = row[1] if len(row) > 1 else None   # column B
    return cells, refused


def edition_of(data: bytes, filename: str) -> str:
    """The edition code on the cover sheet (cell B4), or "" when the workbook cannot say;
    :func:`read_import` then says why, located."""
    book, _ = _open(data, filename)
    if book is None:
        return ""
    try:
        if COVER not in book.sheetnames:
            return ""
        return _text(_cover_cells(book[COVER], filename)[0][EDITION_CELL])
    except Exception:   # noqa: BLE001 — a damaged cover: read_import reports it
        return ""
    finally:
        book.close()


def _open(data: bytes, filename: str):
    """(read-only book, None) or (None, problem); the archive is checked before it is parsed."""
    not_xlsx = Problem("import.not_xlsx", "the file is not an Excel workbook (.xlsx); open it in "
                       "Excel or LibreOffice and save it as “Excel Workbook (.xlsx)”", file=filename)
    if not data.startswith(b"PK\x03\x04"):
        return None, not_xlsx
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if not any(n.startswith("xl/") for n in archive.namelist()):
                return None, not_xlsx
        return open_workbook(data, filename)
    except Exception as exc:  # noqa: BLE001 — openpyxl raises many kinds on a damaged file
        return None, _damaged(filename, exc)


def _damaged(filename: str, exc: Exception) -> Problem:
    return Problem("import.not_xlsx", f"the workbook cannot be read ({type(exc).__name__}); "
                   "it may be damaged — save it again from Excel as .xlsx", file=filename)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        text = repr(value)
        return text if "e" not in text else f"{value:.12f}".rstrip("0")
    return nfc(str(value)).strip()


def _check_cover(cover: Mapping[str, Any], filename: str, edition_code: str, province_code: str,
                 units: UnitSet) -> list[Problem]:
    problems = []
    edition = _text(cover[EDITION_CELL])
    if edition != edition_code:
        problems.append(Problem("import.wrong_edition", f"the workbook is for the edition "
                                f"“{edition or '(blank)'}”, not “{edition_code}”; download the "
                                "template of this edition", file=filename, row=4,
                                column=f"{COVER}!{EDITION_CELL}", value=edition))
    code = _text(cover[CODE_CELL])
    code = code.zfill(2) if code.isdigit() else code   # "1" typed as a number is "01"
    name = _text(cover[NAME_CELL])
    for cell, found in ((CODE_CELL, code), (NAME_CELL, name)):
        try:
            resolved = units.resolve(found) if found else None
        except UnknownUnitError:
            resolved = None
        if resolved is None:
            problems.append(Problem("import.unknown_province", f"“{found or '(blank)'}” is not a "
                                    "province code or name this edition knows; do not change the "
                                    "cells B4–B6", file=filename, row=int(cell[1:]),
                                    column=f"{COVER}!{cell}",
                                    unit=found or None, value=found))
        elif resolved != province_code:
            problems.append(Problem("import.wrong_province", f"the workbook belongs to "
                                    f"{units.get(resolved).name_vi} ({resolved}), not to the "
                                    f"province you are importing into ({province_code})",
                                    file=filename, row=int(cell[1:]),
                                    column=f"{COVER}!{cell}", unit=resolved,
                                    value=found))
    return problems


def _columns(header: list[Any]) -> tuple[dict[str, int], dict[int, int]]:
    """(named column → index, value number → index) found in the header row."""
    named = {}
    values = {}
    wanted = {v: k for k, v in HEAD.items()}
    for index, cell in enumerate(header):
        text = _text(cell)
        if text in wanted:
            named[wanted[text]] = index
        match = _VALUE_RE.match(text)
        if match:
            values[int(match.group(1))] = index
    return named, values


def _read_answers(sheet, filename: str, catalogue: ScoringCatalogue
                  ) -> tuple[list[ImportRow], list[Problem]]:
    max_rows = 1 + len(catalogue.items) + ROW_HEADROOM   # the header, one row per sub-indicator
    table, refused = read_rows(sheet, filename, max_rows, max_rows * MAX_COLUMNS)
    if refused is not None:
        return [], [refused]
    header = list(table[0]) if table else []
    named, values = _columns(header)
    missing = [HEAD[k] for k in ("code", "note", "version") if k not in named]
    missing += [VALUE_HEAD.format(n=i) for i in range(1, value_columns(catalogue) + 1)
                if i not in values]
    if missing:
        return [], [Problem("import.missing_column", f"the header row has no column “{m}”; "
                            "download a new template", file=filename, row=1,
                            column=f"{ANSWERS}!{m}") for m in missing]
    rows: list[ImportRow] = []
    problems: list[Problem] = []
    first_row: dict[str, int] = {}
    for number, cells in enumerate(table[1:], start=2):
        row, found = _read_row(list(cells), number, named, values, filename, catalogue, first_row)
        problems += found
        if row is not None:
            rows.append(row)
    return rows, problems


def _read_row(cells: list[Any], number: int, named: Mapping[str, int], values: Mapping[int, int],
              filename: str, catalogue: ScoringCatalogue, first_row: dict[str, int]
              ) -> tuple[ImportRow | None, list[Problem]]:
    def cell(index: int) -> str:
        return _text(cells[index]) if index < len(cells) else ""

    def where(column: str, **more: Any) -> dict[str, Any]:
        return {"file": filename, "row": number, "column": f"{ANSWERS}!{column}", **more}

    code = cell(named["code"])
    filled = {n: cell(i) for n, i in values.items() if cell(i)}
    note = cell(named["note"]) or None
    if not code:
        if not filled and not note:
            return None, []
        return None, [Problem("import.unknown_indicator", "the row has answers but no "
                              "sub-indicator code", **where(HEAD["code"]))]
    item = catalogue.item(code)
    if item is None:
        return None, [Problem("import.unknown_indicator", f"“{code}” is not a sub-indicator of "
                              "this edition", **where(HEAD["code"], indicator=code, value=code))]
    if code in first_row:
        return None, [Problem("import.duplicate_row", f"{code} appears twice (first in row "
                              f"{first_row[code]}); keep one row", **where(HEAD["code"],
                                                                           indicator=code))]
    first_row[code] = number
    problems = []
    fields = item.rule.fields
    for n in sorted(filled):
        if n > len(fields):
            problems.append(Problem("import.extra_value", f"{code} takes {len(fields)} value(s); "
                                    f"clear this cell", **where(VALUE_HEAD.format(n=n),
                                                                indicator=code, value=filled[n])))
    raw = {f.name: filled[i] for i, f in enumerate(fields, start=1) if i in filled}
    _, parsed = parse_answer(item, raw)
    heads = {f.name: VALUE_HEAD.format(n=i) for i, f in enumerate(fields, start=1)}
    problems += [Problem(p.code, p.message, indicator=code, value=p.value,
                         **where(heads.get(p.column or "", HEAD["code"]))) for p in parsed]
    version_text = cell(named["version"])
    version = int(version_text) if version_text.isdigit() else None
    if version is None:
        problems.append(Problem("import.bad_version", "the version cell was changed or cleared; "
                                "download a new template", **where(HEAD["version"], indicator=code,
                                                                    value=version_text)))
    if not raw and not note:
        return None, problems
    return ImportRow(code, raw, note, version, ANSWERS, number), problems
