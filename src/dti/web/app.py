"""``create_app(settings)``: the FastAPI application of the public portal.

Every page has a ``.json`` and a ``.csv`` twin built from the same context (see
:func:`dti.web.pages.respond`); Vietnamese at ``/``, English at ``/en/``.  Errors answer one JSON
envelope on JSON routes and one HTML page elsewhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from dti.web.i18n import date_text, number, region, text
from dti.web.settings import Settings
from dti.web.snapshot import Catalogue

HERE = Path(__file__).parent

if TYPE_CHECKING:
    from dti.store.db import Store


def create_app(settings: Settings | None = None, catalogue: Catalogue | None = None,
               store: "Store | None" = None) -> FastAPI:
    """The portal; with a store (or ``settings.database_url``) also the assessment app at ``/app``
    and the store's published editions on the public pages."""
    settings = settings or Settings()
    if store is None and settings.database_url:
        from dti.store.db import Store

        store = Store.open(settings.database_url, settings.evidence_dir, seal_later=True)
    # the docs page is the site's own (dti.web.site_chrome): Swagger UI from static/vendor
    app = FastAPI(title="DTI open data", version="1", docs_url=None,
                  openapi_url="/api/v1/openapi.json", redoc_url=None)
    app.state.settings = settings
    if store is not None:
        from dti.errors import DtiError
        from dti.store import migrate

        if not migrate.is_current(store.engine):
            raise DtiError(f"the database {store.safe_url} is not at the current schema; run "
                           "`dti db upgrade` (or `dti serve`, which upgrades it first)")
    app.state.store = store
    app.state.catalogue = catalogue or public_catalogue(settings, store)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(number=number, date_text=date_text, text=text, region_name=region)
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    from dti.web import api, pages, site_chrome  # imported here: routers read app.state later

    app.include_router(api.router)
    app.include_router(site_chrome.router)
    from dti.web import planner_api
    app.include_router(planner_api.router)
    app.state.api_v1 = api.ApiSnapshot.build(app.state.catalogue)  # every answer, once
    if store is not None:
        from dti.web import workspace

        workspace.install(app, store)
    app.include_router(pages.router)
    app.include_router(pages.router, prefix="/en")
    from dti.web import record_page, story  # a province's story; the audit of the record

    for extra in (story.router, record_page.router):
        app.include_router(extra)
        app.include_router(extra, prefix="/en")

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

    from dti.web import portal_http  # answers kept and security headers; after every router

    portal_http.install(app, settings)
    return app


def public_catalogue(settings: Settings, store: "Store | None") -> Catalogue:
    """Shipped editions plus the store's published ones (never a draft or one under review)."""
    from dti.editions import edition_ids, load_edition

    editions = [load_edition(e) for e in edition_ids()
                if settings.editions is None or e in settings.editions]
    if store is not None:
        from dti.store.editions import published_editions

        with store.reading() as session:
            editions += [e for e in published_editions(session)
                         if settings.editions is None or e.id in settings.editions]
    return Catalogue.build(editions)


def refresh_public(app: FastAPI) -> None:
    """After a publication: rebuild the public snapshot so the new edition appears at once."""
    from dti.web import api, portal_http

    catalogue = public_catalogue(app.state.settings, app.state.store)
    snapshot = api.ApiSnapshot.build(catalogue)   # built first: no request sees one without the other
    app.state.catalogue, app.state.api_v1 = catalogue, snapshot
    portal_http.refresh(app)


def main() -> None:
    """``dti-serve``: serve the portal with the environment's settings."""
    import uvicorn

    settings = Settings.from_env()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")
