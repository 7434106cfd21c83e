"""Ministries and government bodies by date, and the nation: the units of the ministry-level and
national DTI.

The bodies (``data/ministries.csv``, sources in ``data/SOURCES.md`` and in each row) carry their
DTI group (with or without public services), their names and common abbreviations, and the dates
they existed.  The 2025 restructuring of the Government ended several of them on 28 February
2025; each such body names the one it became (its ``successor_code``), so a 2021 ranking keeps the
bodies as they were while a lookup today still says where a body went.

Unit sets: ``ministries-<year>`` holds the bodies that existed on 31 December of that year (an
edition's year), ``national`` the one unit ``VN``.  :func:`find_body` resolves a name against every
body of every date, so "MPI" finds Bộ Kế hoạch và Đầu tư and :func:`change_text` says what it
became.
"""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass

from dti.errors import InputError, Problem, UnknownUnitError
from dti.units.unit import FormerUnit, Unit
from dti.units.unit_set import UnitSet, english_date

MINISTRIES_FILE = "ministries.csv"
NATIONAL_FILE = "national.csv"
NATIONAL_SET = "national"
MINISTRY_SET = re.compile(r"^ministries-(\d{4})$")
MINISTRY_YEARS = tuple(range(2020, 2026))   # the DTI years with a ministry level, and the year after
GROUPS = {
    "with_public_services": ("Bộ, cơ quan có cung cấp dịch vụ công", "Bodies with public services"),
    "without_public_services": ("Bộ, cơ quan không cung cấp dịch vụ công",
                                "Bodies without public services"),
}


@dataclass(frozen=True)
class Body:
    """A ministry or government body over the period it existed (ISO dates, inclusive, empty =
    open) and, when it ended in a merger, the body it became."""

    code: str
    name_vi: str
    name_en: str
    name_ascii: str
    group: str
    also_known_as: tuple[str, ...]
    valid_from: str
    valid_to: str
    successor_code: str
    source: str

    def exists_on(self, day: str) -> bool:
        return (not self.valid_from or self.valid_from <= day) and (not self.valid_to or day <= self.valid_to)

    def name(self, lang: str = "vi") -> str:
        return self.name_en if lang == "en" else self.name_vi

    def unit(self) -> Unit:
        groups = {"group": self.group} if self.group else {}
        return Unit(code=self.code, name_vi=self.name_vi, name_ascii=self.name_ascii,
                    name_en=self.name_en, groups=groups, also_known_as=self.also_known_as)


def is_body_code(code: str | None) -> bool:
    """Whether a unit code is a ministry's or government body's (letters: BTC) rather than a
    province's (GSO digits: 48): the two never collide, so a code says which level it is."""
    return bool(code) and not code.isdigit()


def group_name(group: str, lang: str = "vi") -> str:
    """The group's name to show ("" for a body whose group our sources do not state)."""
    names = GROUPS.get(group)
    return "" if names is None else names[1 if lang == "en" else 0]


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(";") if part.strip())


@functools.cache
def bodies() -> tuple[Body, ...]:
    """Every body of the shipped list, checked: codes unique, groups and successors known."""
    from dti.units.builtin import _read_data

    rows = _read_data(MINISTRIES_FILE)
    found = tuple(Body(r["code"], r["name_vi"], r["name_en"], r["name_ascii"], r["group"],
                       _split(r["also_known_as"]), r["valid_from"], r["valid_to"],
                       r["successor_code"], r["source"]) for r in rows)
    _check(found)
    return found


def _check(found: tuple[Body, ...]) -> None:
    """Raise InputError if the shipped list repeats a code, names an unknown group or successor,
    or ends a body with a successor that does not exist the day after."""
    file = f"dti/units/data/{MINISTRIES_FILE}"
    codes = [b.code for b in found]
    by_code = {b.code: b for b in found}
    problems = []
    for row, body in enumerate(found, start=2):
        if codes.count(body.code) > 1:
            problems.append(Problem("units.duplicate_code", f"code {body.code!r} appears twice",
                                    file=file, row=row, column="code", value=body.code))
        if body.group and body.group not in GROUPS:
            problems.append(Problem("units.unknown_group", f"group {body.group!r} is not one of "
                                    f"{', '.join(GROUPS)}", file=file, row=row, column="group",
                                    value=body.group))
        after = by_code.get(body.successor_code)
        if body.successor_code and (after is None or not body.valid_to
                                    or not after.exists_on(_day_after(body.valid_to))):
            problems.append(Problem("units.bad_successor", f"{body.name_vi} ends on "
                                    f"{body.valid_to or '(no date)'} but its successor "
                                    f"{body.successor_code!r} is not a body that exists the day "
                                    "after", file=file, row=row, column="successor_code",
                                    value=body.successor_code))
    if problems:
        raise InputError(problems)


