"""The catalogue as the ministry's spreadsheet lays it out: read it, write it, ship one.

Columns (headers matched ignoring case, diacritics, NFD/NFC and extra spaces)::

    STT | Chỉ số/Chỉ số thành phần | Điểm tối đa | Cách xác định và tính điểm |
    Tài liệu kiểm chứng | Nguồn thu thập dữ liệu | Đơn vị phối hợp xác minh số liệu

plus the optional ``Mã`` (code), ``Tên tiếng Anh`` (English name) and ``Bắt buộc kiểm chứng``
(evidence required: có/không).  Other columns are ignored.  A row numbered ``1``, ``2`` … starts a
main indicator; a row numbered ``1.1``, ``1.2`` … is a sub-indicator of the current one.  Every
problem of the file is collected and raised together as one :class:`~dti.errors.CatalogueError`.
"""

from __future__ import annotations

import csv
import io
import math
import re
import tempfile
from functools import cache
from importlib import resources
from pathlib import Path
from typing import IO, Any

from dti.errors import CatalogueError, Problem
from dti.scoring.catalogue import (CatalogueInfo, MainIndicator, ScoringCatalogue, SubIndicator,
                                   structure_problems)
from dti.scoring.rules import parse_rule, split_cell
from dti.scoring.text import fold, format_number, nfc, parse_number, parse_yes_no, slug
from dti.tabular import read_grid, rows_from_grid, table_from_bytes

STT, NAME, MAX, RULE = "STT", "Chỉ số/Chỉ số thành phần", "Điểm tối đa", "Cách xác định và tính điểm"
EVIDENCE, SOURCE, VERIFIER = ("Tài liệu kiểm chứng", "Nguồn thu thập dữ liệu",
                              "Đơn vị phối hợp xác minh số liệu")
CODE, NAME_EN, REQUIRED = "Mã", "Tên tiếng Anh", "Bắt buộc kiểm chứng"
COLUMNS = (STT, NAME, MAX, RULE, EVIDENCE, SOURCE, VERIFIER)
EXTRA_COLUMNS = (CODE, NAME_EN, REQUIRED)
NOT_SCORED = "Không tính điểm"
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
ILLUSTRATIVE_FILE = "illustrative-qd922.csv"
ILLUSTRATIVE = CatalogueInfo(
    id="dti-2022-minh-hoa",
    name_vi="Bộ chỉ số thành phần DTI cấp tỉnh (minh hoạ, theo cấu trúc Quyết định 922/QĐ-BTTTT)",
    name_en="Provincial DTI sub-indicators (illustrative, after the structure of Decision "
            "922/QĐ-BTTTT)",
    framework_id="qd-922-btttt", illustrative=True,
    note_vi="Bộ chỉ số thành phần minh hoạ — không phải bộ chỉ số chính thức của Bộ",
    note_en="Illustrative sub-indicator catalogue — not the ministry's official catalogue")
ILLUSTRATIVE_MINISTRY_FILE = "illustrative-ministry.csv"
ILLUSTRATIVE_MINISTRY = CatalogueInfo(
    id="dti-bo-minh-hoa",
    name_vi="Bộ chỉ số thành phần DTI cấp bộ (minh hoạ)",
    name_en="Ministry DTI sub-indicators (illustrative)",
    framework_id="ministry-minh-hoa", illustrative=True,
    note_vi="Bộ chỉ số thành phần cấp bộ minh hoạ — không phải bộ chỉ số chính thức",
    note_en="Illustrative ministry-level sub-indicator catalogue — not the official catalogue")


