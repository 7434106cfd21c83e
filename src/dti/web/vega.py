"""Vega-Lite to SVG (vl-convert), in a helper process.

vl-convert keeps Python's global interpreter lock for its whole run — up to two seconds for a
map — so called in the server process it would stall the event loop and every other thread,
whatever pool it ran in.  One helper process (``python -m dti.web.vega``, started on first use,
again if it dies) does the drawing; callers wait for their SVG without holding the lock.  A
request is one JSON line on the helper's standard input, the answer one JSON line on its output;
one drawing at a time.
"""

from __future__ import annotations

import atexit
import json
import subprocess
import sys
from threading import Lock
from typing import Any


class DrawingFailed(RuntimeError):
    """vl-convert refused a spec, or its helper process could not be run."""


class _Helper:
    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None
        self._lock = Lock()

    def draw(self, request: str) -> dict[str, Any]:
        with self._lock:
            for _ in range(2):            # a helper that died is started again, once
                line = self._ask(request)
                if line:
                    return json.loads(line)
                self.stop()
        raise DrawingFailed("the drawing helper process (python -m dti.web.vega) stopped; "
                            "see the server's error output")

    def _ask(self, request: str) -> str:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "dti.web.vega"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, text=True, encoding="utf-8")
        try:
            self._process.stdin.write(request + "\n")
            self._process.stdin.flush()
            return self._process.stdout.readline()
        except OSError:
            return ""

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait()


_HELPER = _Helper()
atexit.register(_HELPER.stop)


def to_svg(spec: dict[str, Any], locale: dict[str, Any]) -> str:
    """The SVG of a Vega-Lite ``spec`` with a d3 number ``locale``; no URL may be loaded."""
    answer = _HELPER.draw(json.dumps({"spec": spec, "locale": locale}))
    if "error" in answer:
        raise DrawingFailed(f"vl-convert could not draw the chart: {answer['error']}")
    return answer["svg"]


def _draw(request: dict[str, Any]) -> str:
    import vl_convert as vlc  # in the helper process only

    return vlc.vegalite_to_svg(request["spec"], allowed_base_urls=[],
                               format_locale=request["locale"])


def main() -> None:
    """The helper: draw each request line until the server closes the pipe."""
    for line in sys.stdin:
        try:
            answer = {"svg": _draw(json.loads(line))}
        except Exception as exc:   # noqa: BLE001 — told to the caller, who raises it
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
