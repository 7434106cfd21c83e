"""Reading and writing the files users bring: indicator values (and their templates).

The names below load on first use (PEP 562): a command that only writes CSV or JSON through
``dti.io.export`` does not load the spreadsheet reader and NumPy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE = {"read_values": "values", "required_codes": "values", "write_template": "template"}

__all__ = ["read_values", "required_codes", "write_template"]

if TYPE_CHECKING:
    from dti.io.template import write_template
    from dti.io.values import read_values, required_codes


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'dti.io' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"dti.io.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
