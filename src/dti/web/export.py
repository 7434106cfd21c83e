"""Static export of the public portal: every page, its ``.json``/``.csv`` twins, the ``/api/v1``
snapshots and the assets, as files that any web server (or a plain folder) can serve.

The export is the app's own output: each URL is requested from ``create_app()`` in this process
(through the ASGI interface, as a server would) and the answer saved.  Only the links are
rewritten, to *relative* file paths, so the site works under any folder of any server and from
``file://``.  The scheme (Vietnamese at the root, English under ``en/``)::

    /editions/E                      → editions/E/index.html   (+ editions/E.json, editions/E.csv)
    /editions/E?basis=B (not the edition's default basis)
                                     → editions/E/bases/B/index.html (+ editions/E/bases/B.json …)
    /editions/E/method               → editions/E/method/index.html (+ editions/E/method.json …)
    /provinces/C?edition=E           → editions/E/provinces/C/index.html (+ …/provinces/C.json …)
    /provinces/C?edition=E&basis=B   → editions/E/bases/B/provinces/C/index.html
    /editions/E/map?indicator=X      → editions/E/map/indicators/X/index.html (the total: map/)
    /editions/E/map?show=V (V not the view the map opens on, see maps.default_show)
                                     → editions/E/map/by-V/index.html
    /compare                         → compare/index.html (+ compare.json, compare.csv)
    /api/v1/editions                 → api/v1/editions.json
    /api/v1/editions/E/results       → api/v1/editions/E/results.json
    /api/v1/docs                     → api/v1/docs/index.html (Swagger UI from static/vendor;
                                       its data-openapi link → api/v1/openapi.json)
    /static/…                        → static/…
    /  and  /en/  (redirects)        → index.html, en/index.html (a refresh to the latest ranking)

A query parameter that names *which* page it is (``edition``, ``basis``, ``indicator``,
``show``, ``lang``) becomes part of the file path.  The others (``region``, ``q``, ``sort``, ``order``,
``units`` …) only select within a page: they stay on the rewritten link as a query string and
``static/export-site.js``, which the export adds to every page, applies them in the browser (a
static server ignores query strings); when a form sends a naming parameter (the map's
indicator), that script goes to the page it names.  The ``/api/v1`` snapshots are copied as the
API answers them: the links inside them are the live API's URLs.

Pages are found by a crawl: the seeds are every page of the selected editions (each unit of each
basis, each map indicator) and every GET route of the OpenAPI description, then every in-site
link of every page is followed, so a page the templates link to is never missing.  Links that
answer an error are reported, not written.

The files are written into a temporary folder beside ``out`` and renamed into place at the end:
a failed export leaves nothing behind, and a reader never sees half a site.
"""

from __future__ import annotations

import asyncio
import html
import json
import posixpath
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit

from dti.errors import InputError, Problem
from dti.web import maps
from dti.web.context import context_of
from dti.web.settings import Settings
from dti.web.snapshot import Catalogue

HERE = Path(__file__).parent
IDENTITY = ("edition", "basis", "indicator", "show", "lang")   # query parameters that name a page
SHIM = "static/export-site.js"
KINDS = ("pages", "json", "csv", "api", "assets")
KIND_LABELS = {"pages": "HTML pages", "json": "JSON twins", "csv": "CSV twins",
               "api": "API snapshots", "assets": "static assets"}
_ATTRIBUTE = re.compile(r'(\s)(href|src|action|data-[\w-]+)="([^"]*)"')
# Parts of a page that only a running server can answer (PDF reports rendered on request): the
# static site leaves them out rather than rendering every report ahead or linking to nothing.
_SERVER_ONLY = re.compile(r'<span class="server-only">.*?</span>', re.S)
_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,5}$")


@dataclass
class ExportReport:
    """What an export wrote: files and bytes per kind, the editions, links that led nowhere."""

    out: Path
    editions: tuple[str, ...]
    files: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    bytes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    broken: list[tuple[str, str, int]] = field(default_factory=list)   # (page, link, status)
    paths: list[str] = field(default_factory=list)

    @property
    def total_files(self) -> int:
        return sum(self.files.values())

    @property
    def total_bytes(self) -> int:
        return sum(self.bytes.values())

    def add(self, path: str, size: int) -> None:
        if path.startswith("static/") or path == "favicon.ico":
            kind = "assets"
        elif path.startswith(("api/", "en/api/")):
            kind = "api"
        elif path.endswith(".json"):
            kind = "json"
        elif path.endswith(".csv"):
            kind = "csv"
        else:
            kind = "pages"
        self.files[kind] += 1
        self.bytes[kind] += size
        self.paths.append(path)


