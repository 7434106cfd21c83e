"""Precomputed answers of the public portal: the bytes of a page, twin, API answer or report,
gzipped once, with a strong ETag, kept per *request key*.

Published editions are frozen, so an answer is a function of its path and of the query
parameters some public route reads (:func:`recognised_parameters`).  Every other parameter
(``?x=1``, a cache-buster) is ignored: it changes neither the answer nor the key, so it never
costs a render.  The cache belongs to one catalogue; a publication replaces it (``refresh_public``).

Memory is bounded by bytes: answers built at start (:meth:`PublicCache.pin`) stay; the others
are dropped least recently used first.
"""

from __future__ import annotations

import gzip
import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock
from typing import Iterable
from urllib.parse import parse_qsl, unquote_plus

Key = tuple[str, tuple[tuple[str, str], ...]]
# Bodies worth compressing: text of any kind (PDF and XLSX are compressed already).
COMPRESSIBLE = (b"text/", b"application/json", b"image/svg+xml", b"application/javascript")
# Headers the cache sets itself on every answer it gives.
OWN_HEADERS = {b"content-length", b"content-encoding", b"etag", b"vary"}


def recognised_parameters(routes: Iterable) -> frozenset[str]:
    """The query parameters that some public route reads: the only ones a key keeps."""
    names: set[str] = set()
    for route in routes:
        dependant = getattr(route, "dependant", None)
        if dependant is None:
            continue
        names.update(p.alias for p in dependant.query_params)
    return frozenset(names)


def request_key(path: str, query_string: bytes, recognised: frozenset[str]) -> Key:
    """The path and the recognised parameters, by name (values of one name keep their order:
    ``units=01&units=48`` is not ``units=48&units=01``), decoded as Starlette decodes them."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    kept = sorted(((k, v) for k, v in pairs if k in recognised), key=lambda kv: kv[0])
    return path, tuple(kept)


def kept_query(query_string: bytes, recognised: frozenset[str]) -> str:
    """The query string without the parameters no route reads, otherwise as sent (what a page
    links back to, e.g. its other-language twin)."""
    parts = query_string.decode("latin-1").split("&")
    return "&".join(p for p in parts if p and unquote_plus(p.partition("=")[0]) in recognised)


def _accepts_gzip(value: bytes) -> bool:
    for part in value.split(b","):
        coding, _, params = part.strip().partition(b";")
        if coding.strip().lower() in (b"gzip", b"*"):
            q = params.strip().lower()
            return not q.startswith(b"q=") or q[2:].strip() not in (b"0", b"0.", b"0.0", b"0.00",
                                                                    b"0.000")
    return False


def _matches(value: bytes, etags: tuple[bytes, ...]) -> bool:
    """If-None-Match (weak comparison, as RFC 9110 asks for GET)."""
    if value.strip() == b"*":
        return True
    return any(tag.strip().removeprefix(b"W/") in etags for tag in value.split(b","))


@dataclass(frozen=True)
class Entry:
    """One precomputed answer: identity and gzip bodies, each with its strong ETag."""

    status: int
    headers: tuple[tuple[bytes, bytes], ...]   # the route's own, without OWN_HEADERS
    body: bytes
    etag: bytes
    gzipped: bytes | None
    gzip_etag: bytes | None

    @classmethod
    def build(cls, status: int, headers: Iterable[tuple[bytes, bytes]], body: bytes) -> "Entry":
        kept = tuple((k.lower(), v) for k, v in headers if k.lower() not in OWN_HEADERS)
        media = next((v for k, v in kept if k == b"content-type"), b"")
        digest = hashlib.sha256(body).hexdigest()[:32]
        packed = None
        if len(body) > 512 and media.startswith(COMPRESSIBLE):
            packed = gzip.compress(body, 6, mtime=0)
            if len(packed) >= len(body):
                packed = None
        return cls(status, kept, body, f'"{digest}"'.encode(), packed,
                   f'"{digest}-gzip"'.encode() if packed is not None else None)

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped or b"") + 256

    def answer(self, request_headers: Iterable[tuple[bytes, bytes]]) -> tuple[int, list, bytes]:
        """(status, headers, body) for a request: gzip when accepted, 304 when its ETag matches."""
        asked = dict((k.lower(), v) for k, v in request_headers)
        gz = self.gzipped is not None and _accepts_gzip(asked.get(b"accept-encoding", b""))
        body, etag = (self.gzipped, self.gzip_etag) if gz else (self.body, self.etag)
        headers = [*self.headers, (b"etag", etag)]
        if self.gzipped is not None:
            headers.append((b"vary", b"Accept-Encoding"))
        if not any(k == b"cache-control" for k, _ in self.headers):
            headers.append((b"cache-control", b"no-cache"))   # keep, but ask again (ETag → 304)
        tags = tuple(t for t in (self.etag, self.gzip_etag) if t)
        if b"if-none-match" in asked and _matches(asked[b"if-none-match"], tags):
            return 304, [(k, v) for k, v in headers if k != b"content-type"], b""
        if gz:
            headers.append((b"content-encoding", b"gzip"))
        headers.append((b"content-length", str(len(body)).encode()))
        return self.status, headers, body


class PublicCache:
    """Request key → :class:`Entry`, thread-safe, bounded by bytes (pinned entries excepted)."""

    def __init__(self, max_bytes: int = 64 * 2**20) -> None:
        self._items: OrderedDict[Key, Entry] = OrderedDict()
        self._pinned: dict[Key, Entry] = {}
        self._bytes = 0
        self._max = max_bytes
        self._lock = Lock()

    def get(self, key: Key) -> Entry | None:
        found = self._pinned.get(key)
        if found is not None:
            return found
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Key, entry: Entry) -> None:
        if entry.size > self._max // 4:
            return
        with self._lock:
            old = self._items.pop(key, None)
            self._bytes += entry.size - (old.size if old else 0)
            self._items[key] = entry
            while self._bytes > self._max and self._items:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= dropped.size

    def pin(self, key: Key) -> bool:
        """Keep ``key``'s entry whatever the traffic (the answers built at start)."""
        with self._lock:
            entry = self._items.pop(key, None)
            if entry is None:
                return key in self._pinned
            self._bytes -= entry.size
            self._pinned[key] = entry
            return True

    def __len__(self) -> int:
        return len(self._items) + len(self._pinned)
