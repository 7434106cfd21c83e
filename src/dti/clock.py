"""The application's one clock: every timestamp the store writes or compares comes from :func:`now`.

It sits below every other layer (it imports nothing from ``dti``), so the store, the services and
the web read the same time.  :func:`now` looks :data:`source` up at each call: a test that moves
time replaces ``source`` once (``monkeypatch.setattr(clock, "source", lambda: t)``) and every
module sees it, however it imported ``now``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone


def system_time() -> datetime:
    """Naive UTC, the form every timestamp is stored in."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


source: Callable[[], datetime] = system_time


def now() -> datetime:
    """The current time from :data:`source` (naive UTC)."""
    return source()