def load_catalogue(path: str | Path, info: CatalogueInfo | None = None,
                   sheet: str | None = None) -> ScoringCatalogue:
    """Read a CSV or XLSX catalogue; raises CatalogueError listing every problem.

    ``info`` gives what the sheet does not hold; by default the id is the file name's slug and
    the framework id is empty.
    """
    path = Path(path)
    grid, problems = read_grid(path, sheet)
    rows: list[dict[str, Any]] = []
    if grid is not None and not problems:
        rows, problems = rows_from_grid(grid)
    if problems:
        raise CatalogueError(problems)
    assert grid is not None
    if not rows:
        raise CatalogueError([Problem("file.no_rows", "the file has a header but no data rows",
                                      file=grid.name)])
    # grid.name names the sheet of a workbook ("file.xlsx[Sheet]"), as tabular's problems do
    return catalogue_from_rows(rows, grid.name, info or _default_info(path.stem))


def catalogue_from_bytes(data: bytes, name: str, info: CatalogueInfo | None = None) -> ScoringCatalogue:
    """:func:`load_catalogue` for an upload: CSV bytes, or XLSX bytes when ``name`` ends in .xlsx."""
    name = Path(name).name or "catalogue.csv"
    info = info or _default_info(Path(name).stem)
    if name.lower().endswith((".xlsx", ".xlsm")):
        with tempfile.TemporaryDirectory() as folder:  # openpyxl reads XLSX from a file
            path = Path(folder) / name
            path.write_bytes(data)
            return load_catalogue(path, info)
    rows, problems = table_from_bytes(data, name)
    if problems:
        raise CatalogueError(problems)
    return catalogue_from_rows(rows, name, info)


@cache
def illustrative_catalogue() -> ScoringCatalogue:
    """The shipped ILLUSTRATIVE catalogue (98 sub-indicators after Decision 922/QĐ-BTTTT)."""
    return _shipped(ILLUSTRATIVE_FILE, ILLUSTRATIVE)


@cache
def illustrative_ministry_catalogue() -> ScoringCatalogue:
    """The shipped ILLUSTRATIVE ministry catalogue (31 sub-indicators, framework ministry-minh-hoa)."""
    return _shipped(ILLUSTRATIVE_MINISTRY_FILE, ILLUSTRATIVE_MINISTRY)


def illustrative_catalogue_for(framework_id: str) -> ScoringCatalogue | None:
    """The shipped illustrative catalogue written for this framework, or None when none is.

    An edition may only be given a catalogue whose main indicators are its framework's, so the
    choice goes by framework rather than by level or year.
    """
    loaders = {ILLUSTRATIVE.framework_id: illustrative_catalogue,
               ILLUSTRATIVE_MINISTRY.framework_id: illustrative_ministry_catalogue}
    loader = loaders.get(framework_id)
    return loader() if loader else None


def _shipped(file: str, info: CatalogueInfo) -> ScoringCatalogue:
    data = resources.files("dti.scoring").joinpath("data", file).read_bytes()
    return catalogue_from_bytes(data, file, info)


def _default_info(stem: str) -> CatalogueInfo:
    return CatalogueInfo(id=slug(stem).replace("_", "-") or "catalogue", name_vi=stem,
                         name_en=stem, framework_id="")


# -- reading rows --------------------------------------------------------------------------------


def _header_key(header: str) -> str:
    return re.sub(r"\s*/\s*", "/", fold(header))


def catalogue_from_rows(rows: list[dict[str, Any]], name: str,
                        info: CatalogueInfo) -> ScoringCatalogue:
    """The catalogue of rows from :func:`dti.tabular.read_table`; raises CatalogueError."""
    present = {_header_key(h): h for h in rows[0] if h != "__row__"} if rows else {}
    columns = {c: present.get(_header_key(c)) for c in COLUMNS + EXTRA_COLUMNS}
    missing = [c for c in COLUMNS if columns[c] is None]
    if missing:
        raise CatalogueError([Problem("catalogue.missing_column", f"the column {c!r} is missing; "
                                      f"the columns are {' | '.join(COLUMNS)}", file=name,
                                      column=c) for c in missing])
    reader = _RowReader(name, columns)
    for row in rows:
        reader.read(row)
    catalogue = ScoringCatalogue(**info.__dict__, mains=tuple(reader.mains),
                                 items=tuple(reader.items))
    problems = reader.problems + [
        Problem(**{**p.__dict__, "file": name, "row": reader.main_rows.get(p.indicator),
                   "column": columns[MAX]})
        for p in structure_problems(catalogue)
        if p.code in ("catalogue.points_mismatch", "catalogue.empty_main")
        and p.indicator not in reader.broken]
    if problems:
        raise CatalogueError(problems)
    return catalogue


