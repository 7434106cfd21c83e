"""The units a values file names, as a unit set: for a custom framework, whose units are not
Vietnam's provinces (COINr's ASEM countries, a ministry's departments).

A custom framework brings its own units, so defaulting to the 63 provinces would refuse every
row.  The unit set is read from the file's unit columns: a code column (``uCode``, ``code`` …)
and a name column (``uName``, ``name`` …); with only one of them, the code is also the name.
Panel data names a unit once per period: each code is taken once, with its first name.  Every
problem of the rows themselves (a row without a unit, a unit twice in one period) is left to the
values reader, which reports it with its row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dti.io.cells import cell_text, header_key
from dti.tabular import read_table
from dti.units import Unit, UnitSet

__all__ = ["units_in_data"]

CODE_COLUMNS: tuple[str, ...] = ("ucode", "code", "ma", "mã")
NAME_COLUMNS: tuple[str, ...] = (
    "uname", "name", "name_vi", "ten", "tên", "unit", "don_vi", "đơn_vị", "province",
    "province_vi", "tinh", "tỉnh", "name_en", "province_en",
)


def units_in_data(path: str | Path, sheet: str | None = None) -> UnitSet:
    """The units named in the values file at ``path``, in file order.  Empty when the file
    cannot be read or has no unit column: the values reader then says why."""
    path = Path(path)
    rows, problems = read_table(path, sheet)
    units = () if problems or not rows else _units(rows)
    label = path.stem
    return UnitSet(id=label, name_vi=f"Đơn vị trong {path.name}",
                   name_en=f"Units in {path.name}", units=units)


def _units(rows: list[dict[str, Any]]) -> tuple[Unit, ...]:
    keys = {header_key(c): c for c in rows[0] if c != "__row__"}
    code_column = next((keys[k] for k in CODE_COLUMNS if k in keys), None)
    name_column = next((keys[k] for k in NAME_COLUMNS if k in keys), None)
    code_column = code_column or name_column
    if code_column is None:
        return ()
    name_column = name_column or code_column
    seen: dict[str, Unit] = {}
    for row in rows:
        code = cell_text(row[code_column])
        if code and code not in seen:
            name = cell_text(row[name_column]) or code
            seen[code] = Unit(code=code, name_vi=name, name_ascii=name, name_en=name)
    return tuple(seen.values())
