"""Administrative unit sets: the 63 and 34 provinces, user sets from CSV, the 2025 crosswalk
and a resolver that maps any common spelling of a unit's name to its code.

Everything that names a province (data files, recipes, published tables) goes through
:meth:`UnitSet.resolve`, so one spelling rule applies everywhere.
"""

from dti.units.builtin import (
    Crosswalk,
    UnknownCrosswalkError,
    UnknownUnitSetError,
    load_crosswalk,
    load_unit_set,
    unit_set_ids,
)
from dti.units.names import PROVINCE_ALIASES, fold_diacritics, normalise_name
from dti.units.unit import FormerUnit, Unit
from dti.units.unit_set import AmbiguousUnitError, MergedUnitError, UnitSet

__all__ = [
    "PROVINCE_ALIASES",
    "AmbiguousUnitError",
    "Crosswalk",
    "FormerUnit",
    "MergedUnitError",
    "Unit",
    "UnitSet",
    "UnknownCrosswalkError",
    "UnknownUnitSetError",
    "fold_diacritics",
    "load_crosswalk",
    "load_unit_set",
    "normalise_name",
    "unit_set_ids",
]
