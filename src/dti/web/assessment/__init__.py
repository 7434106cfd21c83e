"""The assessment app (log-in required) under ``/app``: province entry, ministry review, admin.

:func:`install` mounts it on the portal's FastAPI app when a store is configured, and translates
the store's errors once: :class:`~dti.errors.WorkflowError` to its HTTP status,
:class:`~dti.errors.InputError` to 422 with every located problem — a JSON envelope for JSON
clients, an HTML page otherwise.  Form bodies are limited by route before they are read
(:mod:`dti.web.limits`: 413).  Routes that touch the database are plain ``def`` (FastAPI runs them
in worker threads), so one waiting for a lock never stalls the others.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from urllib.parse import quote

from dti.errors import InputError, Problem, WorkflowError
from dti.store.accounts import PUBLIC
from dti.store.db import Store
from dti.web.limits import BodyLimits, BodyTooLarge, app_limits
from dti.web.assessment.deps import (LANG_COOKIE, Context, LoginRequired, context, render,
                                    wants_json)
from dti.web.assessment.messages import localise
from dti.web.assessment.words import refusal_text

# Pages behind a log-in: scripts only from the site itself, never framed (clickjacking on the
# forms), never cached by a shared proxy, no referrer sent off-site.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' "
                               "'unsafe-inline'; img-src 'self' data:; object-src 'none'; "
                               "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
ROUTERS = ("auth", "entry", "review", "admin", "excel", "plan")
_HEADERS = tuple((name.lower().encode("latin-1"), value.encode("latin-1"))
                 for name, value in SECURITY_HEADERS.items())


class AppHeaders:
    """ASGI layer: :data:`SECURITY_HEADERS` on every answer under ``/app`` (they replace any
    the route set).  A plain layer, not Starlette's ``BaseHTTPMiddleware``, which runs each
    request through a task and a memory stream of its own."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/app"):
            return await self.app(scope, receive, send)

        async def sending(message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _NAMES]
                message = {**message, "headers": [*kept, *_HEADERS]}
            await send(message)

        await self.app(scope, receive, sending)


_NAMES = frozenset(name for name, _ in _HEADERS)


def install(app: FastAPI, store: Store) -> None:
    import importlib

    for name in ROUTERS:
        module = importlib.import_module(f"dti.web.assessment.{name}")
        app.include_router(module.router, prefix="/app", include_in_schema=False)

    # Added before the headers layer, so it sits inside it: its 413s get the headers too.
    app.add_middleware(BodyLimits, limits=app_limits(), refuse=too_large)
    app.add_middleware(AppHeaders)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):
        if wants_json(request) or request.method != "GET":
            return JSONResponse({"error": {"status": 401, "message": "log in first"}}, 401)
        return RedirectResponse(f"/app/login?next={quote(request.url.path)}", 303)

    @app.exception_handler(BodyTooLarge)   # a chunked body found too large while it was read
    async def body_too_large(request: Request, exc: BodyTooLarge):
        return await too_large(request, exc)

    # The error pages read the session (and may write its upkeep): in a worker thread, never on
    # the event loop, like every route.
    @app.exception_handler(WorkflowError)
    async def workflow_error(request: Request, exc: WorkflowError):
        return await run_in_threadpool(_error, request, store, exc.status, exc.message, [],
                                       exc.context)

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError):
        lang = "en" if request.cookies.get(LANG_COOKIE) == "en" else "vi"
        problems = [localise(p.as_dict(), lang) for p in exc.problems]
        message = exc.summary()
        if problems and lang == "vi" and "message_en" in problems[0]:
            first = exc.problems[0]
            where = first.where()
            message = f"{where}: {problems[0]['message']}" if where else problems[0]["message"]
            if len(problems) > 1:
                message += f" (và {len(problems) - 1} vấn đề khác)"
        return await run_in_threadpool(_error, request, store, 422, message, problems, {})


async def too_large(request: Request, exc: BodyTooLarge) -> Response:
    """413 for a body past its route's limit: the JSON envelope, or the app's error page (no
    session is read: the page is the same for everyone, and nothing waits on the database)."""
    problem = Problem("request.too_large", exc.detail, value=exc.size).as_dict()
    if wants_json(request) or request.headers.get("hx-request"):
        return JSONResponse({"error": {"status": 413, "message": exc.detail,
                                       "problems": [problem]}}, 413)
    lang = "en" if request.cookies.get(LANG_COOKIE) == "en" else "vi"
    return render(request, Context(PUBLIC, "", lang, None), "app/error.html",
                  {"status": 413, "message": exc.detail, "problems": []}, status_code=413)


def _error(request: Request, store: Store, status: int, message: str, problems: list, extra: dict):
    if wants_json(request) or request.headers.get("hx-request"):
        body = {"error": {"status": status, "message": message, "problems": problems,
                          **{k: v for k, v in extra.items() if _jsonable(v)}}}
        return JSONResponse(body, status)
    ctx = context(request, store)
    message = refusal_text(extra, ctx.lang) or message   # the page's language; JSON keeps English
    return render(request, ctx, "app/error.html", {"status": status, "message": message,
                                                   "problems": problems}, status_code=status)


def _jsonable(value) -> bool:
    import json

    try:
        json.dumps(value)
    except TypeError:
        return False
    return True
