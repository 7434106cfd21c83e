"""Words shared by every page of the assessment app, Vietnamese first.  Each route module adds
its own section of ``dti/messages/app.yaml`` (passed to :func:`dti.web.assessment.deps.render` as
``extra_text``).

Also the app's way of writing points, times and province names, so that every page says them the
same way: points with two decimals (``416,72`` is read as a decimal by everyone; ``416,715`` reads
as four hundred thousand to many), times as dd/mm/yyyy HH:MM in Vietnam time (the store keeps
naive UTC), a province by its name in the edition's unit set.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dti.formatting import format_number
from dti.messages import bilingual
from dti.units import load_unit_set
from dti.units.bodies import is_body_code
from dti.units.builtin import unit_set_ids

ROLE_NAMES = bilingual("app.roles")

BODY_ROLE_NAMES = bilingual("app.roles_body")

STATE_NAMES = bilingual("app.states")

TEXT = bilingual("app.common")

AUDIT_ACTIONS = bilingual("app.audit_actions")

MINISTRY_WORDS = bilingual("app.ministry_unit")

REFUSALS = bilingual("app.refusals")

INPUT_FORMAT = "%Y-%m-%dT%H:%M"     # what <input type="datetime-local"> sends and shows


def _vietnam_zone() -> tzinfo:
    try:
        return ZoneInfo("Asia/Ho_Chi_Minh")
    except ZoneInfoNotFoundError:
        # No time-zone database on this machine (a slim image, Windows without tzdata).  Việt Nam
        # has kept UTC+7 all year since 1975, so the fixed offset gives the same times.
        return timezone(timedelta(hours=7), "UTC+7")


VIETNAM = _vietnam_zone()


def text(lang: str) -> dict[str, str]:
    lang = "en" if lang == "en" else "vi"
    return {**TEXT[lang], **{f"role_{k}": v for k, v in ROLE_NAMES[lang].items()},
            **{f"state_{k}": v for k, v in STATE_NAMES[lang].items()}}


def points_text(value: float | None, lang: str) -> str:
    """Points with two decimals, halves rounded up as a person rounds them: 416,715 → 416,72
    (vi), 416.72 (en); '—' when there are none.  The stored value is read through its shortest
    decimal form, so 416.715 is not taken for the binary 416.71499…"""
    if value is None:
        return "—"
    rounded = Decimal(repr(float(value))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return format_number(float(rounded), lang, 2)


def _vietnam(at: datetime) -> datetime:
    """A stored time (naive UTC, or aware) in Vietnam time."""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)
    return aware.astimezone(VIETNAM)


def local_time(at: datetime | None, seconds: bool = False) -> str:
    """dd/mm/yyyy HH:MM in Vietnam time, the same in both languages (the page says once that
    times are Vietnam time, UTC+7); '' when there is no time."""
    if at is None:
        return ""
    return _vietnam(at).strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")


def local_input(at: datetime | None) -> str:
    """A stored time as the value of a ``datetime-local`` input, in Vietnam time."""
    return _vietnam(at).strftime(INPUT_FORMAT) if at is not None else ""


def utc_from_local(value: str) -> datetime:
    """What an official typed in Vietnam time (``2026-03-31T17:00``), as the store's naive UTC.
    A time that says its own offset is taken as it says.  Raises ValueError for anything else."""
    typed = datetime.fromisoformat(value)
    if typed.tzinfo is None:
        typed = typed.replace(tzinfo=VIETNAM)
    return typed.astimezone(timezone.utc).replace(tzinfo=None)


def province_label(code: str | None, lang: str, unit_set: str | None = None) -> str:
    """A unit's name for the page — a province's, or a ministry or government body's — from
    ``unit_set`` when the page knows its edition's.  Without one, the name is taken only when every shipped unit set agrees on it: the same code
    names different provinces before and after the 2025 merger (24 is Bắc Giang, then Bắc Ninh),
    and then the code is shown rather than a wrong name."""
    if not code:
        return ""
    if is_body_code(code):   # a ministry or government body: one name each
        return _body_name(code, lang) or code
    names = {_unit_name(load_unit_set(s), code, lang)
             for s in ([unit_set] if unit_set else unit_set_ids())} - {None}
    return names.pop() if len(names) == 1 else code


def _body_name(code: str, lang: str) -> str | None:
    from dti.units.bodies import body

    try:
        found = body(code)
    except KeyError:
        return None
    return found.name_en if lang == "en" and found.name_en else found.name_vi


def _unit_name(units: Any, code: str, lang: str) -> str | None:
    if code not in units.codes:
        return None
    unit = units.get(code)
    return unit.name_en if lang == "en" and unit.name_en else unit.name_vi


def role_label(role: str, unit_code: str | None, lang: str) -> str:
    """A role's name for a user of this unit: a ministry's editor is not a "province editor"."""
    lang = "en" if lang == "en" else "vi"
    return (BODY_ROLE_NAMES[lang] if is_body_code(unit_code) else {}).get(role) or ROLE_NAMES[lang].get(role, role)


def page_unit_set(values: dict[str, Any]) -> str | None:
    """The unit set of the page's edition (an edition row, an assessment view's edition or a
    plain ``unit_set``), when the page has one."""
    edition = values.get("edition") or getattr(values.get("view"), "edition", None)
    return getattr(edition, "unit_set", None) or (edition.get("unit_set") if isinstance(
        edition, dict) else None) or values.get("unit_set")


def page_province(actor: Any, values: dict[str, Any], lang: str) -> str:
    """The header's name for the actor's unit, in the unit set of the page's edition when the
    page has one."""
    return province_label(actor.province_code, lang, page_unit_set(values))


def unit_words(values: dict[str, Any], lang: str) -> dict[str, str]:
    """The words that replace "province" on the pages of a ministry edition (none elsewhere): a
    body's editor reads "Ghi chú của bộ, cơ quan", not "Ghi chú của tỉnh"."""
    unit_set = page_unit_set(values) or ""
    return MINISTRY_WORDS["en" if lang == "en" else "vi"] if unit_set.startswith("ministries-") else {}


def edition_name(row: Any, lang: str) -> str:
    """An edition by its name in ``lang`` (the Vietnamese one when it has no English name)."""
    return (row.name_en if lang == "en" and row.name_en else row.name_vi) or row.code


def refusal_text(context: dict[str, Any], lang: str) -> str | None:
    """A refusal of the workflow in the page's language, from the kind the store names and its
    particulars (role, state, the states that would do, the window's moment); None for a refusal
    of another kind, which keeps its own message."""
    lang = "en" if lang == "en" else "vi"
    template = REFUSALS[lang].get(str(context.get("refusal") or ""))
    if template is None:
        return None
    states = STATE_NAMES[lang]
    at = context.get("at")
    return template.format(
        role=ROLE_NAMES[lang].get(str(context.get("role")), context.get("role") or ""),
        state=states.get(str(context.get("state")), context.get("state") or ""),
        allowed=", ".join(states.get(s, s) for s in context.get("allowed") or ()),
        at=local_time(datetime.fromisoformat(at)) if at else "")