class _RowReader:
    """Reads row after row, keeping the current section and every problem met."""

    def __init__(self, name: str, columns: dict[str, str | None]) -> None:
        self.name, self.columns = name, columns
        self.mains: list[MainIndicator] = []
        self.items: list[SubIndicator] = []
        self.problems: list[Problem] = []
        self.main_rows: dict[str, int] = {}
        self.codes: dict[str, int] = {}
        self.numbers: dict[str, int] = {}
        self.broken: set[str] = set()  # mains whose sums are not checked: one of their rows is bad
        self.section: MainIndicator | None = None

    def cell(self, row: dict[str, Any], column: str) -> str:
        header = self.columns[column]
        value = "" if header is None else row.get(header, "")
        if isinstance(value, int | float) and not isinstance(value, bool):
            return format_number(value)
        return nfc(str(value if value is not None else "")).strip()

    def read(self, row: dict[str, Any]) -> None:
        before = len(self.problems)
        number = self.cell(row, STT)
        if re.fullmatch(r"\d+", number):
            self._main(row, number)
        elif re.fullmatch(r"\d+\.\d+", number):
            self._sub(row, number)
        else:
            self.add("catalogue.bad_number", row, STT, number, f"STT {number!r} is neither a main "
                     "indicator number (1, 2 …) nor a sub-indicator number (1.1, 1.2 …)")
        if len(self.problems) > before and self.section is not None:
            self.broken.add(self.section.code)

    def add(self, code: str, row: dict[str, Any], column: str, value: Any, message: str,
            indicator: str | None = None) -> None:
        self.problems.append(Problem(code, message, file=self.name, row=row["__row__"],
                                     column=self.columns[column] or column, indicator=indicator,
                                     value=value if value != "" else None))

    def _common(self, row: dict[str, Any], number: str) -> tuple[str, str, float | None]:
        """(code, name, max points) of a row, reporting what is wrong with them."""
        code = self.cell(row, CODE) or number  # without a code, the STT is the code
        if number in self.numbers:
            self.add("catalogue.duplicate_number", row, STT, number, f"STT {number} is already used "
                     f"at row {self.numbers[number]}", code)
        self.numbers.setdefault(number, row["__row__"])
        if not _CODE.fullmatch(code):
            self.add("catalogue.bad_code", row, CODE, code, f"the code {code!r} may hold only "
                     "letters, digits, '.', '-' and '_'", code)
        elif code in self.codes and not (code == number and self.numbers[number] != row["__row__"]):
            # (a code that is a duplicate STT has been reported as such just above)
            self.add("catalogue.duplicate_code", row, CODE, code, f"the code {code!r} is already "
                     f"used at row {self.codes[code]}; every indicator needs its own code", code)
        self.codes.setdefault(code, row["__row__"])
        name = self.cell(row, NAME)
        if not name:
            self.add("catalogue.missing_name", row, NAME, "", "the indicator has no name", code)
        text = self.cell(row, MAX)
        points = 0.0 if fold(text) == fold(NOT_SCORED) else parse_number(text)
        if points is None or points < 0:
            self.add("catalogue.bad_max_points", row, MAX, text, f"the max points {text!r} are not "
                     f"a number ≥ 0 (or '{NOT_SCORED}')", code)
            points = None
        return code, name, points

    def _main(self, row: dict[str, Any], number: str) -> None:
        code, name, points = self._common(row, number)
        self.section = MainIndicator(code, number, name, self.cell(row, NAME_EN) or name,
                                     points if points is not None else 0.0)
        self.mains.append(self.section)
        self.main_rows[code] = row["__row__"]
        if points is None:
            self.broken.add(code)

    def _sub(self, row: dict[str, Any], number: str) -> None:
        code, name, points = self._common(row, number)
        if self.section is None:
            self.add("catalogue.no_section", row, STT, number, "a sub-indicator stands before any "
                     "main indicator row (STT 1, 2 …); add the main indicator row above it", code)
            return
        if number.split(".")[0] != self.section.number:
            self.add("catalogue.number_mismatch", row, STT, number, f"STT {number} does not belong "
                     f"to main indicator {self.section.number} above it", code)
        rule_text, prose = split_cell(self.cell(row, RULE))
        if rule_text is None:
            self.add("rule.missing", row, RULE, prose, "no scoring rule: write it inside [[ … ]], "
                     "e.g. [[ratio a/b]] (see docs/scoring.md)", code)
            return
        rule, problems = parse_rule(rule_text, points if points is not None else math.inf)
        for p in problems:
            self.add(p.code, row, RULE, p.value, p.message, code)
        required = self._required(row, code)
        if rule is None or points is None or required is None:
            return
        evidence = self.cell(row, EVIDENCE)
        self.items.append(SubIndicator(
            code, self.section.code, number, name, self.cell(row, NAME_EN) or name, points, rule,
            evidence, required, self.cell(row, SOURCE), self.cell(row, VERIFIER),
            scored=points > 0, method_vi=prose))

    def _required(self, row: dict[str, Any], code: str) -> bool | None:
        text = self.cell(row, REQUIRED)
        if not text:
            return bool(self.cell(row, EVIDENCE))
        flag = parse_yes_no(text)
        if flag is None:
            self.add("catalogue.bad_flag", row, REQUIRED, text, f"{text!r} is not có or không", code)
        return flag


