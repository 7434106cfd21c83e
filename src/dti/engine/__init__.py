"""The engine: pure NumPy stages over a unit × indicator matrix, driven by a frozen recipe.

The names below load on first use (PEP 562), so importing ``dti.engine.recipe`` — which an edition
needs to read its recipe — does not load NumPy and the stages: short commands start faster.
``dti.engine.build`` and ``dti.engine.compare`` stay the functions even after their modules of the
same name are imported (the import system would otherwise bind the modules over them).
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from dti.lazy import loader

_WHERE = {
    "Build": "build", "build": "build",
    "Comparison": "compare", "compare": "compare", "rebase": "compare",
    "Dataset": "data",
    "AggregateSpec": "recipe", "DenominateSpec": "recipe", "ImputeSpec": "recipe",
    "NormaliseSpec": "recipe", "RankSpec": "recipe", "Recipe": "recipe", "ScreenSpec": "recipe",
    "TreatSpec": "recipe",
}

__all__ = ["AggregateSpec", "Build", "Comparison", "Dataset", "DenominateSpec", "ImputeSpec",
           "NormaliseSpec", "RankSpec", "Recipe", "ScreenSpec", "TreatSpec", "build", "compare",
           "rebase"]

if TYPE_CHECKING:
    from dti.engine.build import Build, build
    from dti.engine.compare import Comparison, compare, rebase
    from dti.engine.data import Dataset
    from dti.engine.recipe import (AggregateSpec, DenominateSpec, ImputeSpec, NormaliseSpec,
                                   RankSpec, Recipe, ScreenSpec, TreatSpec)


__getattr__ = loader(__name__, _WHERE)


class _Engine(types.ModuleType):
    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _WHERE.get(name) == name:
            return   # the submodule "build" must not hide the function build
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Engine
