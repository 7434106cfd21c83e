"""Panel data: a values file whose ``Time`` column holds several periods, read as a series.

COINr's iData may hold several rows per unit, one per ``Time`` (a year); COINr splits such a
table into one coin per Time.  Here each period becomes its own :class:`Dataset`, read by the
same rules as a single file (:func:`dti.io.values.values_from_rows`) with the row numbers of the
whole file, so every problem still points at the row to correct.  A file without a ``Time``
column, or with one Time, is one period, as before.

Time must be a number (COINr orders periods by it); periods come back in increasing Time.  A
unit written twice within one Time is refused by the reader's duplicate check; the same unit in
two Times is the point of panel data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dti.engine.data import Dataset
from dti.errors import DataError, Problem
from dti.framework.model import Framework
from dti.io.cells import cell_text, header_key, parse_number, short_number
from dti.io.values import TIME_COLUMNS, _file_label, values_from_rows
from dti.tabular import read_table
from dti.units import UnitSet

__all__ = ["Period", "read_periods", "split_by_time"]

Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class Period:
    """One period of a values file: its Time as written for people ("2018"; None when the file
    has no Time column) and its values."""

    time: str | None
    dataset: Dataset


def read_periods(path: str | Path, framework: Framework, unit_set: UnitSet, *,
                 sheet: str | None = None, allow_missing: bool = False) -> tuple[Period, ...]:
    """Every period of the values file at ``path``, in increasing Time.

    Raises :class:`DataError` listing every problem of every period at once (a problem of the
    header, shared by all periods, is listed once).
    """
    path = Path(path)
    rows, problems = read_table(path, sheet)
    if problems:
        raise DataError(problems)
    file = _file_label(path, sheet)
    periods = split_by_time(rows, file)
    out: list[Period] = []
    problems = []
    for time, period_rows in periods:
        try:
            dataset = values_from_rows(period_rows, framework, unit_set, file=file,
                                       source=path.name, allow_missing=allow_missing)
        except DataError as error:
            problems.extend(p for p in error.problems if p not in problems)
            continue
        out.append(Period(time, dataset))
    if problems:
        raise DataError(problems)
    return tuple(out)


def split_by_time(rows: Rows, file: str) -> list[tuple[str | None, Rows]]:
    """The rows of each Time, in increasing Time; one ``(None, rows)`` without a Time column
    (or with a Time column left empty throughout).  Raises DataError for a Time that is not a
    number, or empty on some rows only."""
    column = next((c for c in rows[0] if c != "__row__" and header_key(c) in TIME_COLUMNS), None)
    if column is None or all(cell_text(row[column]) == "" for row in rows):
        return [(None, rows)]
    by_time: dict[float, Rows] = {}
    problems: list[Problem] = []
    for row in rows:
        time = parse_number(row[column])
        if isinstance(time, float):
            by_time.setdefault(time, []).append(row)
        elif time is None:
            problems.append(Problem(
                "data.missing_time", "the row has no Time while other rows have one; write the "
                "period (a year such as 2018) of this row", file=file, row=row["__row__"],
                column=column))
        else:
            problems.append(Problem(
                "data.bad_time", f"Time {time!r} is not a number; write the period as a number "
                "(a year such as 2018), as COINr does, so that periods can be put in order",
                file=file, row=row["__row__"], column=column, value=row[column]))
    if problems:
        raise DataError(problems)
    return [(short_number(time), by_time[time]) for time in sorted(by_time)]
