"""Read a CSV or XLSX table into row mappings, with located problems instead of exceptions.

Rows are numbered as a spreadsheet shows them: the header is the first non-blank row (row 1 unless
blank rows stand above it), the first data row follows it.  Each row mapping carries its number
under ``"__row__"``.  Used by the framework loader, the data importer and the unit-set reader
alike, so all report the same row numbers for the same file.

Two levels:

* :func:`read_grid` does the file-level work (existence, encoding, delimiter, quoting, blank rows,
  the header row) and returns the cells; a caller with its own header rules (the unit-set reader)
  starts here.
* :func:`read_table` adds the generic header checks and returns one mapping per data row.

Nothing here raises on bad input: every problem is a :class:`~dti.errors.Problem`.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dti.errors import Problem
from dti.workbook_limits import open_workbook, read_rows

Row = dict[str, Any]

UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
DELIMITERS = (",", ";", "\t")
SAVE_AS_UTF8 = "save it as 'CSV UTF-8'"


@dataclass
class Grid:
    """The cells of a table: the header row and the non-blank data rows, each with its number.

    ``records`` leaves out blank rows and rows that could not be decoded (those are reported in
    the problems returned with the grid).
    """

    name: str
    header: list[str]
    header_row: int
    records: list[tuple[int, list[Any]]] = field(default_factory=list)


def check_file(path: str | Path) -> list[Problem]:
    """Problems that stop a file from being opened at all: missing, a directory, unreadable."""
    path = Path(path)
    try:
        if path.is_dir():
            return [Problem("file.is_directory", "this is a folder, not a file; give the path of "
                            "the file inside it", file=str(path))]
        if not path.exists():
            return [Problem("file.not_found", "the file does not exist; check the path",
                            file=str(path))]
    except (OSError, ValueError) as exc:
        return [_unreadable(str(path), exc)]
    return []


def read_table(path: str | Path, sheet: str | None = None) -> tuple[list[Row], list[Problem]]:
    """Return (rows, problems); rows is empty whenever problems is not."""
    grid, problems = read_grid(path, sheet)
    return _rows_with_problems(grid, problems)


def table_from_bytes(data: bytes, name: str) -> tuple[list[Row], list[Problem]]:
    """:func:`read_table` for CSV bytes already in memory (e.g. a file shipped in the package)."""
    grid, problems = grid_from_bytes(data, name)
    return _rows_with_problems(grid, problems)


def read_grid(path: str | Path, sheet: str | None = None) -> tuple[Grid | None, list[Problem]]:
    """Return (grid, problems).  The grid is None when nothing of the file can be used; it comes
    with problems when some rows could not be decoded (they are left out of it)."""
    path = Path(path)
    problems = check_file(path)
    if problems:
        return None, problems
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet)
    if sheet is not None:
        return None, [Problem("file.sheet_on_csv", "a sheet was named but the file is CSV, which "
                              "has no sheets; drop --sheet or give the XLSX file", file=path.name)]
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        return None, check_file(path) or [_unreadable(path.name, None)]
    except OSError as exc:
        return None, [_unreadable(path.name, exc)]
    return grid_from_bytes(data, path.name)


def _unreadable(name: str, exc: BaseException | None) -> Problem:
    reason = f" ({exc.strerror or type(exc).__name__})" if isinstance(exc, OSError) else ""
    return Problem("file.unreadable", f"the file cannot be read{reason}; check that it exists, "
                   "that you may read it and that no other program holds it open", file=name)


def _rows_with_problems(grid: Grid | None,
                        problems: list[Problem]) -> tuple[list[Row], list[Problem]]:
    if grid is None:
        return [], problems
    rows, table_problems = rows_from_grid(grid)
    problems = problems + table_problems
    if problems:
        return [], problems
    if not rows:
        return [], [Problem("file.no_rows", "the file has a header but no data rows",
                            file=grid.name)]
    return rows, []


# -- CSV -----------------------------------------------------------------------------------------


def grid_from_bytes(data: bytes, name: str) -> tuple[Grid | None, list[Problem]]:
    """Decode and parse CSV bytes; every undecodable line is reported, not just the first."""
    if data.startswith(UTF16_BOMS):
        return None, [Problem("file.encoding", "the file is UTF-16 text, not UTF-8; "
                              f"{SAVE_AS_UTF8}", file=name)]
    data = data.removeprefix(UTF8_BOM)
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        return None, [Problem("file.encoding", "the file holds NUL bytes, so it is not CSV text "
                              "(UTF-16 text, or a workbook renamed to .csv?); "
                              f"{SAVE_AS_UTF8}", file=name, row=line)]
    data = re.sub(rb"\r(?!\n)", b"\n", data)  # a lone carriage return ends a line (old Mac files)
    lines: list[str] = []
    bad_lines: dict[int, int] = {}  # line number -> the first bad byte
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            bad_lines[number] = raw[exc.start]
            lines.append(raw.decode("utf-8", errors="replace"))
    text = "\n".join(lines)
    if not text.strip(" \t\r\n,;"):
        return None, [_empty(name)]
    records, problem = _parse_csv(text, lines, name)
    problems: list[Problem] = []
    bad_rows: set[int] = set()
    for row, first, last, _cells in records:
        for line in range(first, last + 1):
            if line in bad_lines:
                bad_rows.add(row)
                problems.append(Problem(
                    "file.encoding", f"the file is not UTF-8 (bad byte 0x{bad_lines[line]:02x} at "
                    f"line {line}); {SAVE_AS_UTF8}", file=name, row=row,
                    value=f"0x{bad_lines[line]:02x}"))
                break
    if problem is not None:
        return None, problems + [problem]
    grid = _grid([(row, cells) for row, _first, _last, cells in records], name)
    if grid is None:
        return None, problems or [_empty(name)]
    if grid.header_row in bad_rows:
        return None, problems  # with no readable header no row can be understood
    grid.records = [(row, cells) for row, cells in grid.records if row not in bad_rows]
    return grid, problems


def _parse_csv(text: str, lines: list[str],
               name: str) -> tuple[list[tuple[int, int, int, list[str]]], Problem | None]:
    """(row, first line, last line, cells) of every record; or the first quoting problem.

    ``strict`` makes the csv module reject a quote that is never closed (it would otherwise
    swallow the rest of the file into one cell) and stray characters after a closing quote.
    """
    header_line = next(line for line in lines if line.strip(" \t\r,;"))  # skip blank rows
    delimiter = max(DELIMITERS, key=header_line.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    records: list[tuple[int, int, int, list[str]]] = []
    while True:
        first = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return records, None
        except csv.Error as exc:
            return records, _csv_problem(str(exc), first, reader.line_num, lines, delimiter,
                                         len(records) + 1, name)
        records.append((len(records) + 1, first, reader.line_num,
                        [unicodedata.normalize("NFC", c) for c in cells]))


def _csv_problem(error: str, first: int, last: int, lines: list[str], delimiter: str, row: int,
                 name: str) -> Problem:
    if "end of data" in error:
        opened = _open_quote_line(lines, first, delimiter)
        message = (f"a double quote (\") opened at line {opened} is never closed, so the rest of "
                   "the file would become one cell; close the quote or remove it")
        return Problem("file.bad_csv", message, file=name, row=row,
                       value=lines[opened - 1].rstrip("\r")[:80])
    if "field larger" in error:
        message = (f"a cell starting at line {first} is longer than {csv.field_size_limit():,} "
                   "characters; usually a double quote (\") there is never closed; check the "
                   "quotes from that line on")
    elif "expected after" in error:
        where = f"line {first}" if first == last else f"lines {first} to {last}"
        message = (f"the double quotes (\") on {where} do not pair up: a quoted cell must end "
                   f"with a quote followed by {_delimiter_name(delimiter)} or the line end; "
                   "write a quote inside a cell as two quotes (\"\")")
    else:
        message = (f"line {last} cannot be read as CSV ({error}); check the quotes and "
                   "separators there")
    return Problem("file.bad_csv", message, file=name, row=row,
                   value=lines[first - 1].rstrip("\r")[:80])


def _open_quote_line(lines: list[str], first: int, delimiter: str) -> int:
    """The line where the quote left open at the end of the file was opened."""
    inside, opened = False, first
    for number in range(first, len(lines) + 1):
        line, i = lines[number - 1], 0
        while i < len(line):
            if inside and line[i] == '"':
                if line[i + 1:i + 2] == '"':
                    i += 2  # a doubled quote inside a cell is a quote character
                    continue
                inside = False
            elif not inside and line[i] == '"' and (i == 0 or line[i - 1] == delimiter):
                inside, opened = True, number
            i += 1
    return opened


def _delimiter_name(delimiter: str) -> str:
    return {"\t": "a tab", ";": "a semicolon"}.get(delimiter, "a comma")


def _empty(name: str) -> Problem:
    return Problem("file.empty", "the file is empty; it needs a header row and data rows", file=name)


# -- XLSX ----------------------------------------------------------------------------------------


def _read_xlsx(path: Path, sheet: str | None) -> tuple[Grid | None, list[Problem]]:
    """The sheet's cells, streamed through :mod:`dti.workbook_limits` (refused when too large)."""
    try:
        book, refused = open_workbook(path, path.name)
    except OSError as exc:
        return None, [_unreadable(path.name, exc)]
    except Exception as exc:  # openpyxl raises many types for a damaged file
        return None, [_bad_xlsx(path.name, exc)]
    if refused is not None:
        return None, [refused]
    try:
        if sheet is not None and sheet not in book.sheetnames:
            return None, [Problem("file.no_sheet", f"there is no sheet {sheet!r}; the sheets are "
                                  f"{', '.join(repr(s) for s in book.sheetnames)}; name one of "
                                  "them with --sheet", file=path.name, value=sheet)]
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        name = f"{path.name}[{ws.title}]"
        cells, refused = read_rows(ws, path.name)
        if refused is not None:
            return None, [refused]
        table = [(number, ["" if c is None else
                           (unicodedata.normalize("NFC", c) if isinstance(c, str) else c)
                           for c in values])
                 for number, values in enumerate(cells, start=1)]
    except Exception as exc:  # a damaged sheet fails while its rows are read
        return None, [_bad_xlsx(path.name, exc)]
    finally:
        book.close()  # read-only books hold the archive open
    grid = _grid(table, name)
    return (grid, []) if grid is not None else (None, [_empty(name)])


