"""The public portal's HTTP layer: security headers on every public answer, and precomputed
answers served before routing.

:class:`PortalLayer` is a small ASGI layer outside the application.  For a public ``GET`` it looks
the request key up in the :class:`~dti.web.public_cache.PublicCache`: a hit is answered at once
(gzip when accepted, 304 when the ETag matches) without routing; a miss goes to the route, whose
200 answer is kept and then answered exactly as a hit would be, so the first answer and every
later one carry the same headers.  ``/app`` is left to the assessment app (its own headers);
``/static`` to Starlette's file server (its own ETags).

:func:`install` puts the layer on an app (its cache, render gates and report shelf are in the app's
:class:`~dti.web.context.AppContext`); :func:`refresh` starts a fresh cache after a publication.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from anyio import to_thread
from fastapi import FastAPI, Request

from dti.web import api, pages, planner_api, vega
from dti.web.context import context_of
from dti.web.public_cache import Entry, Key, PublicCache, request_key

# Public pages: scripts, styles and images from the site itself, never framed, no MIME sniffing,
# no referrer sent off-site.  Matches the assessment app's policy without 'unsafe-inline' (the
# public templates carry no inline script or style).
SECURITY_HEADERS = (
    (b"content-security-policy", b"default-src 'self'; script-src 'self'; style-src 'self'; "
     b"img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
     b"frame-ancestors 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)


def is_public(path: str) -> bool:
    return not (path == "/app" or path.startswith("/app/"))


def _with(headers: list, extra: tuple[tuple[bytes, bytes], ...]) -> list:
    present = {k.lower() for k, _ in headers}
    return [*headers, *((k, v) for k, v in extra if k not in present)]


class Public:
    """What the layer and the routes share: the recognised parameters and the current cache."""

    def __init__(self, recognised: frozenset[str], max_bytes: int) -> None:
        self.recognised = recognised
        self.max_bytes = max_bytes
        self.cache = PublicCache(max_bytes)

    def key(self, path: str, query_string: bytes) -> Key:
        return request_key(path, query_string, self.recognised)

    def key_of(self, request: Request) -> Key:
        return self.key(request.scope["path"], request.scope.get("query_string", b""))


class Activity:
    """Requests under way in this worker process: the background work (pages built and reports
    rendered ahead) waits for a quiet moment, so a request never shares the interpreter with it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._busy = 0
        self._last = 0.0

    def enter(self) -> None:
        with self._lock:
            self._busy += 1

    def leave(self) -> None:
        with self._lock:
            self._busy -= 1
            self._last = time.monotonic()

    def quiet(self, settle: float = 0.05) -> bool:
        """No request under way, and none ended in the last ``settle`` seconds."""
        with self._lock:
            return self._busy == 0 and time.monotonic() - self._last >= settle

    def wait_quiet(self, stop: Any = lambda: False, poll: float = 0.01) -> None:
        while not self.quiet() and not stop():
            time.sleep(poll)


ACTIVITY = Activity()


