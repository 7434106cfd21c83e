"""The empty values template a provincial officer fills in (CSV or XLSX)."""

from __future__ import annotations

import csv
from pathlib import Path

from dti.errors import InputError, Problem
from dti.framework.model import Framework
from dti.io.values import value_nodes
from dti.units import UnitSet

TEMPLATE_CODE_COLUMN = "code"
TEMPLATE_NAME_COLUMN = "name"
TEMPLATE_SHEET = "values"


def write_template(path: str | Path, framework: Framework, unit_set: UnitSet) -> Path:
    """Write an empty wide values file for ``framework`` (CSV or XLSX, by the suffix of
    ``path``): a code column, a name column (Vietnamese names) and one column per data node
    and denominator, one row per unit of ``unit_set``.  Returns the path written.

    The CSV is UTF-8 with a byte-order mark so spreadsheet programs show the diacritics.
    """
    path = Path(path)
    header = [TEMPLATE_CODE_COLUMN, TEMPLATE_NAME_COLUMN,
              *(n.data_column for n in value_nodes(framework))]
    body = [[unit.code, unit.name_vi, *([""] * (len(header) - 2))] for unit in unit_set]
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        import openpyxl  # imported here: only XLSX output needs it
        from openpyxl.styles import Font

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = TEMPLATE_SHEET
        sheet.append(header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in body:
            sheet.append([c if c != "" else None for c in row])
        for cell in sheet["A"]:
            cell.number_format = "@"  # codes are text: "01" must stay "01"
        sheet.freeze_panes = "C2"
        sheet.column_dimensions["B"].width = 24
        book.save(path)
    elif suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(body)
    else:
        raise InputError([Problem("template.bad_suffix", "cannot write a template as "
                                  f"{path.suffix or 'a file without suffix'}; name it .csv or "
                                  ".xlsx", file=path.name)])
    return path
