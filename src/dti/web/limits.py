"""Request bodies limited by route, before they are read.

:class:`BodyLimits` is an ASGI middleware.  For each request it finds the route's :class:`Limit`
(the first whose pattern matches the path); a ``Content-Length`` over the limit is answered 413 at
once, before a byte of the body is read (and so before anything is parsed, buffered or spooled to
disk).  A body without a length (chunked) is counted as it streams in; past the limit, reading it
raises :class:`BodyTooLarge`, an HTTP 413 the app answers like any other error.  Paths no limit
matches pass through untouched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Awaitable, Callable, Sequence

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True)
class Limit:
    """The largest body a group of routes takes: ``size`` is called per request, so a limit that
    follows a setting changes with it; ``what_vi``/``what_en`` name the form in messages."""

    pattern: re.Pattern[str]
    size: Callable[[], int]
    what_vi: str
    what_en: str

    def matches(self, path: str) -> bool:
        return self.pattern.fullmatch(path) is not None


class BodyTooLarge(HTTPException):
    """A body past its route's limit: 413, with the limit that was passed."""

    def __init__(self, limit: Limit, size: int):
        self.limit, self.size = limit, size
        super().__init__(413, message(limit, size))


def megabytes(size: int) -> str:
    """A size as people read it: 8 KB, 40 MB (binary units, as the limits are set)."""
    if size < MIB:
        return f"{size / KIB:.0f} KB"
    return f"{size / MIB:.0f} MB"


def message(limit: Limit, size: int) -> str:
    """Vietnamese first, English second: the person may not have chosen a language yet."""
    shown = megabytes(size)
    return (f"Yêu cầu quá lớn: {limit.what_vi} nhận tối đa {shown}; không có gì được lưu. — "
            f"The request is too large: {limit.what_en} takes at most {shown}; nothing was saved.")


Refuse = Callable[[Request, BodyTooLarge], Awaitable[Response]]


class BodyLimits:
    """The middleware: ``limits`` in order (first match wins); ``refuse`` builds the 413 answer
    (the app's JSON envelope or error page) when a declared length is already too large."""

    def __init__(self, app: ASGIApp, limits: Sequence[Limit], refuse: Refuse):
        self.app, self.limits, self.refuse = app, tuple(limits), refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self._limit(scope)
        if limit is None:
            await self.app(scope, receive, send)
            return
        size = limit.size()
        declared = _content_length(scope)
        if declared is not None and declared > size:
            response = await self.refuse(Request(scope), BodyTooLarge(limit, size))
            response.headers["Connection"] = "close"   # the unread body is not waited for
            await response(scope, receive, send)
            return
        await self.app(scope, _counting(receive, limit, size), send)

    def _limit(self, scope: Scope) -> Limit | None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return None
        return next((lim for lim in self.limits if lim.matches(scope["path"])), None)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:   # the server refuses a malformed length before we see it
                return None
    return None


def _counting(receive: Receive, limit: Limit, size: int) -> Receive:
    """``receive`` that counts the body's bytes and stops the read past ``size``."""
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message_ = await receive()
        if message_["type"] == "http.request":
            seen += len(message_.get("body", b""))
            if seen > size:
                raise BodyTooLarge(limit, size)
        return message_

    return counted


# -- the assessment app's limits ------------------------------------------------------------------

LOGIN_BYTES = 8 * KIB        # user name, password, two tokens, the page to return to
FORM_BYTES = 64 * KIB        # any other form: a 5,000-character note or comment is at most 45 KB
FORM_OVERHEAD = 64 * KIB     # the fields and multipart headers around uploaded files
UPLOAD_FILES = 10            # files in one evidence upload
UPLOAD_FILE_SHARE = 2        # one upload carries at most this many files' worth of bytes


def _file_bytes() -> int:
    from dti.store.evidence import max_bytes

    return max_bytes()


def upload_file_bytes() -> int:
    """The files' bytes one evidence upload takes: twice the per-file limit (40 MB by default)."""
    return UPLOAD_FILE_SHARE * _file_bytes()


def upload_bytes() -> int:
    """The largest evidence upload's body: its files and the form around them."""
    return upload_file_bytes() + FORM_OVERHEAD


def app_limits() -> tuple[Limit, ...]:
    """Every form post under ``/app``: log-in, evidence, workbooks, and all others."""
    return (
        Limit(re.compile(r"/app/login"), lambda: LOGIN_BYTES, "biểu mẫu đăng nhập",
              "the log-in form"),
        Limit(re.compile(r"/app/[^/]+/[0-9]{2}/answers/[^/]+/evidence"), upload_bytes,
              f"một lần tải minh chứng (tối đa {UPLOAD_FILES} tệp)",
              f"one evidence upload (at most {UPLOAD_FILES} files)"),
        Limit(re.compile(r"/app/[^/]+/[^/]+/import|/app/admin/editions/new"),
              lambda: _file_bytes() + FORM_OVERHEAD, "một tệp Excel tải lên", "a workbook upload"),
        Limit(re.compile(r"/app(/.*)?"), lambda: FORM_BYTES, "một biểu mẫu", "a form"),
    )