# -- which editions ---------------------------------------------------------------------------

def editions_for(edition: str | None, every: bool, extra: tuple = ()) -> tuple[str, ...]:
    """The edition ids the exported portal holds.

    ``every``: all published editions.  Otherwise the portal as it stands on the publication of
    ``edition`` (default: the latest): that edition and the published ones of earlier years, so ranks
    move against the previous edition and profiles carry their history, and the latest edition
    of the exported site is ``edition`` itself.  ``extra``: editions published from the
    assessment store, beside the shipped ones.
    """
    from dti.editions import edition_ids, load_edition

    published = [load_edition(e) for e in edition_ids()] + list(extra)
    published = [e for e in published if e.is_published]
    if not published:
        raise InputError([Problem("export.not_published", "no edition is published yet; there is "
                                  "nothing to export")])
    if every:
        return tuple(e.id for e in published)
    by_id = {e.id: e for e in published}
    chosen = by_id.get(edition) or load_edition(edition) if edition else \
        max(published, key=lambda e: e.year)
    if not chosen.is_published:
        raise InputError([Problem("export.not_published", f"edition {chosen.id!r} is not published; "
                                  "only published editions are exported (published: "
                                  + ", ".join(e.id for e in published) + ")")])
    return tuple(e.id for e in published if e.year < chosen.year) + (chosen.id,)


# -- the URL → file scheme -------------------------------------------------------------------

# Pages where "no basis" means every basis side by side, not the edition's default basis.
ALL_BASES = re.compile(r"^(?:/en)?/editions/[^/]+/map(?:\.[a-z]+)?$")


@dataclass(frozen=True)
class Key:
    """A page of the site: its path and the query parameters that name it (canonical)."""

    path: str
    identity: tuple[tuple[str, str], ...] = ()

    @property
    def url(self) -> str:
        return self.path + ("?" + urlencode(self.identity) if self.identity else "")


class Scheme:
    """Canonical page keys for app URLs and the static file path of each."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    def split(self, url: str) -> tuple[Key, list[tuple[str, str]], str]:
        """(page key, the selecting query parameters, fragment) of an absolute in-site URL."""
        parts = urlsplit(url)
        path = parts.path or "/"
        params = parse_qsl(parts.query, keep_blank_values=True)
        ident = {k: v for k, v in params if k in IDENTITY and v}
        dynamic = [(k, v) for k, v in params if k not in IDENTITY]
        return Key(path, self.canonical(path, ident)), dynamic, parts.fragment

    def canonical(self, path: str, ident: dict[str, str]) -> tuple[tuple[str, str], ...]:
        """Identity parameters less those that repeat the default (the same page)."""
        ident = dict(ident)
        if ident.get("show") and ident["show"] == self.map_default(path, ident):
            del ident["show"]                        # the view the map opens on: map/, not by-…/
        edition_id = edition_of(path, ident)
        edition = self.catalogue.edition(edition_id) if edition_id else None
        if edition is not None:
            if ident.get("basis") == edition.unit_set and not ALL_BASES.match(path):
                del ident["basis"]
            ranking = self.catalogue.ranking(edition.id)
            if ranking is not None and ident.get("indicator") == ranking.root:
                del ident["indicator"]
        if ident.get("lang") == "vi":
            del ident["lang"]
        return tuple(sorted(ident.items()))

    def map_default(self, path: str, ident: dict[str, str]) -> str | None:
        """The view a map page opens on without ``show``, by the live page's own rule (by rank
        where fewer scores than ranks are published); None for any other page."""
        edition_id = edition_of(path, ident)
        if not ALL_BASES.match(path) or not edition_id:
            return None
        rankings = maps.page_rankings(self.catalogue, edition_id, ident.get("basis", ""))
        indicator = ident.get("indicator") or (rankings[0].root if rankings else "")
        if not rankings or rankings[0].column(indicator) is None:
            return None
        return maps.default_show(rankings, indicator)

    @staticmethod
    def file(key: Key, content_type: str) -> str:
        """The file (relative, POSIX) that holds ``key``'s response of ``content_type``."""
        path, ident = key.path, dict(key.identity)
        prefix = ""
        if path == "/en" or path.startswith("/en/"):
            prefix, path = "en/", path[3:] or "/"
        path = path.rstrip("/")
        name = path.rsplit("/", 1)[-1]
        m = _SUFFIX.search(name)
        suffix = m.group() if m else ""
        path = path[: len(path) - len(suffix)]
        if ident.get("edition") and not path.startswith(("/editions/", "/api/", "/static/")):
            path = f"/editions/{ident['edition']}" + path
        if ident.get("basis"):
            m = re.match(r"^(/(?:api/v1/)?editions/[^/]+)(.*)$", path)
            path = (m.group(1) + f"/bases/{ident['basis']}" + m.group(2) if m
                    else path + f"/bases/{ident['basis']}")
        if ident.get("indicator"):
            path += f"/indicators/{ident['indicator']}"
        if ident.get("show"):
            path += f"/by-{ident['show']}"
        lang = ".en" if ident.get("lang") == "en" else ""
        kind = content_type.split(";")[0].strip().lower()
        if suffix and (path.startswith("/static/") or kind == "text/html"):
            path += suffix                           # a file already: /static/site.css
        elif suffix:
            path += lang + suffix                    # a twin: /editions/E.json
        elif kind == "application/json":
            path += lang + ".json"
        elif kind == "text/csv":
            path += lang + ".csv"
        else:
            path += "/index.html"
        return prefix + path.lstrip("/")


