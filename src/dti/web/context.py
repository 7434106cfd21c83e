"""The application context: what the portal's routers share, in one typed, frozen record.

:func:`dti.web.app.create_app` builds one :class:`AppContext` and keeps it on the app; routes take
it as a dependency (:data:`AppContextDep`), helpers that hold a request call :func:`app_context`,
and work outside a request (the portal layer, the work done ahead) calls :func:`context_of`.

The record is frozen so that what a request reads belongs together: after a publication the app
swaps in a new record (:meth:`AppContext.republished`) in one assignment, so no request sees the
new catalogue with the old API answers, report shelf or planner answers.  The parts that outlive
a publication (settings, store, templates, gates, the portal layer's cache holder, the stop flag)
are carried over as they are.

Only modules that never read the context are imported here at run time; the router-side types
are named for the type checker alone, so this module closes no import cycle.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from dti.store.db import Store
from dti.web.response_cache import ResponseCache
from dti.web.settings import Settings
from dti.web.snapshot import Catalogue

if TYPE_CHECKING:
    from dti.web.ahead import ReportShelf
    from dti.web.api import ApiSnapshot
    from dti.web.portal_http import Public
    from dti.web.render_gate import Gates

PLANNER_ANSWERS = 4096   # planner answers kept per catalogue


def planner_answers() -> ResponseCache:
    """A fresh cache of planner answers: each catalogue starts its own."""
    return ResponseCache(size=PLANNER_ANSWERS)


@dataclass(frozen=True)
class AppContext:
    """Everything a portal or assessment-app route reads besides the request itself."""

    settings: Settings
    store: Store | None               # None: the portal alone, without the assessment app
    templates: Jinja2Templates
    gates: "Gates"
    public: "Public"                  # the portal layer's recognised parameters and answer cache
    catalogue: Catalogue              # the published editions shown
    api_v1: "ApiSnapshot"             # every open-data API answer of ``catalogue``
    reports: "ReportShelf"            # the PDF reports of ``catalogue``
    planner: ResponseCache = field(default_factory=planner_answers)   # of ``catalogue``
    stopping: threading.Event = field(default_factory=threading.Event)  # set when the app stops

    def republished(self, catalogue: Catalogue, api_v1: "ApiSnapshot",
                    reports: "ReportShelf") -> "AppContext":
        """The same app after a publication: the catalogue and everything derived from it new."""
        return replace(self, catalogue=catalogue, api_v1=api_v1, reports=reports,
                       planner=planner_answers())


def context_of(app: Any) -> AppContext:
    """The context ``create_app`` gave ``app`` (the one current after any publication)."""
    return app.state.context


def app_context(request: Request) -> AppContext:
    """The FastAPI dependency: the context of the app answering ``request``."""
    return request.app.state.context


async def _app_context(request: Request) -> AppContext:
    # async: a plain ``def`` dependency costs each request a trip through the thread pool
    return app_context(request)


AppContextDep = Annotated[AppContext, Depends(_app_context)]
