"""The pages around the portal's figures: the API documentation, the error page and the favicon.

The API documentation is Swagger UI served from the site's own files (``static/vendor/``, see
its ``SOURCES.md``) and started by ``static/api-docs.js``: the page carries no inline script and
asks nothing of another host, so it works offline, in the static export and under the public
pages' strict Content-Security-Policy.  Vietnamese at ``/api/v1/docs``, English at
``/en/api/v1/docs``.
"""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from dti.messages import bilingual
from dti.web.context import app_context
from dti.web.i18n import text
from dti.web.render_gate import offloaded

HERE = Path(__file__).parent
DOCS_PATH = "/api/v1/docs"
OPENAPI_PATH = "/api/v1/openapi.json"
FAVICON = HERE / "static" / "favicon.svg"

TEXT = bilingual("portal.chrome")

router = APIRouter()


def lang_of_path(path: str) -> str:
    return "en" if path == "/en" or path.startswith("/en/") else "vi"


def chrome_context(request: Request, lang: str, switch: str) -> dict:
    """What ``base.html`` needs, for a page outside :mod:`dti.web.pages`."""
    shared = app_context(request)
    return {"lang": lang, "t": text(lang), "chrome": TEXT[lang], "settings": shared.settings,
            "catalogue": shared.catalogue, "query": "", "prefix": "/en" if lang == "en" else "",
            "switch": switch}


def _docs(request: Request, lang: str) -> Response:
    switch = DOCS_PATH if lang == "en" else "/en" + DOCS_PATH
    page = app_context(request).templates.get_template("api_docs.html").render(
        {**chrome_context(request, lang, switch), "request": request, "openapi": OPENAPI_PATH})
    return HTMLResponse(page)


@router.get(DOCS_PATH, include_in_schema=False)
@offloaded("pages")
def api_docs(request: Request) -> Response:
    return _docs(request, "vi")


@router.get("/en" + DOCS_PATH, include_in_schema=False)
@offloaded("pages")
def api_docs_en(request: Request) -> Response:
    return _docs(request, "en")


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response:
    """Browsers ask for ``/favicon.ico`` whatever the page links: the site's SVG icon."""
    return Response(FAVICON.read_bytes(), media_type="image/svg+xml",
                    headers={"cache-control": "public, max-age=86400"})


def error_page(request: Request, status: int, detail: str,
               headers: dict[str, str] | None = None) -> Response:
    """The HTML error page in the language of the address, with a way home."""
    path = request.url.path
    lang = lang_of_path(path)
    switch = "/" if lang == "en" else "/en/"
    if detail == HTTPStatus(status).phrase:
        detail = ""                                  # "Not Found" says no more than the heading
    context = {**chrome_context(request, lang, switch), "status": status, "message": detail}
    return app_context(request).templates.TemplateResponse(request, "error.html", context,
                                                           status_code=status, headers=headers)
