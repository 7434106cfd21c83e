"""A set of units (the 63 or 34 provinces, or a user's ministries, districts, communes) and the
resolver that turns any common spelling of a unit's name into its code.

Resolution is strict on purpose: a name that matches two units, or the name of a province that
was merged away, raises instead of picking one, because a silently wrong match puts one
province's scores under another's name.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from dti.errors import InputError, Problem, UnknownUnitError
from dti.units.csv_reader import read_units_csv
from dti.units.names import alias_keys, closest_names, nfc, normalise_name, unique_in_order
from dti.units.unit import FormerUnit, Unit

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")


def english_date(iso_date: str | None) -> str:
    """Write an ISO date as "1 July 2025" for messages; "" when there is no date."""
    if not iso_date:
        return ""
    year, month, day = (int(part) for part in iso_date.split("-"))
    return f"{day} {MONTHS[month - 1]} {year}"


class AmbiguousUnitError(UnknownUnitError):
    """A name that matches more than one unit; the caller must give the code instead."""

    def __init__(self, name: str, units: list[Unit], unit_set: str) -> None:
        super().__init__(name, [unit.name_vi for unit in units], unit_set)
        self.codes = [unit.code for unit in units]
        listed = ", ".join(f"{unit.name_vi} (code {unit.code})" for unit in units)
        self.args = (f"{name!r} matches more than one unit in {unit_set}: {listed}; "
                     "give the code instead",)


class MergedUnitError(UnknownUnitError):
    """The name or code of a unit that was merged into another one and no longer exists."""

    def __init__(self, name: str, former: FormerUnit, successor: Unit, unit_set: str,
                 merged_on: str) -> None:
        super().__init__(name, [successor.name_vi], unit_set)
        self.former_code = former.code
        self.successor_code = successor.code
        when = f" on {merged_on}" if merged_on else ""
        self.args = (f"{name!r} is not a unit of {unit_set}: {former.name_vi} (old code "
                     f"{former.code}) merged into {successor.name_vi}{when}; use "
                     f"{successor.name_vi} (code {successor.code})",)


def _frozen_aliases() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True)
class UnitSet:
    """An ordered set of units with unique codes, valid between two dates.

    ``aliases`` (spelling → official name) holds short forms such as "HCM" that no folding rule
    derives; ``former_units`` holds units merged away before ``valid_from`` so their names fail
    with an explanation.  Both are empty for user sets.
    """

    id: str
    name_vi: str
    name_en: str
    units: tuple[Unit, ...]
    valid_from: str | None = None
    valid_to: str | None = None
    aliases: Mapping[str, str] = field(default_factory=_frozen_aliases, repr=False,
                                       compare=False, hash=False)
    former_units: tuple[FormerUnit, ...] = field(default=(), repr=False, compare=False)
    _by_code: dict[str, Unit] = field(init=False, repr=False, compare=False, hash=False)
    _by_key: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False, hash=False)
    _alias_keys: dict[str, str] = field(init=False, repr=False, compare=False, hash=False)
    _former_by_key: dict[str, FormerUnit] = field(init=False, repr=False, compare=False,
                                                  hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "units", tuple(self.units))
        object.__setattr__(self, "former_units", tuple(self.former_units))
        object.__setattr__(self, "aliases", MappingProxyType(dict(self.aliases)))
        by_code: dict[str, Unit] = {}
        for unit in self.units:
            if unit.code in by_code:
                raise ValueError(f"unit set {self.id!r} has the code {unit.code!r} twice")
            by_code[unit.code] = unit
        object.__setattr__(self, "_by_code", by_code)
        object.__setattr__(self, "_by_key", self._index_names())
        object.__setattr__(self, "_alias_keys", alias_keys(self.aliases))
        former = {normalise_name(name): unit for unit in self.former_units
                  for name in (unit.name_vi, unit.name_ascii, unit.name_en) if name}
        object.__setattr__(self, "_former_by_key", former)

    def _index_names(self) -> dict[str, tuple[str, ...]]:
        """Map each name key (Vietnamese, ASCII and English names) to the codes bearing it."""
        index: dict[str, list[str]] = {}
        for unit in self.units:
            for name in (unit.name_vi, unit.name_ascii, unit.name_en, *unit.also_known_as):
                key = normalise_name(name) if name else ""
                if key and unit.code not in index.setdefault(key, []):
                    index[key].append(unit.code)
        return {key: tuple(codes) for key, codes in index.items()}

    # -- container protocol -------------------------------------------------------------------

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(unit.code for unit in self.units)

    def get(self, code: str) -> Unit:
        """Return the unit with exactly this code; KeyError if there is none."""
        try:
            return self._by_code[code]
        except KeyError:
            raise KeyError(f"no unit with code {code!r} in {self.id}") from None

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __len__(self) -> int:
        return len(self.units)

    def __iter__(self) -> Iterator[Unit]:
        return iter(self.units)

    # -- resolution ---------------------------------------------------------------------------

    def resolve(self, name: str) -> str:
        """Return the code of the unit ``name`` designates (a name in any common spelling, or
        a code); raise UnknownUnitError (or its Ambiguous/Merged subclasses) otherwise."""
        text = nfc(str(name))
        codes = self._codes_for_code(text)
        if not codes:
            key = normalise_name(text)
            codes = self._by_key.get(key) or self._by_key.get(self._alias_keys.get(key, ""), ())
        if len(codes) == 1:
            return codes[0]
        if codes:
            raise AmbiguousUnitError(text, [self._by_code[code] for code in codes], self.id)
        former = self._former_unit(text)
        if former is not None and former.successor_code in self._by_code:
            raise MergedUnitError(text, former, self._by_code[former.successor_code], self.id,
                                  english_date(self.valid_from))
        raise UnknownUnitError(text, self.suggest(text), self.id)

    def resolve_many(self, names: Iterable[str]) -> dict[str, str]:
        """Resolve every name; raise one InputError listing every name that fails."""
        resolved: dict[str, str] = {}
        problems: list[Problem] = []
        for name in names:
            try:
                resolved[name] = self.resolve(name)
            except UnknownUnitError as error:
                problems.append(Problem(_problem_code(error), str(error), unit=name, value=name))
        if problems:
            raise InputError(problems)
        return resolved

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        """Return up to ``limit`` Vietnamese names closest to ``name``, best first.

        Names of merged-away units count as spellings of the unit they merged into, so in the
        34-province set "Hà Nam" suggests "Ninh Bình".
        """
        candidates: dict[str, str] = {}
        for key, codes in self._by_key.items():
            candidates.setdefault(key, self._by_code[codes[0]].name_vi)
        for alias, target in self._alias_keys.items():
            if target in self._by_key:
                candidates.setdefault(alias, self._by_code[self._by_key[target][0]].name_vi)
        for key, former in self._former_by_key.items():
            if former.successor_code in self._by_code:
                candidates.setdefault(key, self._by_code[former.successor_code].name_vi)
        return closest_names(normalise_name(nfc(str(name))), candidates, limit)

    def _codes_for_code(self, text: str) -> tuple[str, ...]:
        """Codes equal to ``text``, or numerically equal to it ("1" finds "01")."""
        if text in self._by_code:
            return (text,)
        if not (text.isascii() and text.isdigit()):
            return ()
        return tuple(code for code in self._by_code
                     if code.isascii() and code.isdigit() and int(code) == int(text))

    def _former_unit(self, text: str) -> FormerUnit | None:
        """The merged-away unit ``text`` names (by name, alias or old code), if any."""
        key = normalise_name(text)
        found = self._former_by_key.get(key) or self._former_by_key.get(
            self._alias_keys.get(key, ""))
        if found is not None or not (text.isascii() and text.isdigit()):
            return found
        return next((unit for unit in self.former_units
                     if unit.code.isdigit() and int(unit.code) == int(text)), None)

    # -- groups -------------------------------------------------------------------------------

    @property
    def group_columns(self) -> tuple[str, ...]:
        """Every grouping column that at least one unit has, in first-seen order."""
        return tuple(unique_in_order(column for unit in self.units for column in unit.groups))

    def group_of(self, column: str) -> dict[str, str]:
        """Map each code to its label in grouping ``column`` ('' when the unit has none)."""
        if column not in self.group_columns:
            known = ", ".join(repr(name) for name in self.group_columns) or "none"
            raise InputError([Problem("units.unknown_group_column", f"the unit set {self.id} "
                                      f"has no grouping column {column!r}; known: {known}",
                                      column=column)])
        return {unit.code: unit.groups.get(column, "") for unit in self.units}

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_csv(cls, path: str | Path, id: str, name_vi: str = "",  # noqa: A002 (API name)
                 name_en: str = "") -> UnitSet:
        """Load a user unit set from a CSV; raise InputError listing every problem in it."""
        units = read_units_csv(path)
        return cls(id=id, name_vi=nfc(name_vi) or id, name_en=nfc(name_en) or nfc(name_vi) or id,
                   units=units)


def _problem_code(error: UnknownUnitError) -> str:
    if isinstance(error, MergedUnitError):
        return "units.merged"
    if isinstance(error, AmbiguousUnitError):
        return "units.ambiguous"
    return "units.unknown"
