"""``create_app(settings)``: the FastAPI application of the public portal.

Every page has a ``.json`` and a ``.csv`` twin built from the same context (see
:func:`dti.web.pages.respond`); Vietnamese at ``/``, English at ``/en/``.  Errors answer one JSON
envelope on JSON routes and one HTML page elsewhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from dti.editions import edition_ids, load_edition
from dti.errors import DtiError
from dti.store import migrate
from dti.store.db import Store
from dti.services.publication import published_editions
from dti.web import (api, assessment, level_pages, pages, planner_api, portal_http, record_page,
                     site_chrome, story)
from dti.web.ahead import ReportShelf
from dti.web.context import AppContext, context_of
from dti.web.i18n import date_text, number, region, text
from dti.web.portal_http import Public
from dti.web.public_cache import recognised_parameters
from dti.web.render_gate import Gates
from dti.web.settings import Settings
from dti.web.snapshot import Catalogue, shipped_levels

HERE = Path(__file__).parent


def create_app(settings: Settings | None = None, catalogue: Catalogue | None = None,
               store: Store | None = None) -> FastAPI:
    """The portal; with a store (or ``settings.database_url``) also the assessment app at ``/app``
    and the store's published editions on the public pages."""
    settings = settings or Settings()
    if store is None and settings.database_url:
        store = Store.open(settings.database_url, settings.evidence_dir, seal_later=True)
    # the docs page is the site's own (dti.web.site_chrome): Swagger UI from static/vendor
    app = FastAPI(title="DTI open data", version="1", docs_url=None,
                  openapi_url="/api/v1/openapi.json", redoc_url=None)
    if store is not None and not migrate.is_current(store.engine):
        raise DtiError(f"the database {store.safe_url} is not at the current schema; run "
                       "`dti db upgrade` (or `dti serve`, which upgrades it first)")
    app.state.context = build_context(settings, catalogue or public_catalogue(settings, store), store)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    _include_routers(app, store)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        path = request.url.path
        accept = request.headers.get("accept", "")
        wants_json = path.startswith("/app/") and ("application/json" in accept
                                                   or request.headers.get("hx-request"))
        if path.startswith("/api/") or path.endswith(".json") or wants_json:
            return JSONResponse({"error": {"status": exc.status_code, "message": str(exc.detail)}},
                                status_code=exc.status_code, headers=getattr(exc, "headers", None))
        return site_chrome.error_page(request, exc.status_code, str(exc.detail),
                                      getattr(exc, "headers", None))

    portal_http.install(app, settings)   # answers kept and security headers; after every router
    build_routes(app.router.routes)
    return app


def build_routes(routes: list[Any]) -> None:
    """Build every included router's routes now, not on the first request that reaches them.

    FastAPI (0.16x) prepares an included router's routes — their parameters' validators — when a
    request first reaches it: 200–500 ms that the first visitor of each server worker waited for,
    even for a PDF already on disk.  Older versions build them at ``include_router`` and have
    nothing to build here."""
    for route in routes:
        candidates = getattr(route, "effective_candidates", None)
        if callable(candidates):
            build_routes(candidates())
            route.effective_low_priority_routes()


def build_context(settings: Settings, catalogue: Catalogue, store: Store | None) -> AppContext:
    """The app's context: every API answer and the report shelf made once, for ``catalogue``."""
    gates = Gates.build(settings.page_renders, settings.report_renders)
    return AppContext(
        settings=settings, store=store, templates=_templates(), gates=gates,
        public=Public(recognised_parameters(portal_http.public_routes()), settings.cache_bytes),
        catalogue=catalogue, api_v1=api.ApiSnapshot.build(catalogue),
        reports=ReportShelf(catalogue, portal_http.report_dir(settings), gates.reports))


class _Templates(jinja2.Environment):
    """Jinja's environment, looking a dictionary's key up before its attributes.  The pages' values
    are dictionaries (``row.points``, ``t.save``): Jinja tries the attribute first, so every such
    look-up raised and caught an AttributeError (attribute look-ups were 45 % of a form page's
    render).  A key named like a dictionary method now wins over the method, as a template that
    writes ``d.values`` means it to; ``d.get(…)`` still finds the method when there is no such key."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


def _templates() -> Jinja2Templates:
    env = _Templates(loader=jinja2.FileSystemLoader(str(HERE / "templates")),
                     autoescape=jinja2.select_autoescape())
    templates = Jinja2Templates(env=env)
    # Templates are package files that change only with the package: asking the file system for
    # each one's modification time on every render was 8 % of a busy worker's time.
    templates.env.auto_reload = False
    templates.env.globals.update(number=number, date_text=date_text, text=text, region_name=region)
    return templates


def _include_routers(app: FastAPI, store: Store | None) -> None:
    """The routers, in the order their paths are matched (the assessment app before the pages)."""
    app.include_router(api.router)
    app.include_router(site_chrome.router)
    app.include_router(planner_api.router)
    if store is not None:
        assessment.install(app, store)
    app.include_router(pages.router)
    app.include_router(pages.router, prefix="/en")
    # a province's story; the record's audit; the ministry-level and national DTI
    for extra in (story.router, record_page.router, level_pages.router):
        app.include_router(extra)
        app.include_router(extra, prefix="/en")


def public_catalogue(settings: Settings, store: Store | None) -> Catalogue:
    """Shipped editions plus the store's published ones (never a draft or one under review)."""
    editions = [load_edition(e) for e in edition_ids()
                if settings.editions is None or e in settings.editions]
    if store is not None:
        with store.reading() as session:
            editions += [e for e in published_editions(session)
                         if settings.editions is None or e.id in settings.editions]
    return Catalogue.build(editions, shipped_levels(settings.editions))


def refresh_public(app: FastAPI) -> None:
    """After a publication: rebuild the public snapshot so the new edition appears at once."""
    context = context_of(app)
    catalogue = public_catalogue(context.settings, context.store)
    # one assignment: no request sees the new catalogue with the old answers or reports
    app.state.context = context.republished(
        catalogue, api.ApiSnapshot.build(catalogue),
        ReportShelf(catalogue, portal_http.report_dir(context.settings), context.gates.reports))
    portal_http.refresh(app)


def main() -> None:
    """``dti-serve``: serve the portal with the environment's settings."""
    import uvicorn

    settings = Settings.from_env()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")