def edition_of(path: str, ident: dict[str, str]) -> str | None:
    bare = path[3:] if path.startswith("/en/") else path
    m = re.match(r"^/(?:api/v1/)?editions/([^/]+?)(?:\.[a-z]+)?(?:/|$)", bare)
    return m.group(1) if m else ident.get("edition")


def relative(target: str, source: str) -> str:
    """The relative link from file ``source`` to file ``target`` (both relative POSIX paths)."""
    return posixpath.relpath(target, posixpath.dirname(source) or ".")


# -- the crawl -------------------------------------------------------------------------------

@dataclass
class Fetched:
    key: Key
    status: int
    content_type: str
    body: bytes
    location: Key | None = None


def seeds(catalogue: Catalogue, editions: tuple[str, ...] | None = None) -> list[str]:
    """Every page the portal has for the catalogue's editions, in both languages: each ranking on
    each basis, each province of each basis, the map of each shown indicator, the method, the
    empty compare page, with their twins; and the static assets."""
    urls: list[str] = []
    twins = ("", ".json", ".csv")
    for prefix in ("", "/en"):
        urls += [f"{prefix}/"] + [f"{prefix}/compare{fmt}" for fmt in twins]
        urls += level_seeds(catalogue, prefix, twins)
        for edition in catalogue.editions:
            if editions is not None and edition.id not in editions:
                continue
            page = f"{prefix}/editions/{edition.id}"
            codes: set[str] = set()
            for basis in edition.bases:
                query = "" if basis == edition.unit_set else f"?basis={basis}"
                urls += [f"{page}{fmt}{query}" for fmt in twins]
                ranking = catalogue.ranking(edition.id, basis)
                if ranking is not None:
                    codes.update(row.code for row in ranking.rows)
            # a code on two bases (2024) is one URL: the pages' own links add the basis when the
            # app's profile takes one, and the crawl follows them
            urls += [f"{prefix}/provinces/{code}{fmt}?edition={edition.id}"
                     for code in sorted(codes) for fmt in twins]
            urls += [f"{page}/method{fmt}" for fmt in twins]
            ranking = catalogue.ranking(edition.id)
            views = [""] + ([f"basis={b}&" for b in edition.bases] if len(edition.bases) > 1 else [])
            for column in ranking.columns if ranking else ():
                urls += [f"{page}/map{fmt}?{view}indicator={column.code}"
                         for view in views for fmt in twins]
    urls += ["/static/" + p.relative_to(HERE / "static").as_posix()
             for p in sorted((HERE / "static").rglob("*")) if p.is_file()]
    return urls + ["/favicon.ico"]                   # what browsers ask a site's root for