def _bad_xlsx(name: str, exc: Exception) -> Problem:
    return Problem("file.bad_xlsx", f"the file cannot be read as XLSX ({type(exc).__name__}); "
                   "open it in a spreadsheet program and save it again as .xlsx", file=name)


# -- from cells to rows --------------------------------------------------------------------------


def _blank(cells: list[Any]) -> bool:
    return all(str(c).strip() == "" for c in cells)


def _grid(table: list[tuple[int, list[Any]]], name: str) -> Grid | None:
    """The first non-blank row is the header; blank rows are dropped; None when all are blank."""
    table = [(row, cells) for row, cells in table if not _blank(cells)]
    if not table:
        return None
    header_row, header_cells = table[0]
    header = [str(c).strip() for c in header_cells]
    while header and header[-1] == "":
        header.pop()
    return Grid(name=name, header=header, header_row=header_row, records=table[1:])


def rows_from_grid(grid: Grid) -> tuple[list[Row], list[Problem]]:
    """One mapping per data row, after the generic header checks; rows is empty on problems."""
    name, header = grid.name, grid.header
    problems = []
    seen: set[str] = set()
    for i, h in enumerate(header):
        if h == "":
            problems.append(Problem("table.empty_header", f"column {i + 1} has no header; name it or "
                                    "delete the column", file=name, row=grid.header_row,
                                    column=f"#{i + 1}"))
        elif h in seen:
            problems.append(Problem("table.duplicate_header", f"the header {h!r} appears twice",
                                    file=name, row=grid.header_row, column=h))
        seen.add(h)
    if problems:
        return [], problems
    rows: list[Row] = []
    for number, cells in grid.records:
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
    return rows, []
