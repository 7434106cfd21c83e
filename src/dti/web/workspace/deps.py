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

from dti.store.accounts import PUBLIC, Actor, read_session, session_upkeep
from dti.store.db import Store
from dti.web.workspace.text import text

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


def get_store(request: Request) -> Store:
    store = getattr(request.app.state, "store", None)
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


def logged_in(ctx: ContextDep) -> Context:
    if ctx.actor.is_public:
        raise LoginRequired()
    return ctx


UserDep = Annotated[Context, Depends(logged_in)]


async def checked(request: Request, ctx: UserDep) -> Context:
    """A logged-in user's state-changing request: the CSRF token must match the session's."""
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        sent = form.get("csrf")
    if not isinstance(sent, str) or not ctx.csrf or not hmac.compare_digest(sent, ctx.csrf):
        raise HTTPException(403, ctx.t["csrf_failed"])
    return ctx


PostDep = Annotated[Context, Depends(checked)]


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def render(request: Request, ctx: Context, template: str, values: Mapping[str, Any] | None = None,
           status_code: int = 200, extra_text: Mapping[str, Mapping[str, str]] | None = None) -> HTMLResponse:
    """Render an app page: ``t`` holds the shared words plus the route module's own."""
    t = dict(ctx.t)
    if extra_text:
        t.update(extra_text.get(ctx.lang, extra_text.get("vi", {})))
    templates = request.app.state.templates
    return templates.TemplateResponse(request, template, {
        "ctx": ctx, "actor": ctx.actor, "lang": ctx.lang, "t": t, "csrf": ctx.csrf,
        "settings": request.app.state.settings, **(values or {})}, status_code=status_code)
