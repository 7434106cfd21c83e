"""Names a package hands out but loads on first use (PEP 562).

A package whose ``__init__`` re-exports from heavy submodules makes every import of any of its
submodules pay for all of them: importing ``dti.engine.recipe`` would load NumPy.  Such a package
says instead which submodule holds each name and sets ``__getattr__ = lazy.loader(__name__, WHERE)``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def loader(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """The package's module ``__getattr__``: import ``where[name]``, keep the name, return it."""

    def load(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)   # later reads skip this function
        return value

    return load