def _day_after(day: str) -> str:
    return (datetime.date.fromisoformat(day) + datetime.timedelta(days=1)).isoformat()


@functools.cache
def _by_code() -> dict[str, Body]:
    return {b.code: b for b in bodies()}


def body(code: str) -> Body:
    """The body with this code; KeyError if there is none."""
    found = _by_code()
    if code not in found:
        raise KeyError(f"no ministry or government body with code {code!r}")
    return found[code]


def successor(of: Body) -> Body | None:
    """The body ``of`` became when it ended, followed to the end of the chain."""
    seen = {of.code}
    current = of
    while current.successor_code and current.successor_code not in seen:
        current = body(current.successor_code)
        seen.add(current.code)
    return None if current is of else current


def predecessors(of: Body) -> tuple[Body, ...]:
    """The bodies that ended by becoming ``of``."""
    return tuple(b for b in bodies() if b.successor_code == of.code)


def change_text(of: Body, lang: str = "vi") -> str:
    """What became of a body in the restructuring, in one line ("" when it did not change):
    "Bộ Kế hoạch và Đầu tư → Bộ Tài chính from 1 March 2025"."""
    after = successor(of)
    if after is None:
        return ""
    day = _day_after(of.valid_to)
    if lang == "en":
        return f"{of.name_en} → {after.name_en} from {english_date(day)}"
    year, month, dom = (int(p) for p in day.split("-"))
    return f"{of.name_vi} → {after.name_vi} từ ngày {dom}/{month}/{year}"


# -- unit sets ----------------------------------------------------------------------------------

def level_unit_set_ids() -> tuple[str, ...]:
    """The unit sets of the ministry and national levels."""
    return (*(f"ministries-{year}" for year in MINISTRY_YEARS), NATIONAL_SET)


def is_level_set(unit_set: str) -> bool:
    return unit_set in level_unit_set_ids()


@functools.cache
def load_level_set(unit_set: str) -> UnitSet:
    """``ministries-<year>`` (the bodies that existed on 31 December of the year; those already
    merged away fail with their successor named) or ``national``."""
    if unit_set == NATIONAL_SET:
        return _national()
    match = MINISTRY_SET.match(unit_set)
    if not match or int(match.group(1)) not in MINISTRY_YEARS:
        raise KeyError(unit_set)
    year = int(match.group(1))
    day = f"{year}-12-31"
    units = tuple(b.unit() for b in bodies() if b.exists_on(day))
    former = tuple(FormerUnit(b.code, b.name_vi, after.code, b.name_ascii, b.name_en)
                   for b in bodies() if b.valid_to and b.valid_to < day
                   and (after := successor(b)) is not None and after.exists_on(day))
    # None: no body had ended by then (the set holds until the first one ends)
    first_day = min((_day_after(b.valid_to) for b in bodies() if b.valid_to and b.valid_to < day),
                    default=None)
    return UnitSet(id=unit_set, name_vi=f"Các bộ, cơ quan đánh giá DTI năm {year}",
                   name_en=f"Ministries and government bodies assessed in {year}", units=units,
                   valid_from=first_day,
                   valid_to=_last_day_before_change() if first_day is None else None,
                   former_units=former)


def _last_day_before_change() -> str | None:
    ends = [b.valid_to for b in bodies() if b.valid_to]
    return min(ends) if ends else None


@functools.cache
def _national() -> UnitSet:
    from dti.units.builtin import _read_data

    units = tuple(Unit(code=r["code"], name_vi=r["name_vi"], name_en=r["name_en"],
                       name_ascii=r["name_ascii"], groups={"group": "national"},
                       also_known_as=_split(r["also_known_as"]))
                  for r in _read_data(NATIONAL_FILE))
    return UnitSet(id=NATIONAL_SET, name_vi="Quốc gia", name_en="The nation", units=units)


@functools.cache
def _every_body() -> UnitSet:
    return UnitSet(id="ministries (every date)", name_vi="Các bộ, cơ quan (mọi thời kỳ)",
                   name_en="Ministries and government bodies (every period)",
                   units=tuple(b.unit() for b in bodies()))


def find_body(name: str) -> Body:
    """The body ``name`` designates, in any common spelling or abbreviation, among the bodies of
    every date; raise UnknownUnitError (with the closest names) otherwise."""
    return body(_every_body().resolve(name))


def find_national(name: str) -> Unit | None:
    """The national unit when ``name`` names the nation, else None."""
    try:
        return _national().get(_national().resolve(name))
    except UnknownUnitError:
        return None

