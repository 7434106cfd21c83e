"""The public results portal: ranking, map, province profiles, compare, method, open data.

``create_app`` and ``Settings`` load on first use (PEP 562): a process that only needs the
settings — the ``dti serve --workers N`` supervisor, which never builds an app — does not load the
engine, the analyses and the store that the app imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE = {"create_app": "app", "Settings": "settings"}

__all__ = ["Settings", "create_app"]

if TYPE_CHECKING:
    from dti.web.app import create_app
    from dti.web.settings import Settings


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'dti.web' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"dti.web.{module}"), name)
    globals()[name] = value
    return value
