"""One administrative unit (a province, ministry, department, district or commune).

Kept separate from :mod:`dti.units.unit_set` so the CSV reader can build units without importing
the set that uses the reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

LANGUAGES: tuple[str, ...] = ("vi", "en", "ascii")


def _empty_groups() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Unit:
    """A unit with its names, its grouping labels and, after a merger, the codes it was made from.

    ``groups`` holds every grouping column (for provinces ``region`` and ``type``; for a user set,
    every extra CSV column such as ``group``).  It is read-only and left out of hashing so a unit
    can still be used as a dictionary key.
    """

    code: str
    name_vi: str
    name_ascii: str = ""
    name_en: str = ""
    region: str = ""
    type: str = ""
    groups: Mapping[str, str] = field(default_factory=_empty_groups, hash=False)
    merged_from: tuple[str, ...] = ()
    # Every other name the unit has had or been shown under (dated names, see
    # ``dti.units.builtin``): the resolver finds the unit by each of them.
    also_known_as: tuple[str, ...] = field(default=(), hash=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.groups, MappingProxyType):
            object.__setattr__(self, "groups", MappingProxyType(dict(self.groups)))
        object.__setattr__(self, "merged_from", tuple(self.merged_from))
        object.__setattr__(self, "also_known_as", tuple(self.also_known_as))

    def name(self, lang: str = "vi") -> str:
        """Return the name to show in ``lang`` ("vi", "en" or "ascii").

        English falls back to the Vietnamese name, not the ASCII one: a place name keeps its
        diacritics in English text, and user sets often have no English names at all.
        """
        if lang == "vi":
            return self.name_vi
        if lang == "en":
            return self.name_en or self.name_vi
        if lang == "ascii":
            return self.name_ascii or self.name_vi
        raise ValueError(f"unknown language {lang!r}; use one of {', '.join(LANGUAGES)}")


@dataclass(frozen=True)
class FormerUnit:
    """A unit that no longer exists in a set because it was merged into ``successor_code``.

    Kept so that an old name (e.g. "Hà Giang" in the 34-province set) fails with an explanation
    instead of resolving silently to a different unit or failing without a hint.
    """

    code: str
    name_vi: str
    successor_code: str
    name_ascii: str = ""
    name_en: str = ""
