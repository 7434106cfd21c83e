"""The one guard every XLSX the package reads passes through, before and while openpyxl parses it.

An XLSX file is a ZIP archive of XML parts.  A few hundred kilobytes can unpack to gigabytes, and
openpyxl in its default mode builds every cell of every sheet in memory, so an upload within the
size limit could still exhaust the server.  Three layers stop that:

1. :func:`check_archive` reads only the archive's directory: the number of parts, each part's
   declared unpacked size and compression ratio, the total, and names no spreadsheet program
   writes (absolute paths, ``..``, backslashes, control characters, duplicates).
2. The declared sizes bind: Python's :mod:`zipfile` never returns more bytes of a part than its
   directory declares and checks the CRC at the end, so a part that lies about its size is read
   short and refused as damaged.
3. :func:`open_workbook` opens the book in read-only mode, so no sheet is loaded when it opens,
   and :func:`read_rows` streams a sheet's XML one element at a time (dropping each once read)
   and stops with a problem as soon as the sheet has more rows or cells than the caller's table
   can legitimately hold — counting cells as they arrive, so one row of a million cells is
   stopped, not built.

The limits are far above what a real workbook needs: the assessment workbook the app writes for
the 98-sub-indicator catalogue is 20 KB, unpacking to 106 KB in 11 parts (largest ratio 6.5);
the catalogue in the ministry's layout is 19 KB, unpacking to 111 KB in 9 parts.  Every refusal
is one :class:`~dti.errors.Problem` with the code ``file.workbook_too_large`` (or
``file.bad_xlsx`` for a part with a suspicious name), naming the file, the sheet when known, the
limit, and what to do.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dti.errors import Problem

MIB = 1024 * 1024
MAX_PARTS = 1_000               # a workbook saved by Excel has 10–50 parts; images add one each
MAX_UNPACKED_BYTES = 32 * MIB   # all parts together; real DTI workbooks unpack to about 0.1 MB
MAX_WHOLE_PART_BYTES = 4 * MIB  # one part openpyxl reads whole (shared strings, styles …):
                                # 4 MB of styles cost it 50 MB and most of a second
MAX_RATIO = 200                 # unpacked / packed size of one part; real parts stay below 20
RATIO_FROM_BYTES = 1 * MIB      # smaller parts may compress any amount: they cannot hurt
MAX_TABLE_ROWS = 20_000         # a table sheet (catalogue, framework, values, units); real: < 700
MAX_TABLE_CELLS = 50_000        # rows × columns of that sheet, blank padding included; real: < 10,000

_WORKSHEET = re.compile(r"xl/worksheets/[^/]+\.xml", re.I)
_BAD_NAME = re.compile(r"(^[/\\])|(^[A-Za-z]:)|\\|[\x00-\x1f]|(^|/)\.\.(/|$)")
_WHAT_TO_DO = ("remove unused sheets, images and empty formatted rows (or copy the needed cells "
               "into a new workbook) and try again")

Source = bytes | str | Path


def check_archive(source: Source, name: str) -> Problem | None:
    """A problem when the archive is too large or unsafe to unpack; None when it may be opened.

    Reads only the archive's directory.  A file that is not a ZIP archive at all passes: the
    caller's reader says, in its own words, that it is not a workbook.
    """
    try:
        with zipfile.ZipFile(_stream(source)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return None
    if len(parts) > MAX_PARTS:
        return too_large(name, f"it holds {len(parts):,} parts, more than the {MAX_PARTS:,} a "
                         "workbook may hold")
    problem = _bad_names(parts, name)
    if problem is not None:
        return problem
    total = sum(part.file_size for part in parts)
    if total > MAX_UNPACKED_BYTES:
        return too_large(name, f"it unpacks to {_mb(total)}, more than the "
                         f"{_mb(MAX_UNPACKED_BYTES)} a workbook may hold")
    return next((p for p in (_part_problem(part, name) for part in parts) if p), None)


def _part_problem(part: zipfile.ZipInfo, name: str) -> Problem | None:
    size = part.file_size
    if not _WORKSHEET.fullmatch(part.filename) and size > MAX_WHOLE_PART_BYTES:
        return too_large(name, f"its part {part.filename!r} unpacks to {_mb(size)}, more than "
                         f"the {_mb(MAX_WHOLE_PART_BYTES)} such a part may hold")
    if size > RATIO_FROM_BYTES and size > MAX_RATIO * max(part.compress_size, 1):
        ratio = size / max(part.compress_size, 1)
        return too_large(name, f"its part {part.filename!r} unpacks {ratio:,.0f} times larger "
                         f"({_mb(size)}) than it is packed; a workbook part stays below "
                         f"{MAX_RATIO} times")
    return None


def _bad_names(parts: list[zipfile.ZipInfo], name: str) -> Problem | None:
    seen: set[str] = set()
    for part in parts:
        if _BAD_NAME.search(part.filename) or part.filename in seen:
            shown = part.filename.encode("unicode_escape").decode("ascii")[:80]
            return Problem("file.bad_xlsx", f"the workbook holds a part named {shown!r}, which no "
                           "spreadsheet program writes; it is refused unread — open the file in "
                           "Excel or LibreOffice and save it again as .xlsx", file=name,
                           value=shown)
        seen.add(part.filename)
    return None


def too_large(name: str, why: str, sheet: str | None = None) -> Problem:
    """The one refusal: ``file.workbook_too_large``, located and saying what to do."""
    where = f"{name}[{sheet}]" if sheet else name
    return Problem("file.workbook_too_large", f"the workbook is too large to read: {why}; nothing "
                   f"from it is used — {_WHAT_TO_DO}", file=where)


def open_workbook(source: Source, name: str) -> tuple[Any, Problem | None]:
    """(read-only book, None) after :func:`check_archive`, or (None, the refusal).

    openpyxl's own errors on a damaged file pass through for the caller to word.  The caller
    closes the book (it holds the archive open).
    """
    problem = check_archive(source, name)
    if problem is not None:
        return None, problem
    import openpyxl  # imported here: only XLSX input needs it
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    ReadOnlyWorksheet._get_size = _dimensions_before_rows
    return openpyxl.load_workbook(_stream(source), read_only=True, data_only=True), None


def _dimensions_before_rows(sheet) -> None:
    """openpyxl's ``ReadOnlyWorksheet._get_size``, stopping where the rows start.

    The schema puts ``<dimension>`` before ``<sheetData>``; openpyxl's own version, finding no
    ``<dimension>``, reads every row of every sheet when the book is opened, so a sheet of a
    million rows written without one cost seconds before a single row was asked for.
    """
    from openpyxl.worksheet._reader import DATA_TAG, DIMENSION_TAG
    from openpyxl.worksheet.dimensions import SheetDimension
    from openpyxl.xml.functions import iterparse

    with sheet._get_source() as source:
        for seen, (_event, element) in enumerate(iterparse(source, events=("start",))):
            if seen > 64:
                return      # the dimension comes second at the latest; the rest is not looked at
            if element.tag == DIMENSION_TAG:
                bounds = SheetDimension.from_tree(element).boundaries
                sheet._min_column, sheet._min_row, sheet._max_column, sheet._max_row = bounds
                return
            if element.tag == DATA_TAG:
                return


def read_rows(sheet, name: str, max_rows: int = MAX_TABLE_ROWS, max_cells: int = MAX_TABLE_CELLS,
              first: int | None = None) -> tuple[list[tuple[Any, ...]], Problem | None]:
    """The sheet's rows as value tuples (or its ``first`` rows only); a refusal past either limit.

    Each row is as long as its last cell; rows the sheet skips are empty tuples.  The cells are
    counted as the XML arrives, blank padding included, so a single row of a million cells stops
    at the limit instead of being built first.
    """
    rows: list[tuple[Any, ...]] = []
    try:
        for values in _sheet_rows(sheet, max_cells):
            if first is not None and len(rows) >= first:
                break
            if len(rows) >= max_rows:
                raise _OverLimit(f"{max_rows:,} rows")
            rows.append(values)
    except _OverLimit as over:
        return [], too_large(name, f"the sheet {sheet.title!r} holds more than {over}, the most "
                             "this table can hold", sheet.title)
    return rows, None


class _OverLimit(Exception):
    """A sheet past a limit; the argument says which."""


def _sheet_rows(sheet, max_cells: int) -> Iterator[tuple[Any, ...]]:
    """The values of a read-only sheet's rows, parsed from its XML one element at a time.

    openpyxl's own reader builds a whole row before handing it over and keeps every element it
    does not know; here each element is dropped from the tree once read, and the cells are
    counted as they arrive.  Cell values are still openpyxl's (shared strings, dates, booleans).
    """
    from openpyxl.worksheet._reader import CELL_TAG, ROW_TAG, WorkSheetParser
    from openpyxl.xml.functions import iterparse

    book = sheet.parent
    with sheet._get_source() as source:
        cells = WorkSheetParser(source, sheet._shared_strings, data_only=True, epoch=book.epoch,
                                date_formats=book._date_formats,
                                timedelta_formats=book._timedelta_formats)
        parse_cell = cells.parse_cell
        stack: list[Any] = []   # the open elements outside cells
        depth = in_cell = 0     # in_cell: the depth of the cell being read, 0 outside cells
        values: list[Any] = []
        next_row, counted, elements = 1, 0, 0
        max_elements = 4 * max_cells + 10_000   # a cell is 2–4 elements; columns, merges … besides
        for event, element in iterparse(source, events=("start", "end")):
            if event == "start":
                depth += 1
                elements += 1
                if elements > max_elements:
                    raise _OverLimit(f"{max_elements:,} XML elements")
                if in_cell:
                    continue    # the cell's own parts: read with the cell
                stack.append(element)
                if element.tag == CELL_TAG:
                    in_cell = depth
                elif element.tag == ROW_TAG:
                    number = element.get("r")   # as openpyxl reads it: "7", "7.0" or none
                    cells.row_counter = int(float(number)) if number else cells.row_counter + 1
                    cells.col_counter = 0
                    values = []
                continue
            depth -= 1
            if in_cell and depth >= in_cell:
                continue
            stack.pop()
            if in_cell:
                in_cell = 0
                cell = parse_cell(element)
                column = cell["column"]
                counted += max(column - len(values), 1)
                if counted > max_cells:
                    raise _OverLimit(f"{max_cells:,} cells")
                if column > len(values):
                    values.extend([None] * (column - len(values)))
                values[column - 1] = cell["value"]
            elif element.tag == ROW_TAG and cells.row_counter >= next_row:
                while next_row < cells.row_counter:   # rows the sheet skips
                    next_row += 1
                    yield ()
                next_row += 1
                yield tuple(values)
            element.clear()
            if stack:
                del stack[-1][-1]   # the tree stays as small as the current row


def _stream(source: Source):
    return io.BytesIO(source) if isinstance(source, bytes | bytearray) else source


def _mb(size: int) -> str:
    return f"{size / MIB:,.0f} MB" if size >= 10 * MIB else f"{size / MIB:,.1f} MB"

