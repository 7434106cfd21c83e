"""Log-in, log-out, the language switch and the home page that leads each role to its work."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from functools import lru_cache
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse

from dti.errors import LoginRefused
from dti.messages import bilingual
from dti.store.accounts import (begin_login, check_password, close_session, finish_login,
                                 open_session)
from dti.web.context import app_context
from dti.web.assessment.deps import (COOKIE, LANG_COOKIE, ContextDep, PostDep, StoreDep, UserDep,
                                    render)
from dti.workflow import Role

router = APIRouter()
LOGIN_CSRF = "dti_login_csrf"

TEXT = bilingual("app.auth")


def client_address(request: Request) -> str | None:
    """The client's address: the connection's peer, or — when the peer is a trusted proxy
    (``DTI_TRUSTED_PROXIES``) — the nearest address in ``X-Forwarded-For`` that no trusted proxy
    added.  Entries further left were written by the client and prove nothing."""
    address = request.client.host if request.client else None
    trusted = _networks(app_context(request).settings.trusted_proxies)
    if not trusted or address is None:
        return address
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",")]
    while _is_trusted(address, trusted) and hops:
        hop = hops.pop()
        if not _is_address(hop):
            break
        address = hop
    return address


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(e, strict=False) for e in entries)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_trusted(address: str, networks: tuple) -> bool:
    return _is_address(address) and any(ipaddress.ip_address(address) in n for n in networks)


def _safe_next(target: str | None) -> str:
    """Only paths inside the app: never an open redirect."""
    if target and target.startswith("/app") and not target.startswith("//") and "\\" not in target:
        return target
    return "/app/"


@router.get("/login")
def login_page(request: Request, ctx: ContextDep, next: str | None = None):
    if not ctx.actor.is_public:
        return RedirectResponse(_safe_next(next), 303)
    token = secrets.token_urlsafe(24)
    response = render(request, ctx, "app/login.html", {"login_csrf": token, "next": _safe_next(next)},
                      extra_text=TEXT)
    response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="strict", path="/app",
                        secure=app_context(request).settings.secure_cookies)
    return response


@router.post("/login")
def login(request: Request, ctx: ContextDep, store: StoreDep, username: str = Form(...),
          password: str = Form(...), csrf: str = Form(""), next: str = Form("/app/")):
    expected = request.cookies.get(LOGIN_CSRF, "")
    if not expected or not hmac.compare_digest(expected, csrf):
        raise HTTPException(403, ctx.t["csrf_failed"])
    address = client_address(request)
    refused: LoginRefused | None = None
    try:
        with store.reading() as session:
            attempt = begin_login(session, username.strip(), address)
        good = check_password(attempt, password)   # Argon2: in no transaction, holding no lock
        with store.transaction() as session:       # commits the failure events even when refused
            try:
                user = finish_login(session, attempt, good)
                token, _ = open_session(session, user)
            except LoginRefused as exc:
                refused = exc
    except LoginRefused as exc:                    # a refused address: nothing read further
        refused = exc
    if refused is not None:
        fresh = secrets.token_urlsafe(24)
        response = render(request, ctx, "app/login.html", {
            # every refusal is one message (dti.store.accounts.REFUSED), in the page's language
            "login_csrf": fresh, "next": _safe_next(next), "error": TEXT[ctx.lang]["login_refused"],
            "username": username}, status_code=401, extra_text=TEXT)
        response.set_cookie(LOGIN_CSRF, fresh, httponly=True, samesite="strict", path="/app",
                            secure=app_context(request).settings.secure_cookies)
        return response
    response = RedirectResponse(_safe_next(next), 303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", path="/",
                        secure=app_context(request).settings.secure_cookies)
    response.delete_cookie(LOGIN_CSRF, path="/app")
    return response


@router.post("/logout")
def logout(ctx: PostDep, store: StoreDep):
    with store.transaction() as session:
        close_session(session, ctx.token)
    response = RedirectResponse("/app/login", 303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/lang/{lang}")
def switch_language(lang: str, next: str | None = None):
    response = RedirectResponse(_safe_next(next), 303)
    response.set_cookie(LANG_COOKIE, "en" if lang == "en" else "vi", samesite="lax", path="/")
    return response


@router.get("/")
def home(ctx: UserDep, store: StoreDep):
    """Each role starts where its work is."""
    from dti.store.edition_rows import all_editions, unit_editions

    with store.reading() as session:
        editions = all_editions(session)
        if ctx.actor.role in (Role.EDITOR, Role.APPROVER):   # only the editions of their unit's level
            editions = unit_editions(session, ctx.actor.province_code or "")
        editions = [e for e in editions if e.status != "published"] or editions
    if not editions:
        return RedirectResponse("/app/admin" if ctx.actor.role is Role.ADMIN else "/", 303)
    code = quote(editions[0].code)
    if ctx.actor.role in (Role.EDITOR, Role.APPROVER):
        return RedirectResponse(f"/app/{code}/{ctx.actor.province_code}", 303)
    if ctx.actor.role is Role.REVIEWER:
        return RedirectResponse(f"/app/review/{code}", 303)
    return RedirectResponse("/app/admin", 303)