# -- writing -------------------------------------------------------------------------------------


def catalogue_rows(catalogue: ScoringCatalogue) -> list[list[Any]]:
    """The header and one row per main and sub-indicator, in the ministry layout plus extras.

    Max points are floats (or "Không tính điểm"); everything else is text.
    """
    header: list[Any] = list(COLUMNS + EXTRA_COLUMNS)
    rows = [header]
    for main, items in catalogue.by_main().items():
        m = next(x for x in catalogue.mains if x.code == main)
        rows.append([m.number, m.name_vi, m.max_points or NOT_SCORED, "", "", "", "", m.code,
                     m.name_en, ""])
        for i in items:
            method = f"{i.method_vi}\n[[{i.rule.text}]]" if i.method_vi else f"[[{i.rule.text}]]"
            rows.append([i.number, i.name_vi, i.max_points if i.scored else NOT_SCORED, method,
                         i.evidence, i.source, i.verifier, i.code, i.name_en,
                         "có" if i.evidence_required else "không"])
    return rows


def catalogue_csv(catalogue: ScoringCatalogue) -> str:
    """The catalogue as CSV text (UTF-8 when encoded), numbers written with a decimal point."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in catalogue_rows(catalogue):
        writer.writerow([format_number(c) if isinstance(c, float) else c for c in row])
    return out.getvalue()


def write_catalogue_xlsx(catalogue: ScoringCatalogue, target: str | Path | IO[bytes]) -> None:
    """Write the catalogue as one sheet in the ministry layout (STT kept as text)."""
    import openpyxl
    from openpyxl.styles import Alignment, Font

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Chỉ số thành phần"
    for values in catalogue_rows(catalogue):
        sheet.append(values)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in sheet.iter_rows(min_row=2):
        row[0].number_format = "@"  # "1.10" must stay text, not become the number 1.1
        row[0].value = str(row[0].value)
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for letter, width in zip("ABCDEFGHIJ", (6, 45, 10, 50, 35, 25, 25, 10, 35, 10)):
        sheet.column_dimensions[letter].width = width
    book.save(target)
