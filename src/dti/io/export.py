"""Write result records as CSV, JSON or XLSX (UTF-8; CSV with a BOM so Excel shows Vietnamese)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Iterable, Mapping

def to_json(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, indent=2)


def to_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    rows = list(rows)
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in r.items()} for r in rows)
    return out.getvalue()


def write_xlsx(rows: Iterable[Mapping[str, Any]], path: Path, sheet: str = "results") -> None:
    import openpyxl  # only XLSX output needs it

    rows = list(rows)
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    if rows:
        ws.append(list(rows[0]))
        for r in rows:
            ws.append([v for v in r.values()])
    book.save(path)


def write_workbook(tables: Mapping[str, Iterable[Mapping[str, Any]]], path: Path) -> None:
    """Several tables as the sheets of one workbook (sheet names cut to Excel's 31 characters)."""
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in tables.items():
        rows = list(rows)
        sheet = book.create_sheet(name[:31])
        if rows:
            sheet.append(list(rows[0]))
            for r in rows:
                sheet.append([v if isinstance(v, (int, float, str)) or v is None else str(v)
                              for v in r.values()])
    book.save(path)


def write_output(text: str, out: Path | None) -> None:
    """Write text to ``out`` (UTF-8 with BOM for .csv) or to standard output."""
    if out is None:
        print(text, end="" if text.endswith("\n") else "\n")
        return
    encoding = "utf-8-sig" if out.suffix.lower() == ".csv" else "utf-8"
    out.write_text(text, encoding=encoding)