def level_seeds(catalogue: Catalogue, prefix: str, twins: tuple[str, ...]) -> list[str]:
    """The ministry-level and national pages with their twins: the national page, the ministry
    ranking of each year (and the bare one), and the profile of every body a ranking names or
    that one of them became or took over in the restructuring."""
    from dti.units.bodies import body, predecessors, successor

    if not catalogue.levels:
        return []
    ministry = [e for e in catalogue.levels if e.level == "ministry"]
    codes = {r.code for e in ministry for r in e.results}
    for code in list(codes):
        after = successor(body(code))
        codes.update(b.code for b in (*predecessors(body(code)), *([after] if after else [])))
    urls = [f"{prefix}/levels/national{fmt}" for fmt in twins]
    urls += [f"{prefix}/levels/ministry{fmt}" for fmt in twins]
    urls += [f"{prefix}/levels/ministry{fmt}?edition={e.id}" for e in ministry for fmt in twins]
    return urls + [f"{prefix}/levels/ministry/{code}{fmt}" for code in sorted(codes) for fmt in twins]


def api_seeds(catalogue: Catalogue, spec: dict) -> list[str]:
    """Every GET route of the OpenAPI description, for every edition, province and basis: the
    path parameters ``edition`` and ``code`` and the query parameters ``basis`` and ``lang`` are
    enumerated; a route with any other path parameter cannot be and is left out."""
    urls: list[str] = ["/api/v1/openapi.json", "/api/v1/docs"]
    units: dict[str, dict[str, set[str]]] = {}       # edition → basis → codes
    for edition in catalogue.editions:
        for basis in edition.bases:
            ranking = catalogue.ranking(edition.id, basis)
            units.setdefault(edition.id, {})[basis] = {r.code for r in ranking.rows} if ranking else set()
    for path, operations in spec.get("paths", {}).items():
        get = operations.get("get")
        if not get or "{" in path.replace("{edition}", "").replace("{code}", ""):
            continue
        if "planner" in get.get("tags", ()):
            continue  # computed on request for a chosen target: no single answer to freeze
        query = {p["name"] for p in get.get("parameters", []) if p.get("in") == "query"}
        editions = [e.id for e in catalogue.editions] if "{edition}" in path else [None]
        for edition in editions:
            bases = units[edition] if edition else {b: c for e in units.values() for b, c in e.items()}
            combos: list[tuple[str, str | None]] = []     # (path, basis)
            if "{code}" in path:
                codes: dict[str, list[str]] = {}
                for basis, found in (units[edition] if edition else _merge(units)).items():
                    for code in found:
                        codes.setdefault(code, []).append(basis)
                for code, in_bases in sorted(codes.items()):
                    filled = path.replace("{edition}", edition or "").replace("{code}", code)
                    combos.append((filled, None))
                    if "basis" in query:
                        combos += [(filled, b) for b in in_bases]
            else:
                filled = path.replace("{edition}", edition or "")
                combos.append((filled, None))
                if "basis" in query:
                    combos += [(filled, b) for b in bases]
            for filled, basis in combos:
                params = [("basis", basis)] if basis else []
                urls.append(filled + ("?" + urlencode(params) if params else ""))
                if "lang" in query:
                    urls.append(filled + "?" + urlencode([*params, ("lang", "en")]))
    # the ministry-level and national editions: their results (their pages: level_seeds)
    urls += [f"/api/v1/editions/{level.id}/results" for level in catalogue.levels]
    return urls


def _merge(units: dict[str, dict[str, set[str]]]) -> dict[str, set[str]]:
    merged: dict[str, set[str]] = {}
    for bases in units.values():
        for basis, codes in bases.items():
            merged.setdefault(basis, set()).update(codes)
    return merged


BASE = "http://portal.export"
WORKERS = 8          # requests in flight: the routes run in the app's thread pool


