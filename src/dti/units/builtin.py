"""The unit sets shipped with the package (63 provinces until 30 June 2025, 34 from 1 July 2025)
and the 2025 crosswalk between them.

The data are CSV files inside the package (``dti/units/data``, sources in its SOURCES.md), read
with :mod:`importlib.resources` so an installed wheel works without the source tree.  Loading is
cached: every caller shares one immutable set.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Mapping
from dataclasses import dataclass, replace
from importlib import resources
from types import MappingProxyType

from dti.errors import DtiError, InputError, Problem
from dti.tabular import table_from_bytes
from dti.units.names import PROVINCE_ALIASES, nfc, normalise_name
from dti.units.unit import FormerUnit, Unit
from dti.units.unit_set import UnitSet

CITY_TYPE = "thành phố trực thuộc trung ương"
PROVINCE_TYPE = "tỉnh"
CROSSWALK_FILE = "provinces_34.csv"


@dataclass(frozen=True)
class _BuiltinSet:
    """Where a shipped unit set comes from and when it is valid."""

    file: str
    name_vi: str
    name_en: str
    valid_from: str | None
    valid_to: str | None


BUILTIN_SETS: Mapping[str, _BuiltinSet] = MappingProxyType({
    "provinces-63": _BuiltinSet(
        "provinces_63.csv",
        "63 tỉnh, thành phố trực thuộc trung ương (đến 30/6/2025)",
        "63 provinces and centrally-run cities (until 30 June 2025)",
        valid_from=None, valid_to="2025-06-30"),
    "provinces-34": _BuiltinSet(
        "provinces_34.csv",
        "34 tỉnh, thành phố trực thuộc trung ương (từ 1/7/2025)",
        "34 provinces and centrally-run cities (from 1 July 2025)",
        valid_from="2025-07-01", valid_to=None),
})
CROSSWALKS: tuple[tuple[str, str], ...] = (("provinces-63", "provinces-34"),)


class UnknownUnitSetError(DtiError):
    """A unit-set id that is not shipped with the package."""

    def __init__(self, unit_set: str, known: list[str]) -> None:
        self.unit_set = unit_set
        self.known = known
        super().__init__(f"unknown unit set {unit_set!r}; known unit sets: {', '.join(known)}")


class UnknownCrosswalkError(DtiError):
    """A pair of unit sets with no shipped crosswalk between them."""

    def __init__(self, from_set: str, to_set: str) -> None:
        self.from_set = from_set
        self.to_set = to_set
        known = ", ".join(f"{old} → {new}" for old, new in CROSSWALKS)
        super().__init__(f"no crosswalk from {from_set!r} to {to_set!r}; known: {known}")


@dataclass(frozen=True)
class Crosswalk:
    """Which old unit became which new one: each old code maps to exactly one new code."""

    from_set: str
    to_set: str
    old_to_new: Mapping[str, str]
    new_to_old: Mapping[str, tuple[str, ...]]

    def counterparts(self, code: str, basis: str, other: str) -> tuple[str, ...]:
        """The units of ``other`` that cover unit ``code`` of ``basis``: itself on the same
        basis, its former units going back, the unit it merged into going forward."""
        if basis == other:
            return (code,)
        if (basis, other) == (self.to_set, self.from_set):
            return tuple(self.new_to_old.get(code, ()))
        if (basis, other) == (self.from_set, self.to_set):
            return (self.old_to_new[code],) if code in self.old_to_new else ()
        return ()


def unit_set_ids() -> tuple[str, ...]:
    """The ids of the shipped unit sets, oldest first."""
    return tuple(BUILTIN_SETS)


NAMES_FILE = "names_by_date.csv"


@dataclass(frozen=True)
class DatedName:
    """A unit's name over a period (``since``/``until`` inclusive ISO dates; empty = open)."""

    unit_set: str
    code: str
    since: str
    until: str
    name_vi: str
    name_en: str
    name_ascii: str

    def holds_on(self, day: str) -> bool:
        return (not self.since or self.since <= day) and (not self.until or day <= self.until)


