"""The engine: pure NumPy stages over a unit × indicator matrix, driven by a frozen recipe."""

from dti.engine.build import Build, build
from dti.engine.compare import Comparison, compare, rebase
from dti.engine.data import Dataset
from dti.engine.recipe import (AggregateSpec, DenominateSpec, ImputeSpec, NormaliseSpec, RankSpec,
                               Recipe, ScreenSpec, TreatSpec)

__all__ = ["AggregateSpec", "Build", "Comparison", "Dataset", "DenominateSpec", "ImputeSpec",
           "NormaliseSpec", "RankSpec", "Recipe", "ScreenSpec", "TreatSpec", "build", "compare",
           "rebase"]
