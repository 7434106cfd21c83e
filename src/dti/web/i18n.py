"""Interface text, Vietnamese first and English second, and number and date formatting per
language."""

from __future__ import annotations

from datetime import date
from typing import Any

from dti.formatting import format_number
from dti.messages import bilingual

TEXT = bilingual("portal.interface")
REGIONS = bilingual("portal.regions")   # keyed by the Vietnamese label the data keep


def region(label: str, lang: str) -> str:
    """A region's name in the interface language (the data keeps the Vietnamese label)."""
    return REGIONS["en"].get(label, label) if lang == "en" else label


def text(lang: str) -> dict[str, str]:
    return TEXT["en" if lang == "en" else "vi"]


def number(value: Any, lang: str, decimals: int = 4) -> str:
    return format_number(value, lang, decimals) if value is not None else "—"


MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")


def date_text(value: str | date | None, lang: str) -> str:
    """A date as readers write it: 21/10/2025 in Vietnamese (day/month/year, no leading zeros, as
    the legal bases and the unit sets already write 1/7/2025), 21 October 2025 in English.

    Editions keep ISO dates, and so do the machine formats (JSON, CSV, ``<time datetime>``); only
    the text a reader sees goes through here.  A value that is not an ISO date is shown as given,
    so a date written in words in an edition file is never lost.
    """
    if not value:
        return "—"
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if lang == "en":
        return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"
    return f"{day.day}/{day.month}/{day.year}"


def name(row: Any, lang: str) -> str:
    """The unit's name in ``lang`` (Vietnamese when it has no English one): ``row`` is a mapping
    or a view record with ``name_vi`` and ``name_en``."""
    if not isinstance(row, dict):
        row = {"name_vi": row.name_vi, "name_en": row.name_en}
    return row.get("name_en") if lang == "en" and row.get("name_en") else row.get("name_vi", "")
