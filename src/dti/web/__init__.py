"""The public results portal: ranking, map, province profiles, compare, method, open data.

``create_app`` and ``Settings`` load on first use (PEP 562): a process that only needs the
settings — the ``dti serve --workers N`` supervisor, which never builds an app — does not load the
engine, the analyses and the store that the app imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dti.lazy import loader

_WHERE = {"create_app": "app", "Settings": "settings"}

__all__ = ["Settings", "create_app"]

if TYPE_CHECKING:
    from dti.web.app import create_app
    from dti.web.settings import Settings


__getattr__ = loader(__name__, _WHERE)

