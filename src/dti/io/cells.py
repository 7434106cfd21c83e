"""Cell-level parsing shared by the data importer: numbers as officers write them, header keys."""

from __future__ import annotations

import math
import re
import unicodedata
from numbers import Real
from typing import Any

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_SEPARATORS = re.compile(r"[\s_]+")


def header_key(text: str) -> str:
    """The matching key of a header: NFC, case-folded, spaces and underscores as one '_'."""
    folded = unicodedata.normalize("NFC", str(text)).casefold()
    return _SEPARATORS.sub("_", folded).strip("_")


def cell_text(cell: Any) -> str:
    """A cell as text: numbers from a workbook without a spurious '.0', spaces trimmed."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return unicodedata.normalize("NFC", str(cell)).strip()


def parse_number(cell: Any) -> float | str | None:
    """A cell's number; None when empty; the cell as text when it is not a number.

    Workbook numbers pass as they are; text may use a decimal point or, when there is no
    point, one decimal comma ("0,8002", as vi-VN spreadsheets write it).  Only finite numbers
    are numbers: "nan", "inf" and "1e400" (which overflows to infinity) come back as text, so
    the caller reports them as not a number.
    """
    if isinstance(cell, Real) and not isinstance(cell, bool):
        try:
            number = float(cell)
        except OverflowError:  # an integer beyond the float range
            return str(cell)
        return number if math.isfinite(number) else str(cell)
    if cell is None:
        return None
    text = unicodedata.normalize("NFC", str(cell)).strip().replace("\u00a0", "").strip()
    if text == "":
        return None
    candidate = text.replace(",", ".") if "." not in text and text.count(",") == 1 else text
    if _NUMBER.fullmatch(candidate):
        number = float(candidate)
        if math.isfinite(number):
            return number
    return text


def short_number(number: float) -> str:
    """A number for a message: as short as it can be without losing digits (1.3, 120, 0.8002)."""
    return f"{number:.10g}"


def join_or(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"
