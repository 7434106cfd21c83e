"""Reading the small pieces of text a province officer types: numbers, yes/no, option names.

One rule for each, used by the rule parser, the answer parser and the catalogue loader alike:

* :func:`parse_number` accepts Vietnamese and English decimals: ``"0,5"``, ``"1.234,5"``,
  ``"1,234.5"``, ``"1234.5"``, ``"1 234"``.  With only one kind of separator, a single one is a
  decimal mark (``"0,5"`` = 0.5, ``"2.5"`` = 2.5) and repeated ones group thousands
  (``"1.234.567"``, ``"1,234,567"``).
* :func:`parse_yes_no` accepts có/không, yes/no, x, 1/0, true/false (any case, with or without
  diacritics).
* :func:`slug` turns a Vietnamese label into a stable ASCII key (``"Phó Chủ tịch"`` →
  ``"pho_chu_tich"``); comparing slugs makes option matching case- and diacritics-insensitive.
"""

from __future__ import annotations

import math
import re
import unicodedata

_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")
YES = frozenset({"co", "yes", "y", "x", "1", "true", "dung", "dat"})
NO = frozenset({"khong", "no", "n", "0", "false", "sai", "chua"})


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Lower case, no diacritics (đ → d), single spaces: the form two spellings are compared in."""
    text = nfc(str(text)).replace("đ", "d").replace("Đ", "D")
    bare = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def slug(label: str) -> str:
    """A stable ASCII key for a label: folded, every run of other characters becomes ``_``."""
    return re.sub(r"[^a-z0-9]+", "_", fold(label)).strip("_")


def parse_number(value: object) -> float | None:
    """A finite float from a typed number or text in vi-VN or en style; None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
        return number if math.isfinite(number) else None
    if not isinstance(value, str):
        return None
    text = _SPACES.sub("", value)
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        text = text.replace(thousands, "").replace(decimal, ".")
    elif text.count(",") == 1:
        text = text.replace(",", ".")
    elif text.count(",") > 1:
        text = text.replace(",", "")
    elif text.count(".") > 1:
        text = text.replace(".", "")
    if not _PLAIN_NUMBER.fullmatch(text):
        return None
    number = float(text)   # 400 digits overflow to inf: not a number anyone can answer
    return number if math.isfinite(number) else None


def parse_yes_no(value: object) -> bool | None:
    """True/False from a bool, 1/0 or yes/no words; None when it is none of them."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return {1: True, 0: False}.get(value)  # type: ignore[call-overload]
    if not isinstance(value, str):
        return None
    word = fold(value)
    if word in YES:
        return True
    if word in NO:
        return False
    return None


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def format_number(value: float) -> str:
    """A number as the spreadsheet shows it: ``20`` not ``20.0``; a dot for decimals."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))
