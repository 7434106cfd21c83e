"""Work a public request may need on a cache miss — a page render, a planner solve, a PDF —
done off the event loop, in pools of its own, bounded, and once per key.

* **Off the loop**: an ``async`` route awaits the work; the loop keeps answering cache hits,
  the assessment app's pool keeps serving ``/app``.
* **Own pool, bounded**: each :class:`RenderGate` has a few threads and admits at most
  ``workers + queue`` distinct keys; beyond that the request is answered 503 with
  ``Retry-After`` at once (:class:`Busy`), so a flood of distinct expensive requests cannot queue
  unbounded work.
* **Single-flight**: a request for a key already in flight waits for that work; the same key is
  never rendered twice at once.

:func:`offloaded` turns a plain route function into an ``async`` route that does this.
"""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from threading import Lock
from typing import Any, Callable, Hashable

from fastapi import HTTPException, Request

from dti.web.context import app_context

RETRY_AFTER = 5   # seconds: about one PDF render on a busy machine


class Busy(Exception):
    """Every slot of a gate is taken: answer 503 and ask to retry later."""

    def __init__(self, gate: str, retry_after: int = RETRY_AFTER) -> None:
        super().__init__(gate)
        self.gate = gate
        self.retry_after = retry_after

    def http(self) -> HTTPException:
        return HTTPException(
            503, f"Máy chủ đang bận, xin thử lại sau {self.retry_after} giây. The server is busy "
            f"({self.gate}); try again in {self.retry_after} seconds.",
            headers={"Retry-After": str(self.retry_after)})


class RenderGate:
    """A small thread pool with an admission limit and a single-flight map."""

    def __init__(self, name: str, workers: int, queue: int = 0) -> None:
        self.name = name
        self.limit = workers + queue
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"dti-{name}")
        self._flights: dict[Hashable, Future] = {}
        self._admitted = 0
        self._lock = Lock()

    def submit(self, key: Hashable, work: Callable[[], Any]) -> Future:
        """The future of ``key``'s work: the one in flight, or new work if a slot is free."""
        with self._lock:
            flight = self._flights.get(key)
            if flight is not None:
                return flight
            if self._admitted >= self.limit:
                raise Busy(self.name)
            self._admitted += 1
            flight = self._pool.submit(work)
            self._flights[key] = flight
        flight.add_done_callback(functools.partial(self._land, key, admitted=True))
        return flight

    def claim(self, key: Hashable) -> Future | None:
        """For work done on the caller's own thread (ahead-of-time rendering): a future to
        complete, registered so requests wait for it; None if ``key`` is already in flight.
        Claims do not take a request slot."""
        with self._lock:
            if key in self._flights:
                return None
            flight: Future = Future()
            self._flights[key] = flight
        flight.add_done_callback(functools.partial(self._land, key, admitted=False))
        return flight

    def in_flight(self, key: Hashable) -> Future | None:
        return self._flights.get(key)

    def _land(self, key: Hashable, flight: Future, admitted: bool) -> None:
        with self._lock:
            if self._flights.get(key) is flight:
                del self._flights[key]
            if admitted:
                self._admitted -= 1

    async def run(self, key: Hashable, work: Callable[[], Any]) -> Any:
        """Await ``key``'s work (HTTP 503 when the gate is full).  A waiter that goes away does
        not cancel work others wait for."""
        try:
            flight = self.submit(key, work)
        except Busy as busy:
            raise busy.http() from None
        return await asyncio.shield(asyncio.wrap_future(flight))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


@dataclass
class Gates:
    """The portal's gates: page renders, planner solves, PDF reports."""

    pages: RenderGate
    planner: RenderGate
    reports: RenderGate

    @classmethod
    def build(cls, page_workers: int, report_workers: int) -> "Gates":
        # Pages and planner answers queue a little (a crawler, the static export's 8 requests
        # in flight); PDF renders take seconds each, so beyond the pool they are refused.
        return cls(pages=RenderGate("pages", page_workers, queue=32),
                   planner=RenderGate("planner", page_workers, queue=8),
                   reports=RenderGate("reports", report_workers, queue=0))


def offloaded(gate: str) -> Callable:
    """Decorate a plain route function (first parameter ``request``) as an ``async`` route that
    runs it on the app context's ``gates.<gate>``, keyed by the request's public key."""

    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        async def route(**params: Any) -> Any:
            request: Request = params["request"]
            shared = app_context(request)
            work = functools.partial(function, **params)
            return await getattr(shared.gates, gate).run(shared.public.key_of(request), work)

        return route

    return decorate