@functools.cache
def dated_names() -> tuple[DatedName, ...]:
    """The names by date of the shipped units (``data/names_by_date.csv``, sources in its rows)."""
    return tuple(DatedName(r["unit_set"], r["code"], r["from"], r["until"], r["name_vi"], r["name_en"],
                           r["name_ascii"]) for r in _read_data(NAMES_FILE))


def load_unit_set(id: str, as_of: str | None = None) -> UnitSet:  # noqa: A002 (API name)
    """Return the shipped unit set ``id`` with each unit's name as of ``as_of`` (an ISO date;
    default today), e.g. "Thừa Thiên Huế" for code 46 until 31 December 2024; every name a unit
    has had still resolves.  Raise UnknownUnitSetError naming the known ids.

    The ministry and national sets (``ministries-2021``, ``national``) come from
    :mod:`dti.units.bodies`; a ministry set is already the bodies as they were in its year."""
    from dti.units.bodies import is_level_set, load_level_set

    if is_level_set(id):
        return load_level_set(id)
    return _dated_set(id, as_of or datetime.date.today().isoformat())


@functools.cache
def _dated_set(id: str, day: str) -> UnitSet:  # noqa: A002 (API name)
    base = _load_unit_set(id)
    names = [d for d in dated_names() if d.unit_set == id]
    if not names:
        return base
    units = []
    for unit in base.units:
        own = [d for d in names if d.code == unit.code]
        shown = next((d for d in own if d.holds_on(day)), None)
        every = (unit.name_vi, unit.name_en, unit.name_ascii,
                 *(n for d in own for n in (d.name_vi, d.name_en, d.name_ascii)))
        if shown is not None:
            unit = replace(unit, name_vi=shown.name_vi, name_en=shown.name_en or unit.name_en,
                           name_ascii=shown.name_ascii or unit.name_ascii)
        known = {unit.name_vi, unit.name_en, unit.name_ascii}
        units.append(replace(unit, also_known_as=tuple(dict.fromkeys(n for n in every if n and n not in known))))
    return replace(base, units=tuple(units))


@functools.cache
def _load_unit_set(id: str) -> UnitSet:  # noqa: A002 (API name)
    if id not in BUILTIN_SETS:
        from dti.units.bodies import level_unit_set_ids

        raise UnknownUnitSetError(id, [*BUILTIN_SETS, *level_unit_set_ids()])
    spec = BUILTIN_SETS[id]
    rows = _read_data(spec.file)
    if id == "provinces-63":
        units, former = tuple(_unit_from_63_row(row) for row in rows), ()
    else:
        units, former = _units_after_merger(rows)
    return UnitSet(id=id, name_vi=spec.name_vi, name_en=spec.name_en, units=units,
                   valid_from=spec.valid_from, valid_to=spec.valid_to,
                   aliases=PROVINCE_ALIASES, former_units=former)


@functools.cache
def load_crosswalk(from_set: str = "provinces-63", to_set: str = "provinces-34") -> Crosswalk:
    """Return the crosswalk between two shipped sets, built from the merged_from_codes column.

    The shipped data are checked on the way in (every old code used exactly once, every code
    known), so a damaged data file fails loudly instead of dropping a province.
    """
    for unit_set in (from_set, to_set):
        if unit_set not in BUILTIN_SETS:
            raise UnknownUnitSetError(unit_set, list(BUILTIN_SETS))
    if (from_set, to_set) not in CROSSWALKS:
        raise UnknownCrosswalkError(from_set, to_set)
    new_to_old = {row["code"]: _split_codes(row["merged_from_codes"])
                  for row in _read_data(CROSSWALK_FILE)}
    old_to_new = {old: new for new, olds in new_to_old.items() for old in olds}
    _check_crosswalk(new_to_old, load_unit_set(from_set), load_unit_set(to_set))
    return Crosswalk(from_set, to_set, MappingProxyType(old_to_new), MappingProxyType(new_to_old))


