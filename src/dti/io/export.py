"""Write result records as CSV, JSON or XLSX (UTF-8; CSV with a BOM so Excel shows Vietnamese)."""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any, Iterable, Mapping

FIXED_TIME = datetime.datetime(2000, 1, 1)

def to_json(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, indent=2, default=_record)


def _record(value: Any) -> Any:
    """A view record (a frozen dataclass with ``as_dict``) is written as the mapping it shows, so
    a page's JSON twin can carry the same records its template reads."""
    if hasattr(value, "as_dict"):
        return value.as_dict()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def to_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    rows = list(rows)
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in r.items()} for r in rows)
    return out.getvalue()


def write_xlsx(rows: Iterable[Mapping[str, Any]], path: Path, sheet: str = "results") -> None:
    write_workbook({sheet: rows}, path)


def write_workbook(tables: Mapping[str, Iterable[Mapping[str, Any]]], path: Path) -> None:
    """Several tables as the sheets of one workbook file (see :func:`workbook_bytes`)."""
    path.write_bytes(workbook_bytes(tables))


def workbook_bytes(tables: Mapping[str, Iterable[Mapping[str, Any]]]) -> bytes:
    """Several tables as the sheets of one workbook (sheet names cut to Excel's 31 characters).

    The bytes are reproducible: the workbook's created/modified dates and the zip entries' times
    are fixed, so the same result always gives the same file.
    """
    import openpyxl  # only XLSX output needs it

    book = openpyxl.Workbook()
    book.remove(book.active)
    book.properties.created = book.properties.modified = FIXED_TIME
    book.properties.creator = "dti"
    for name, rows in tables.items():
        rows = list(rows)
        sheet = book.create_sheet(name[:31])
        if rows:
            sheet.append(list(rows[0]))
            for r in rows:
                sheet.append([v if isinstance(v, (int, float, str)) or v is None else str(v)
                              for v in r.values()])
    buffer = io.BytesIO()
    book.save(buffer)
    return _fixed_zip_times(buffer.getvalue())


def _fixed_zip_times(data: bytes) -> bytes:
    """The same zip with every entry dated 1980-01-01 and the workbook's modified date fixed
    (openpyxl stamps the current time on both when it saves)."""
    source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2000-01-01T00:00:00Z",
                                 content)
            info = zipfile.ZipInfo(item.filename, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = item.external_attr
            out.writestr(info, content)
    return target.getvalue()


def write_output(text: str, out: Path | None) -> None:
    """Write text to ``out`` (UTF-8 with BOM for .csv) or to standard output."""
    if out is None:
        print(text, end="" if text.endswith("\n") else "\n")
        return
    encoding = "utf-8-sig" if out.suffix.lower() == ".csv" else "utf-8"
    out.write_text(text, encoding=encoding)
