"""Read a CSV or XLSX table into row mappings, with located problems instead of exceptions.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first data row is row 2.
Each row mapping carries its number under ``"__row__"``.  Used by the framework loader and the
data importer alike, so both report the same row numbers for the same file.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from pathlib import Path
from typing import Any

from dti.errors import Problem

Row = dict[str, Any]


def read_table(path: str | Path, sheet: str | None = None) -> tuple[list[Row], list[Problem]]:
    """Return (rows, problems); rows is empty whenever problems is not."""
    path = Path(path)
    if not path.exists():
        return [], [Problem("file.not_found", "the file does not exist; check the path", file=str(path))]
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet)
    if sheet is not None:
        return [], [Problem("file.sheet_on_csv", "a sheet was named but the file is CSV, which has "
                            "no sheets; drop --sheet or give the XLSX file", file=path.name)]
    return _read_csv(path)


def _read_csv(path: Path) -> tuple[list[Row], list[Problem]]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return [], [Problem("file.encoding", f"the file is not UTF-8 (bad byte 0x{data[exc.start]:02x} "
                            f"at line {line}); save it as 'CSV UTF-8'", file=path.name, row=line)]
    if not text.strip():
        return [], [Problem("file.empty", "the file is empty; it needs a header row and data rows",
                            file=path.name)]
    first = text.splitlines()[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    table = [[unicodedata.normalize("NFC", c) for c in row] for row in reader]
    return _rows_from_table(table, path.name)


def _read_xlsx(path: Path, sheet: str | None) -> tuple[list[Row], list[Problem]]:
    import openpyxl  # imported here: only XLSX input needs it

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        return [], [Problem("file.bad_xlsx", f"the file cannot be read as XLSX ({type(exc).__name__}); "
                            "open it in a spreadsheet program and save it again as .xlsx",
                            file=path.name)]
    try:
        if sheet is not None and sheet not in book.sheetnames:
            return [], [Problem("file.no_sheet", f"there is no sheet {sheet!r}; the sheets are "
                                f"{', '.join(repr(s) for s in book.sheetnames)}; name one of them with --sheet",
                                file=path.name, value=sheet)]
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        table = [["" if c is None else (unicodedata.normalize("NFC", c) if isinstance(c, str) else c)
                  for c in row] for row in ws.iter_rows(values_only=True)]
    finally:
        book.close()
    return _rows_from_table(table, f"{path.name}[{ws.title}]")


def _rows_from_table(table: list[list[Any]], name: str) -> tuple[list[Row], list[Problem]]:
    while table and all(str(c).strip() == "" for c in table[-1]):
        table.pop()
    if not table:
        return [], [Problem("file.empty", "the file is empty; it needs a header row and data rows",
                            file=name)]
    header = [str(c).strip() for c in table[0]]
    while header and header[-1] == "":
        header.pop()
    problems = []
    seen: set[str] = set()
    for i, h in enumerate(header):
        if h == "":
            problems.append(Problem("table.empty_header", f"column {i + 1} has no header; name it or "
                                    "delete the column", file=name, row=1, column=f"#{i + 1}"))
        elif h in seen:
            problems.append(Problem("table.duplicate_header", f"the header {h!r} appears twice",
                                    file=name, row=1, column=h))
        seen.add(h)
    if problems:
        return [], problems
    rows: list[Row] = []
    for number, cells in enumerate(table[1:], start=2):
        if all(str(c).strip() == "" for c in cells):
            continue
        extra = [c for c in cells[len(header):] if str(c).strip() != ""]
        if extra:
            problems.append(Problem("table.unheaded_value", f"value {extra[0]!r} stands in a column "
                                    "with no header (often an unquoted comma); give the column a "
                                    "header or remove the value", file=name, row=number,
                                    column=f"#{len(header) + 1}", value=extra[0]))
            continue
        row: Row = {"__row__": number}
        for h, c in zip(header, list(cells) + [""] * (len(header) - len(cells))):
            row[h] = c
        rows.append(row)
    if problems:
        return [], problems
    if not rows:
        return [], [Problem("file.no_rows", "the file has a header but no data rows", file=name)]
    return rows, []
