"""A small bounded map of rendered answers, shared by the pages and the planner API.

Kept apart from the routers that use it so neither has to import the other for it.
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock


class ResponseCache:
    """A small, thread-safe, bounded map from URL to rendered body."""

    def __init__(self, size: int = 2048) -> None:
        self._items: OrderedDict = OrderedDict()
        self._size = size
        self._lock = Lock()

    def get(self, key):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            if len(self._items) > self._size:
                self._items.popitem(last=False)
