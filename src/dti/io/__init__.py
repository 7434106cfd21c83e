"""Reading and writing the files users bring: indicator values (and their templates).

The names below load on first use (PEP 562): a command that only writes CSV or JSON through
``dti.io.export`` does not load the spreadsheet reader and NumPy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dti.lazy import loader

_WHERE = {"read_values": "values", "required_codes": "values", "write_template": "template"}

__all__ = ["read_values", "required_codes", "write_template"]

if TYPE_CHECKING:
    from dti.io.template import write_template
    from dti.io.values import read_values, required_codes


__getattr__ = loader(__name__, _WHERE)