async def asgi_get(app, url: str) -> tuple[int, dict[str, str], bytes]:
    """GET ``url`` from the ASGI ``app`` in this process: (status, headers, body).  No server,
    no socket and no HTTP client library: the app's own answer, as a server would pass it on."""
    parts = urlsplit(url)
    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": unquote(parts.path),
             "raw_path": parts.path.encode("ascii"), "query_string": parts.query.encode("ascii"),
             "root_path": "", "headers": [(b"host", parts.netloc.encode("ascii"))],
             "client": ("127.0.0.1", 0), "server": (parts.hostname or "localhost", 80)}
    done = asyncio.Event()
    status, headers, chunks = 500, [], []
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status, headers = message["status"], message.get("headers", [])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                done.set()

    await app(scope, receive, send)
    done.set()
    return status, {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in headers}, b"".join(chunks)


async def crawl(app, scheme: Scheme, start: list[str]) -> tuple[dict[Key, Fetched], list]:
    """Fetch every seed and every in-site page they link to; return them and the failures as
    (the page that links, the link, its status)."""
    fetched: dict[Key, Fetched] = {}
    broken: list[tuple[str, str, int]] = []
    queue: asyncio.Queue[tuple[Key, str]] = asyncio.Queue()
    seen: set[Key] = set()

    def enqueue(url: str, source: str) -> Key | None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.netloc != urlsplit(BASE).netloc:
            return None
        key = scheme.split(url)[0]
        if key not in seen:
            seen.add(key)
            queue.put_nowait((key, source))
        return key

    async def fetch(key: Key, source: str) -> None:
        status, headers, body = await asgi_get(app, BASE + key.url)
        content_type = headers.get("content-type", "application/octet-stream")
        item = Fetched(key, status, content_type, body)
        fetched[key] = item
        if status in (301, 302, 303, 307, 308) and "location" in headers:
            item.location = enqueue(urljoin(BASE + key.url, headers["location"]), key.url)
            if item.location is None:
                broken.append((source, key.url, status))
            return
        if status != 200:
            broken.append((source, key.url, status))
            return
        if content_type.startswith("text/html"):
            page_url, text = BASE + key.url, _SERVER_ONLY.sub("", body.decode("utf-8"))
            item.body = text.encode("utf-8")
            for _, attribute, value in _ATTRIBUTE.findall(text):
                url = _link_url(attribute, html.unescape(value), page_url)
                if url:
                    enqueue(url, key.url)

    async def worker() -> None:
        while True:
            key, source = await queue.get()
            try:
                await fetch(key, source)
            finally:
                queue.task_done()

    for url in start:
        enqueue(BASE + url, "(every page of the edition)")
    workers = [asyncio.create_task(worker()) for _ in range(WORKERS)]
    try:
        joined = asyncio.create_task(queue.join())
        # a worker that raised ends the crawl with its error instead of waiting for ever
        finished, _ = await asyncio.wait([joined, *workers], return_when=asyncio.FIRST_COMPLETED)
        for task in finished:
            if task is not joined:
                task.result()
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    return dict(sorted(fetched.items(), key=lambda kv: kv[0].url)), broken


def _link_url(attribute: str, value: str, page_url: str) -> str | None:
    """The absolute URL an attribute value points to, or None when it is not a site link."""
    value = value.strip()
    if not value or value.startswith(("#", "mailto:", "javascript:", "data:", "tel:")):
        return None
    if attribute.startswith("data-") and not value.startswith("/"):
        return None                          # data-region="…", data-value="0.8": not links
    return urljoin(page_url, value)


# -- writing ---------------------------------------------------------------------------------

def _rewrite(text: str, source: str, page_url: str, scheme: Scheme, files: dict[Key, str]) -> str:
    def link(url: str) -> str | None:
        key, dynamic, fragment = scheme.split(url)
        target = files.get(key)
        if target is None:
            return None
        out = relative(target, source)
        if dynamic:
            out += "?" + urlencode(dynamic)
        return out + (f"#{fragment}" if fragment else "")

    def attribute(m: re.Match) -> str:
        space, name, value = m.groups()
        url = _link_url(name, html.unescape(value), page_url)
        if url is None or urlsplit(url).netloc != urlsplit(BASE).netloc:
            return m.group(0)
        new = link(url)
        return m.group(0) if new is None else f'{space}{name}="{html.escape(new, quote=True)}"'

    return _ATTRIBUTE.sub(attribute, text)