def _read_data(file: str) -> list[dict[str, str]]:
    """Rows of a packaged CSV, every value in NFC without surrounding spaces.

    Read by :func:`dti.tabular.table_from_bytes`, like every other table; a damaged data file
    raises InputError with its located problems.
    """
    data = resources.files("dti.units").joinpath("data", file).read_bytes()
    rows, problems = table_from_bytes(data, f"dti/units/data/{file}")
    if problems:
        raise InputError(problems)
    return [{column: nfc(str(value)) for column, value in row.items() if column != "__row__"}
            for row in rows]


def _split_codes(text: str) -> tuple[str, ...]:
    return tuple(code.strip() for code in text.split(";") if code.strip())


def _group_labels(region: str, unit_type: str) -> dict[str, str]:
    """Grouping columns of a province: only the labels the source states."""
    return {column: value for column, value in (("region", region), ("type", unit_type)) if value}


def _unit_from_63_row(row: dict[str, str]) -> Unit:
    return Unit(code=row["code"], name_vi=row["name_vi"], name_ascii=row["name_ascii"],
                name_en=row["name_en"], region=row["region"], type=row["type"],
                groups=_group_labels(row["region"], row["type"]))


def _units_after_merger(rows: list[dict[str, str]]) -> tuple[tuple[Unit, ...],
                                                            tuple[FormerUnit, ...]]:
    """Build the 34 units, and the former units: those whose name or code no longer designates
    the same unit (a current name still resolves first, so "Bắc Ninh" finds the new unit).

    The 34-unit list has no type or English name: the type is that of the 63-set unit with the
    same code (the six centrally-run cities kept their codes) and the English name follows
    from it, as SOURCES.md states.
    """
    old_set = load_unit_set("provinces-63")
    units = []
    for row in rows:
        unit_type = old_set.get(row["code"]).type
        designation = "City" if unit_type == CITY_TYPE else "Province"
        units.append(Unit(code=row["code"], name_vi=row["name_vi"], name_ascii=row["name_ascii"],
                          name_en=f"{row['name_ascii']} {designation}", region=row["region"],
                          type=unit_type, groups=_group_labels(row["region"], unit_type),
                          merged_from=_split_codes(row["merged_from_codes"])))
    current_keys = {normalise_name(unit.name_vi) for unit in units}
    successor = {old: unit.code for unit in units for old in unit.merged_from}
    former = tuple(
        FormerUnit(old.code, old.name_vi, successor[old.code], old.name_ascii, old.name_en)
        for old in old_set
        if successor[old.code] != old.code or normalise_name(old.name_vi) not in current_keys)
    return tuple(units), former


def _check_crosswalk(new_to_old: dict[str, tuple[str, ...]], old_set: UnitSet,
                     new_set: UnitSet) -> None:
    """Raise InputError if the shipped merger list loses, repeats or invents a code."""
    file = f"dti/units/data/{CROSSWALK_FILE}"
    problems, seen = [], {}
    for new, olds in new_to_old.items():
        if new not in new_set:
            problems.append(Problem("crosswalk.unknown_new", f"new code {new!r} is not in "
                                    f"{new_set.id}", file=file, value=new))
        for old in olds:
            if old not in old_set:
                problems.append(Problem("crosswalk.unknown_old", f"old code {old!r} is not in "
                                        f"{old_set.id}", file=file, value=old))
            elif old in seen:
                problems.append(Problem("crosswalk.repeated_old", f"old code {old!r} is merged "
                                        f"into both {seen[old]} and {new}", file=file, value=old))
            seen[old] = new
    for old in old_set.codes:
        if old not in seen:
            problems.append(Problem("crosswalk.missing_old", f"old code {old!r} is merged into "
                                    "no new unit", file=file, value=old))
    if problems:
        raise InputError(problems)