class PortalLayer:
    """ASGI layer in front of the portal: precomputed answers and security headers."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        ACTIVITY.enter()
        try:
            await self._answer(scope, receive, send)
        finally:
            ACTIVITY.leave()

    async def _answer(self, scope: dict, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if not is_public(path):
            return await self.app(scope, receive, send)
        extra = SECURITY_HEADERS
        public = context_of(scope["app"]).public
        if scope["method"] != "GET" or path.startswith("/static/"):
            return await self.app(scope, receive, _adding(send, extra))
        cache = public.cache        # the cache of the catalogue this request started under
        key = public.key(path, scope.get("query_string", b""))
        entry = cache.get(key)
        if entry is None:
            status, headers, body = await _capture(self.app, scope, receive)
            if not _keepable(status, headers):
                return await _reply(send, status, _with(headers, extra), body)
            entry = await _build(status, headers, body)
            cache.put(key, entry)
        status, headers, body = entry.answer(scope["headers"])
        await _reply(send, status, _with(headers, extra), body)


# Hashing and gzipping a large body (zlib and hashlib let go of the GIL) happen on a thread of
# their own, so a miss does not hold the event loop for the milliseconds they take.
_PACKING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dti-pack")


async def _build(status: int, headers: list, body: bytes) -> Entry:
    if len(body) < 16_384:
        return Entry.build(status, headers, body)
    return await asyncio.get_running_loop().run_in_executor(_PACKING, Entry.build, status, headers, body)


def _keepable(status: int, headers: list) -> bool:
    names = {k.lower(): v for k, v in headers}
    return (status == 200 and b"set-cookie" not in names
            and b"no-store" not in names.get(b"cache-control", b""))


async def _capture(app: Any, scope: dict, receive: Any) -> tuple[int, list, bytes]:
    start: dict = {}
    chunks: list[bytes] = []

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return start.get("status", 500), list(start.get("headers", [])), b"".join(chunks)


async def _reply(send: Any, status: int, headers: list, body: bytes) -> None:
    if not any(k.lower() == b"content-length" for k, _ in headers) and status != 304:
        headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _adding(send: Any, extra: tuple[tuple[bytes, bytes], ...]) -> Any:
    async def sending(message: dict) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": _with(list(message.get("headers", [])), extra)}
        await send(message)

    return sending


# ---------------------------------------------------------------- installing on an app


def install(app: FastAPI, settings: Any) -> None:
    """The layer and the work ahead at start-up; after every router is included."""
    folder = report_dir(settings)
    vega.keep_in(folder / "charts" if folder else None)   # shared by the workers
    app.add_middleware(PortalLayer)
    app.router.lifespan_context = _lifespan(app.router.lifespan_context)


def public_routes() -> list:
    """The portal's routes (pages, open-data API, planner): the ones the layer keeps answers of."""
    return [*api.router.routes, *planner_api.router.routes, *pages.router.routes]


def refresh(app: FastAPI) -> None:
    """After a publication (the context is already replaced): fresh answers, built ahead."""
    public = context_of(app).public
    public.cache = PublicCache(public.max_bytes)
    start_ahead(app)


def report_dir(settings: Any) -> Path | None:
    """Where PDF reports (and drawn charts) are kept on disk; None: in memory only."""
    return Path(settings.report_dir) if settings.report_dir else None


def start_ahead(app: FastAPI) -> threading.Thread | None:
    """Build the main pages and render the published reports in the background (as set)."""
    from dti.web.ahead import build_ahead

    context = context_of(app)
    if not (context.settings.warm_up or context.settings.render_ahead):
        return None
    thread = threading.Thread(target=build_ahead, args=(app, context.catalogue), daemon=True,
                              name="dti-ahead")
    thread.start()
    return thread


# The collector's first threshold: objects allocated, net of those freed, before a young
# collection (Python's default is 700; a form page allocates several thousand).
YOUNG_COLLECTION = 10_000


def settle_heap() -> None:
    """Move what start-up built (modules, templates, catalogues: ~200,000 objects) out of the
    cyclic collector's sight and let it run less often.  Left alone, each full collection walked
    that whole heap and held every request of the worker for 0.2–0.4 s — the slowest answers
    under load — and young collections ran twice per form page."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION, *gc.get_threshold()[1:])


def _lifespan(inner: Any) -> Any:
    """The app's lifespan (``inner``), with the work ahead started at start-up, and the audit
    lines a stopped server left queued sealed at start (none is left by a server that stops)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        context = context_of(app)
        sealer = getattr(context.store, "sealer", None)
        async with inner(app) as state:
            if context.settings.settle_heap:
                settle_heap()
            to_thread.current_default_thread_limiter().total_tokens = \
                context.settings.request_threads
            context.stopping.clear()
            context.reports.prepare()   # the fingerprint, before the first request needs it
            start_ahead(app)
            if sealer is not None:
                sealer.poke()
            yield state
            context.stopping.set()      # the ahead thread stops after the render under way
            if sealer is not None:
                await asyncio.to_thread(sealer.stop)

    return lifespan