def _redirect_page(target: str) -> bytes:
    href = html.escape(target, quote=True)
    return (f'<!doctype html>\n<html><head><meta charset="utf-8"><title>DTI</title>'
            f'<meta http-equiv="refresh" content="0; url={href}"><link rel="canonical" href="{href}">'
            f'</head><body><p><a href="{href}">{href}</a></p></body></html>\n').encode("utf-8")


def _final(fetched: dict[Key, Fetched], key: Key) -> Key:
    """Where a chain of redirects ends (``/en`` → ``/en/`` → ``/en/editions/E``)."""
    for _ in range(10):
        item = fetched.get(key)
        if item is None or item.location is None:
            break
        key = item.location
    return key


def write_site(fetched: dict[Key, Fetched], scheme: Scheme, catalogue: Catalogue, folder: Path,
               report: ExportReport) -> None:
    files: dict[Key, str] = {}
    for key, item in fetched.items():
        if item.status == 200:
            files[key] = scheme.file(key, item.content_type)
        elif item.location is not None:
            files[key] = scheme.file(key, "text/html")
    variants: dict[str, dict[str, str]] = {}          # page path → identity query → file
    for key, item in fetched.items():
        if item.status == 200 and item.content_type.startswith("text/html"):
            for alias in _aliases(key, scheme):
                variants.setdefault(key.path, {}).setdefault(alias, files[key])
    written: set[str] = set()

    def put(path: str, body: bytes) -> None:
        if path in written:
            return
        written.add(path)
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        report.add(path, len(body))

    for key, item in fetched.items():
        path = files.get(key)
        if path is None:
            continue
        if item.location is not None:
            destination = files.get(_final(fetched, item.location))
            if destination is not None and destination != path:
                put(path, _redirect_page(relative(destination, path)))
            continue
        body = item.body
        if item.content_type.startswith("text/html"):
            text = _rewrite(item.body.decode("utf-8"), path, BASE + key.url, scheme, files)
            text = _add_shim(text, path, key, catalogue, files, variants.get(key.path, {}))
            body = text.encode("utf-8")
        put(path, body)
    put(SHIM, SHIM_JS)


def _aliases(key: Key, scheme: Scheme) -> list[str]:
    """The query strings a form may submit for this page: its identity parameters, with and
    without those that repeat a default (what a hidden ``basis`` field or a select sends)."""
    ident = dict(key.identity)
    if key.path.startswith(("/editions/", "/en/editions/")):
        ident.pop("edition", None)
    edition_id = edition_of(key.path, dict(key.identity))
    edition = scheme.catalogue.edition(edition_id) if edition_id else None
    optional: dict[str, str] = {}
    if edition is not None:
        ranking = scheme.catalogue.ranking(edition.id)
        if "basis" not in ident and not ALL_BASES.match(key.path):
            optional["basis"] = edition.unit_set
        if "indicator" not in ident and ranking is not None:
            optional["indicator"] = ranking.root
        default_show = scheme.map_default(key.path, dict(key.identity))
        if "show" not in ident and default_show:
            optional["show"] = default_show   # a map form keeps the view it was on
    out = []
    names = list(optional)
    for mask in range(1 << len(names)):
        extra = {n: optional[n] for i, n in enumerate(names) if mask >> i & 1}
        out.append(urlencode(sorted({**ident, **extra}.items())))
    return out


def _add_shim(text: str, path: str, key: Key, catalogue: Catalogue, files: dict[Key, str],
              variants: dict[str, str]) -> str:
    if "</body>" not in text or key.path.startswith("/api/"):
        return text
    edition = edition_of(key.path, dict(key.identity)) or catalogue.latest.id
    prefix = "/en" if key.path == "/en" or key.path.startswith("/en/") else ""
    data = files.get(Key(f"{prefix}/editions/{edition}.json"))
    attrs = f' data-ranking="{html.escape(relative(data, path), quote=True)}"' if data else ""
    if len(variants) > 1:
        relative_variants = {q: relative(f, path) for q, f in variants.items()}
        attrs += (f' data-self="{html.escape(posixpath.basename(path), quote=True)}" data-variants="'
                  f'{html.escape(json.dumps(relative_variants, sort_keys=True), quote=True)}"')
    tag = f'<script src="{relative(SHIM, path)}"{attrs} defer></script>\n'
    head, _, tail = text.rpartition("</body>")
    return head + tag + "</body>" + tail


