"""What every route of the assessment app shares: the store, who is asking, CSRF, rendering.

Authorisation is not decided here: routes call :mod:`dti.store` functions, which ask
:func:`dti.store.access.authorize`.  This module only works out *who* is asking (the session
cookie) and checks that a form post carries the session's CSRF token.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated, Any, Mapping

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from dti.errors import InputError, Problem
from dti.store.accounts import PUBLIC, Actor, read_session, session_upkeep
from dti.store.db import Store
from dti.web.context import AppContextDep, app_context
from dti.web.limits import UPLOAD_FILES
from dti.web.assessment.words import (local_time, page_province, points_text, role_label, text,
                                       unit_words)

FORM_FIELDS = 2000   # the what-if form has one field per rule field of every sub-indicator

COOKIE = "dti_session"
LANG_COOKIE = "dti_lang"


@dataclass(frozen=True)
class Context:
    """The request's actor, CSRF token and interface language."""

    actor: Actor
    csrf: str
    lang: str
    token: str | None

    @property
    def t(self) -> dict[str, str]:
        return text(self.lang)


async def get_store(shared: AppContextDep) -> Store:
    # async, as every dependency that does no I/O: a plain ``def`` one costs each request a trip
    # through the thread pool (and, under load, a wait for the interpreter there and back)
    store = shared.store
    if store is None:
        raise HTTPException(404, "the assessment app is not enabled on this server")
    return store


StoreDep = Annotated[Store, Depends(get_store)]


def context(request: Request, store: StoreDep) -> Context:
    token = request.cookies.get(COOKIE)
    lang = "en" if request.cookies.get(LANG_COOKIE) == "en" else "vi"
    found = None
    if token:
        with store.reading() as session:
            found, upkeep = read_session(session, token)
        if upkeep:   # at most once a minute per session: the only write a reading request makes
            with store.transaction() as session:
                session_upkeep(session, token)
    if found is None:
        return Context(PUBLIC, "", lang, None)
    actor, csrf = found
    return Context(actor, csrf, lang, token)


ContextDep = Annotated[Context, Depends(context)]


class LoginRequired(Exception):
    """Raised by :func:`logged_in`; the app answers with a redirect to the log-in page (HTML) or
    401 (JSON)."""


async def logged_in(ctx: ContextDep) -> Context:
    if ctx.actor.is_public:
        raise LoginRequired()
    return ctx


UserDep = Annotated[Context, Depends(logged_in)]


async def checked(request: Request, ctx: UserDep) -> Context:
    """A logged-in user's state-changing request: the CSRF token must match the session's."""
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await read_form(request)
        sent = form.get("csrf")
    if not isinstance(sent, str) or not ctx.csrf or not hmac.compare_digest(sent, ctx.csrf):
        raise HTTPException(403, ctx.t["csrf_failed"])
    return ctx


PostDep = Annotated[Context, Depends(checked)]


async def read_form(request: Request) -> FormData:
    """The posted form, parsed once (Starlette keeps it) with the app's limits: at most
    ``UPLOAD_FILES`` files and ``FORM_FIELDS`` fields.  The body's size was limited before by
    :class:`dti.web.limits.BodyLimits`."""
    try:
        return await request.form(max_files=UPLOAD_FILES, max_fields=FORM_FIELDS)
    except StarletteHTTPException as exc:
        if str(exc.detail).startswith("Too many files"):   # Starlette's words for max_files
            raise InputError([Problem(
                "evidence.too_many_files", f"one upload takes at most {UPLOAD_FILES} files; "
                "upload the others in another go", column="files")]) from None
        raise


async def form_data(request: Request) -> FormData:
    """The posted form, read on the event loop (the CSRF check may have read it already), so that
    the route itself can be a plain ``def``: FastAPI runs those in a worker thread, and a route
    waiting on the database never stalls the other requests."""
    return await read_form(request)


FormDep = Annotated[FormData, Depends(form_data)]


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def render(request: Request, ctx: Context, template: str, values: Mapping[str, Any] | None = None,
           status_code: int = 200, extra_text: Mapping[str, Mapping[str, str]] | None = None) -> HTMLResponse:
    """Render an app page: ``t`` holds the shared words plus the route module's own; every page
    writes points and times the same way (:mod:`dti.web.assessment.words`) and names the
    actor's province in its header."""
    t = dict(ctx.t)
    if extra_text:
        t.update(extra_text.get(ctx.lang, extra_text.get("vi", {})))
    shared = app_context(request)
    values = dict(values or {})
    t.update(unit_words(values, ctx.lang))
    return shared.templates.TemplateResponse(request, template, {
        "ctx": ctx, "actor": ctx.actor, "lang": ctx.lang, "t": t, "csrf": ctx.csrf,
        "settings": shared.settings, "points_text": points_text, "local_time": local_time,
        "role_label": role_label,
        "actor_province": page_province(ctx.actor, values, ctx.lang),
        "actor_role": role_label(ctx.actor.role.value, ctx.actor.province_code, ctx.lang), **values},
        status_code=status_code)
