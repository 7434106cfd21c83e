"""Work done ahead of requests: the main public pages built into the cache, and every published
PDF report rendered onto disk, at start and after a publication, in one background thread.

Reports live in ``report_dir/<fingerprint>/``.  The fingerprint hashes what the bytes depend on —
the catalogue's published figures and the code and templates that draw them — so a file is
never served for figures or a layout it was not made from; folders of other fingerprints are
removed when the shelf is rendered.  Several worker processes share the folder: one renders
(a lock file), all read; files are written whole (rename) so a reader never sees half a PDF.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator

from dti.web.context import context_of
from dti.web.portal_http import ACTIVITY
from dti.web.render_gate import RenderGate
from dti.web.snapshot import Catalogue

HERE = Path(__file__).parent
# What a report's bytes depend on besides the figures.
RENDERER = ("reports.py", "report_sources.py", "story.py", "maps.py", "i18n.py", "snapshot.py",
            "geo/provinces_63.topo.json", "geo/provinces_34.topo.json", "templates/report_base.html",
            "templates/report_national.html", "templates/report_province.html",
            "templates/_report_sources.html", "templates/_source.html")
LOG = logging.getLogger("dti.web")
MEMORY_REPORTS = 32   # reports kept in memory when no report folder is set


@dataclass(frozen=True)
class ReportSpec:
    """One PDF: an edition on a basis, in a language; ``code`` None is the national report."""

    edition: str
    basis: str
    lang: str
    code: str | None = None

    @property
    def file_name(self) -> str:
        return f"{self.edition}_{self.basis}_{self.code or 'national'}_{self.lang}.pdf"


def fingerprint(catalogue: Catalogue) -> str:
    """A digest of the published figures of every edition and of the report renderer."""
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.sha256()
    try:
        digest.update(version("dti").encode())
    except PackageNotFoundError:
        pass
    for name in RENDERER:
        digest.update((HERE / name).read_bytes())
    for (edition_id, basis), ranking in sorted(catalogue.rankings.items()):
        e = ranking.edition
        digest.update(json.dumps([edition_id, basis, e.name_vi, e.name_en, e.published_on,
                                  e.legal_basis, e.note, e.illustrative, ranking.previous,
                                  [c.as_dict() for c in ranking.columns],
                                  [r.as_dict() for r in ranking.rows]],
                                 sort_keys=True,
                                 default=str).encode())
    return digest.hexdigest()[:24]


class ReportShelf:
    """PDF reports of one catalogue: from disk, or rendered once (single-flight, bounded)."""

    def __init__(self, catalogue: Catalogue, directory: Path | None, gate: RenderGate) -> None:
        self.catalogue = catalogue
        self.directory = directory
        self.gate = gate
        self._memory: OrderedDict[ReportSpec, bytes] = OrderedDict()   # without a directory
        self._lock = threading.Lock()

    @cached_property
    def folder(self) -> Path | None:
        return self.directory / fingerprint(self.catalogue) if self.directory else None

    def prepare(self) -> None:
        """Compute the fingerprint now (at start), not on the first report request."""
        _ = self.folder

    def national(self, edition_id: str, basis: str | None, lang: str) -> ReportSpec:
        from dti.web.reports import ReportNotFound

        ranking = self.catalogue.ranking(edition_id, basis or None)
        if ranking is None:
            raise ReportNotFound(f"no published edition {edition_id!r}" + (f" on {basis}" if basis else ""))
        return ReportSpec(edition_id, ranking.basis, lang)

    def province(self, edition_id: str, code: str, basis: str | None, lang: str) -> ReportSpec:
        from dti.web.reports import ReportNotFound

        if self.catalogue.edition(edition_id) is None:
            raise ReportNotFound(f"no published edition {edition_id!r}")
        ranking = self.catalogue.locate(edition_id, code, basis or None)
        if ranking is None:
            raise ReportNotFound(f"no province with code {code!r} in {edition_id}")
        return ReportSpec(edition_id, ranking.basis, lang, code)

    def stored(self, spec: ReportSpec) -> bytes | None:
        if self.folder is None:
            with self._lock:
                return self._memory.get(spec)
        try:
            return (self.folder / spec.file_name).read_bytes()
        except FileNotFoundError:
            return None

    async def get(self, spec: ReportSpec) -> bytes:
        """The report's bytes: from disk, else awaited from its render (503 when the report
        pool is full)."""
        body = self.stored(spec)
        if body is not None:
            return body
        return await self.gate.run(spec, lambda: self.render(spec))

    def render(self, spec: ReportSpec) -> bytes:
        """Render one report and keep it on disk."""
        from dti.web import reports

        if spec.code is None:
            body = reports.national_report(self.catalogue, spec.edition, spec.lang, spec.basis)
        else:
            body = reports.province_report(self.catalogue, spec.edition, spec.code, spec.lang,
                                           spec.basis)
        if self.folder is None:
            with self._lock:
                self._memory[spec] = body
                while len(self._memory) > MEMORY_REPORTS:
                    self._memory.popitem(last=False)
        else:
            self._keep(spec, body)
        return body

    def _keep(self, spec: ReportSpec, body: bytes) -> None:
        """Write the report whole (rename); a folder that cannot be written costs the disk copy,
        never the answer."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.folder, suffix=".part", delete=False) as part:
                part.write(body)
            os.replace(part.name, self.folder / spec.file_name)
        except OSError as exc:
            LOG.warning("PDF report %s not kept in %s: %s; check DTI_REPORT_DIR", spec.file_name,
                        self.folder, exc)

    def specs(self) -> Iterator[ReportSpec]:
        """Every published report: the national ones first, then the provinces, latest first."""
        editions = sorted(self.catalogue.editions, key=lambda e: e.year, reverse=True)
        rankings = [self.catalogue.ranking(e.id, b) for e in editions for b in e.bases]
        for ranking in rankings:
            for lang in ("vi", "en"):
                yield ReportSpec(ranking.edition.id, ranking.basis, lang)
        for ranking in rankings:
            for lang in ("vi", "en"):
                for row in ranking.rows:
                    yield ReportSpec(ranking.edition.id, ranking.basis, lang, row.code)

    def render_all(self, stop: Any = lambda: False) -> int:
        """Render every report not yet on disk (one process at a time); how many were rendered."""
        if self.folder is None:
            return 0
        import fcntl

        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.directory / ".rendering.lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return 0          # another worker process renders the shelf
            self._remove_stale()
            done = 0
            for spec in self.specs():
                ACTIVITY.wait_quiet(stop)       # requests first: render in a quiet moment
                if stop():
                    break
                if not (self.folder / spec.file_name).exists():
                    done += self._render_claimed(spec)
            return done

    def _render_claimed(self, spec: ReportSpec) -> int:
        flight = self.gate.claim(spec)
        if flight is None:
            return 0               # a request renders it already
        try:
            flight.set_result(self.render(spec))
        except Exception as exc:   # the waiting requests answer it; the shelf goes on
            flight.set_exception(exc)
            return 0
        return 1

    def _remove_stale(self) -> None:
        for other in self.directory.iterdir():
            if other.is_dir() and other != self.folder and len(other.name) == 24:
                shutil.rmtree(other, ignore_errors=True)


