"""Read a user unit-set CSV (ministries, departments, districts, communes) into units.

A unit set is the list every later file is checked against, so a bad one must be reported in
full: every problem in the file is collected and raised together as one
:class:`~dti.errors.InputError`, each with its row (as a spreadsheet shows it: the header is the
first non-blank row, row 1 unless blank rows stand above it) and column.  An XLSX workbook is read
too (its first sheet).  Columns: ``code``, ``name`` (or ``name_vi``), optional ``name_en`` and
``name_ascii``; every other column is a grouping column (``region`` and ``type`` also fill the
unit fields of the same name).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dti.errors import InputError, Problem
from dti.tabular import read_grid
from dti.units.names import fold_diacritics, nfc, normalise_name
from dti.units.unit import Unit

NAME_COLUMNS = ("name_vi", "name")
NAME_FIELDS = ("code", "name_vi", "name", "name_en", "name_ascii")


@dataclass
class _Header:
    """Where each known column is, and which columns are grouping columns."""

    code: int | None
    name: int | None
    name_en: int | None
    name_ascii: int | None
    groups: dict[str, int]


def read_units_csv(path: str | Path) -> tuple[Unit, ...]:
    """Return the units of the CSV at ``path``; raise InputError listing every problem found.

    The file-level work (encoding, delimiter, quotes, blank rows) is :func:`dti.tabular.read_grid`,
    shared with every other table the package reads; only the unit rules are checked here.
    """
    grid, problems = read_grid(path)
    if grid is None:
        raise InputError(problems)
    file = grid.name
    header, header_problems = _read_header([_text(c) for c in grid.header], file, grid.header_row)
    problems += header_problems
    records = [(row, [_text(c) for c in cells]) for row, cells in grid.records]
    units, row_problems = _read_rows(records, header, file)
    problems += row_problems
    if not problems and not units:
        problems.append(Problem("file.no_rows", "the file has a header but no units; add one row "
                                "per unit", file=file))
    if problems:
        raise InputError(sorted(problems, key=lambda problem: problem.row or 0))
    return tuple(units)


def _text(cell: Any) -> str:
    """A cell as text (a workbook number without a spurious '.0'), in NFC, trimmed."""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return nfc(str(cell))


def _read_header(cells: list[str], file: str, row: int) -> tuple[_Header, list[Problem]]:
    """Locate the known columns; report missing, duplicated and unnamed ones."""
    while cells and cells[-1] == "":
        cells = cells[:-1]
    problems: list[Problem] = []
    positions: dict[str, int] = {}
    groups: dict[str, int] = {}
    for index, title in enumerate(cells):
        lowered = title.lower()
        if title == "":
            problems.append(Problem("units.empty_header", f"column {index + 1} has no header; "
                                    "name it or delete the column", file=file, row=row,
                                    column=f"#{index + 1}"))
        elif lowered in positions or title in groups:
            problems.append(Problem("units.duplicate_header", f"the header {title!r} appears "
                                    "more than once", file=file, row=row, column=title))
        elif lowered in NAME_FIELDS:
            positions[lowered] = index
        else:
            groups[title] = index
    problems += _header_gaps(positions, file, row)
    name = positions.get("name_vi", positions.get("name"))
    header = _Header(positions.get("code"), name, positions.get("name_en"),
                     positions.get("name_ascii"), groups)
    return header, problems


def _header_gaps(positions: dict[str, int], file: str, row: int) -> list[Problem]:
    """Problems for a header without a code column, without a name column, or with two."""
    problems = []
    if "code" not in positions:
        problems.append(Problem("units.missing_column", "there is no 'code' column; the header "
                                "must name one column 'code'", file=file, row=row, column="code"))
    if not any(column in positions for column in NAME_COLUMNS):
        problems.append(Problem("units.missing_column", "there is no 'name' column; the header "
                                "must name one column 'name' (or 'name_vi')", file=file, row=row,
                                column="name"))
    if all(column in positions for column in NAME_COLUMNS):
        problems.append(Problem("units.two_name_columns", "the header has both 'name' and "
                                "'name_vi'; keep one of them", file=file, row=row, column="name"))
    return problems


def _read_rows(records: list[tuple[int, list[str]]], header: _Header,
               file: str) -> tuple[list[Unit], list[Problem]]:
    """Build one unit per data row, checking codes and names for gaps and repeats."""
    units: list[Unit] = []
    problems: list[Problem] = []
    code_rows: dict[str, int] = {}
    name_rows: dict[str, tuple[int, str]] = {}
    for row, cells in records:
        problems += _extra_values(row, cells, header, file)
        code = _cell(cells, header.code)
        name = _cell(cells, header.name)
        row_problems = _check_code(code, row, code_rows, header, file)
        row_problems += _check_name(name, row, name_rows, header, file)
        problems += row_problems
        if not row_problems and header.code is not None and header.name is not None:
            units.append(_build_unit(cells, header, code, name))
    return units, problems


def _cell(cells: list[str], index: int | None) -> str:
    return cells[index] if index is not None and index < len(cells) else ""


def _extra_values(row: int, cells: list[str], header: _Header, file: str) -> list[Problem]:
    """A row with values beyond the last header is misaligned (often an unquoted comma)."""
    width = 1 + max([header.code or 0, header.name or 0, header.name_en or 0,
                     header.name_ascii or 0, *header.groups.values()])
    extra = [cell for cell in cells[width:] if cell]
    if not extra:
        return []
    return [Problem("units.extra_values", f"this row has {len(extra)} value(s) beyond the last "
                    "column of the header; a name containing a comma must be in double quotes",
                    file=file, row=row, value=extra[0])]


def _check_code(code: str, row: int, code_rows: dict[str, int], header: _Header,
                file: str) -> list[Problem]:
    if header.code is None:
        return []
    if code == "":
        return [Problem("units.empty_code", "the code is empty; every unit needs a code",
                        file=file, row=row, column="code")]
    if code in code_rows:
        return [Problem("units.duplicate_code", f"the code {code!r} is already used in row "
                        f"{code_rows[code]}; each unit needs its own code", file=file, row=row,
                        column="code", value=code)]
    code_rows[code] = row
    return []


def _check_name(name: str, row: int, name_rows: dict[str, tuple[int, str]], header: _Header,
                file: str) -> list[Problem]:
    """Names must be non-empty and tell units apart once spelling differences are ignored."""
    if header.name is None:
        return []
    if name == "":
        return [Problem("units.empty_name", "the name is empty; every unit needs a name",
                        file=file, row=row, column="name")]
    key = normalise_name(name)
    if key == "":
        return [Problem("units.name_without_letters", f"the name {name!r} has no letters or "
                        "digits", file=file, row=row, column="name", value=name)]
    if key in name_rows:
        first_row, first_name = name_rows[key]
        same = "the name" if first_name == name else f"the name {first_name!r}, which reads the same,"
        return [Problem("units.duplicate_name", f"{same} is already used in row {first_row}; "
                        "names must tell units apart", file=file, row=row, column="name",
                        value=name)]
    name_rows[key] = (row, name)
    return []


def _build_unit(cells: list[str], header: _Header, code: str, name: str) -> Unit:
    groups = {title: _cell(cells, index) for title, index in header.groups.items()}
    by_lower = {title.lower(): value for title, value in groups.items()}
    return Unit(
        code=code,
        name_vi=name,
        name_ascii=_cell(cells, header.name_ascii) or fold_diacritics(name),
        name_en=_cell(cells, header.name_en),
        region=by_lower.get("region", ""),
        type=by_lower.get("type", ""),
        groups=groups,
    )
