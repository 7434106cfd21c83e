"""Reading and writing the files users bring: indicator values (and their templates)."""

from dti.io.template import write_template
from dti.io.values import read_values, required_codes

__all__ = ["read_values", "required_codes", "write_template"]