def warm_urls(catalogue: Catalogue) -> list[str]:
    """The pages built at start, per edition and language: each ranking with its twins, the
    method and the map; the API's editions and results; the latest edition's provinces."""
    urls = ["/api/v1/editions"]
    editions = sorted(catalogue.editions, key=lambda e: e.year, reverse=True)
    for prefix in ("", "/en"):
        for edition in editions:
            page = f"{prefix}/editions/{edition.id}"
            for basis in edition.bases:
                query = "" if basis == edition.unit_set else f"?basis={basis}"
                urls += [f"{page}{fmt}{query}" for fmt in ("", ".json", ".csv")]
            urls += [f"{page}/method", f"{page}/map"]
    for edition in editions:
        urls += [f"/api/v1/editions/{edition.id}", f"/api/v1/editions/{edition.id}/results",
                 f"/api/v1/editions/{edition.id}/framework"]
    latest = editions[0] if editions else None
    for prefix in ("", "/en") if latest else ():
        ranking = catalogue.ranking(latest.id)
        urls += [f"{prefix}/provinces/{row.code}{fmt}?edition={latest.id}"
                 for row in ranking.rows for fmt in ("", ".json")]
    return urls


def build_ahead(app: Any, catalogue: Catalogue) -> None:
    """The background thread's work: pages into the cache, then reports onto disk; it stops
    when the app stops or its catalogue is replaced."""
    _lower_priority()

    def stop() -> bool:
        current = context_of(app)
        return current.stopping.is_set() or current.catalogue is not catalogue

    settings = context_of(app).settings
    if settings.warm_up:
        asyncio.run(_warm_pages(app, catalogue, stop))
    shelf = context_of(app).reports
    if settings.render_ahead and shelf.catalogue is catalogue and not stop():
        try:
            shelf.render_all(stop)
        except OSError as exc:    # the folder cannot be written: reports render on request
            LOG.warning("PDF reports not rendered ahead into %s: %s; check DTI_REPORT_DIR",
                        shelf.directory, exc)


async def _warm_pages(app: Any, catalogue: Catalogue, stop: Any) -> None:
    from dti.web.export import BASE, asgi_get
    from urllib.parse import urlsplit

    public = context_of(app).public
    for url in warm_urls(catalogue):
        while not ACTIVITY.quiet() and not stop():
            await asyncio.sleep(0.01)       # requests first: build the page in a quiet moment
        if stop():
            return
        status, _, _ = await asgi_get(app, BASE + url)
        if status == 200:
            parts = urlsplit(url)
            public.cache.pin(public.key(parts.path, parts.query.encode("ascii")))


def _lower_priority() -> None:
    """Let request threads have the CPU first (Linux: a thread has its own nice value)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):
        pass