# -- the command's entry point -----------------------------------------------------------------

def check_out(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise InputError([Problem("export.not_a_folder", "the output is a file, not a folder; "
                                  "give a folder path", file=str(out))])
    if out.is_dir() and any(out.iterdir()) and not force:
        raise InputError([Problem("export.not_empty", "the output folder is not empty; give an "
                                  "empty or new folder, or --force to replace it", file=str(out))])


def export_site(out: Path, edition: str | None = None, every: bool = False,
                force: bool = False, database_url: str | None = None) -> ExportReport:
    """Write the public portal of the chosen editions into ``out`` as static files; with
    ``database_url``, editions published from the assessment store are among them."""
    from dti.web.app import create_app

    out = Path(out)
    store, extra = _store_editions(database_url)
    ids = editions_for(edition, every, extra)
    check_out(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    app = create_app(Settings(editions=ids), store=store)
    catalogue = context_of(app).catalogue
    scheme = Scheme(catalogue)
    report = ExportReport(out, ids)
    pages_of = ids if every else (catalogue.latest.id,)
    temp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        fetched, report.broken = _run(lambda: _fetch_all(app, scheme, catalogue, pages_of))
        write_site(fetched, scheme, catalogue, temp, report)
        _swap(temp, out, force)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return report


def _store_editions(database_url: str | None):
    """(store, its published editions) — (None, ()) without a database."""
    if not database_url:
        return None, ()
    from dti.store.db import Store
    from dti.services.publication import published_editions

    store = Store.open(database_url)
    with store.reading() as session:
        return store, tuple(published_editions(session))


def _run(coroutine):
    """Run ``coroutine()`` to its end, in a thread of its own when this one already runs an event
    loop (a caller inside async code, or Playwright's synchronous API)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine())
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(coroutine())).result()


async def _fetch_all(app, scheme: Scheme, catalogue: Catalogue, pages_of: tuple[str, ...]):
    async with app.router.lifespan_context(app):
        status, _, body = await asgi_get(app, BASE + "/api/v1/openapi.json")
        spec = json.loads(body) if status == 200 else {}
        return await crawl(app, scheme, seeds(catalogue, pages_of) + api_seeds(catalogue, spec))


def _swap(temp: Path, out: Path, force: bool) -> None:
    """Put the finished folder in place: rename (atomic on one file system)."""
    temp.chmod(0o755)
    if not out.exists():
        temp.rename(out)
        return
    check_out(out, force)                     # it may have filled while the export ran
    old = out.with_name(f".{out.name}.old-{temp.name.rsplit('.', 2)[-2]}")
    out.rename(old)
    try:
        temp.rename(out)
    except BaseException:
        old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)


# -- the browser half of the export -------------------------------------------------------------

SHIM_JS = r"""// Static export only (added by `dti export-site`): what the server does with a page's query
// string -- region filter, search, sort, the compare selection -- done in the browser, since a
// static web server ignores query strings.  The live app answers these on the server.
(function () {
  "use strict";
  var params = new URLSearchParams(window.location.search);
  var lang = document.documentElement.lang === "en" ? "en" : "vi";
  var me = document.currentScript || document.querySelector("script[data-ranking]");
  var PREFIXES = [["thanh", "pho"], ["thu", "do"], ["tinh"], ["tp"], ["t", "p"]];
  var SUFFIXES = [["city"], ["province"]];

  // A form sent a parameter that names another page (a map's indicator, a basis): go there.
  var variants = me && me.getAttribute("data-variants");
  if (variants) {
    variants = JSON.parse(variants);
    var ident = [], rest = [];
    params.forEach(function (v, k) {
      (["edition", "basis", "indicator", "show", "lang"].indexOf(k) >= 0 && v ? ident : rest).push([k, v]);
    });
    if (ident.length) {
      ident.sort(function (a, b) { return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0; });
      var target = variants[new URLSearchParams(ident).toString()];
      if (target && target !== me.getAttribute("data-self")) {
        var query = new URLSearchParams(rest).toString();
        window.location.replace(target + (query ? "?" + query : "") + window.location.hash);
        return;
      }
    }
  }

  function key(text) {   // the server's normalise_name: no diacritics, no affixes, letters only
    var words = (text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/[\u0111\u0110]/g, "d").toLowerCase().match(/[a-z0-9]+/g) || [];
    var changed = true;
    while (changed) {
      changed = false;
      for (var i = 0; i < PREFIXES.length; i++) {
        var p = PREFIXES[i];
        if (words.length > p.length && words.slice(0, p.length).join(" ") === p.join(" ")) {
          words = words.slice(p.length); changed = true; break;
        }
      }
    }
    SUFFIXES.forEach(function (s) {
      if (words.length > s.length && words.slice(-s.length).join(" ") === s.join(" ")) {
        words = words.slice(0, -s.length);
      }
    });
    return words.join("");
  }

  var table = document.querySelector("table.ranking");
  if (table && table.tBodies.length) {
    var region = params.get("region") || "", q = params.get("q") || "", wanted = key(q);
    var select = document.getElementById("region"), search = document.getElementById("search");
    if (select) { select.value = region; }
    if (search) { search.value = q; }
    var body = table.tBodies[0];
    Array.prototype.slice.call(body.rows).forEach(function (row) {
      var keep = (!region || row.getAttribute("data-region") === region) &&
                 (!wanted || key(row.getAttribute("data-name")).indexOf(wanted) >= 0);
      if (!keep) { body.removeChild(row); }
    });
    var sort = params.get("sort");
    var th = sort && table.querySelector('thead th[data-sort="' + sort + '"]');
    if (th) {
      var index = Array.prototype.indexOf.call(th.parentNode.children, th);
      var descending = params.get("order") !== "asc";
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[index].getAttribute("data-value"), y = b.cells[index].getAttribute("data-value");
        if (x === "" && y === "") { return 0; } if (x === "") { return 1; } if (y === "") { return -1; }
        return descending ? parseFloat(y) - parseFloat(x) : parseFloat(x) - parseFloat(y);
      });
      rows.forEach(function (row) { body.appendChild(row); });
    }
  }

  var units = document.getElementById("compare-units");
  if (units && !document.querySelector("table.compare") && me && me.getAttribute("data-ranking")) {
    var codes = [];
    params.getAll("units").forEach(function (v) {
      v.split(",").forEach(function (c) { if (c && codes.indexOf(c) < 0) { codes.push(c); } });
    });
    codes = codes.slice(0, 4);
    if (!codes.length) { return; }
    Array.prototype.forEach.call(units.options, function (o) { o.selected = codes.indexOf(o.value) >= 0; });
    var words = lang === "en" ? {indicator: "Indicator", none: "not published"}
                              : {indicator: "Chỉ số", none: "chưa công bố"};
    var format = new Intl.NumberFormat(lang === "en" ? "en-US" : "vi-VN",
                                       {minimumFractionDigits: 4, maximumFractionDigits: 4});
    fetch(me.getAttribute("data-ranking")).then(function (r) { return r.json(); }).then(function (data) {
      var byCode = {};
      data.results.forEach(function (r) { byCode[r.code] = r; });
      var chosen = codes.map(function (c) { return byCode[c]; }).filter(Boolean);
      if (!chosen.length) { return; }
      var out = document.createElement("table");
      out.className = "compare";
      var head = out.createTHead().insertRow(), cell = document.createElement("th");
      cell.textContent = words.indicator; head.appendChild(cell);
      chosen.forEach(function (r) {
        var th = document.createElement("th"); th.className = "num"; th.textContent = r.name;
        head.appendChild(th);
      });
      var tbody = out.createTBody();
      data.columns.forEach(function (c) {
        var tr = tbody.insertRow();
        tr.insertCell().textContent = lang === "en" ? (c.name_en || c.name_vi) : c.name_vi;
        chosen.forEach(function (r) {
          var f = r.figures[c.code] || {}, td = tr.insertCell();
          td.className = "num";
          td.textContent = (f.value !== null && f.value !== undefined ? format.format(f.value) : words.none)
                           + (f.rank ? " (" + f.rank + ")" : "");
        });
      });
      units.closest("form").insertAdjacentElement("afterend", out);
    });
  }
})();
""".encode("utf-8")
