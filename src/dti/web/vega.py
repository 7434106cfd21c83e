"""Vega-Lite to SVG (vl-convert), in a helper process.

vl-convert keeps Python's global interpreter lock for its whole run — up to two seconds for a
map — so called in the server process it would stall the event loop and every other thread,
whatever pool it ran in.  One helper process (``python -m dti.web.vega``, started on first use,
again if it dies) does the drawing; callers wait for their SVG without holding the lock.  A
request is one JSON line on the helper's standard input, the answer one JSON line on its output;
one drawing at a time.  The helper ends after 5 s without a request (and with the server).
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
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


# Where drawn charts are kept, shared by the server's worker processes (set by ``keep_in``): a
# chart another worker has drawn is read, not drawn again, so one helper — not one per worker —
# holds the drawing engine's memory while the pages are built at start.
_KEPT: list[Path] = []


def keep_in(folder: Path | None) -> None:
    """Keep drawn charts in ``folder`` (None: draw every time)."""
    _KEPT[:] = [folder] if folder is not None else []


def to_svg(spec: dict[str, Any], locale: dict[str, Any]) -> str:
    """The SVG of a Vega-Lite ``spec`` with a d3 number ``locale``; no URL may be loaded."""
    request = json.dumps({"spec": spec, "locale": locale}, sort_keys=True, ensure_ascii=False)
    if not _KEPT:
        return _drawn(request)
    path = _KEPT[0] / f"{hashlib.sha256(request.encode('utf-8')).hexdigest()}.svg"
    if path.exists():
        return path.read_text(encoding="utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)            # another worker drawing it: wait, then read
        if path.exists():
            return path.read_text(encoding="utf-8")
        svg = _drawn(request)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, suffix=".part",
                                         delete=False) as part:
            part.write(svg)
        os.replace(part.name, path)
        return svg


def _drawn(request: str) -> str:
    answer = _HELPER.draw(request)
    if "error" in answer:
        raise DrawingFailed(f"vl-convert could not draw the chart: {answer['error']}")
    return answer["svg"]


def _draw(request: dict[str, Any]) -> str:
    import vl_convert as vlc  # in the helper process only

    return vlc.vegalite_to_svg(request["spec"], allowed_base_urls=[],
                               format_locale=request["locale"])


IDLE_SECONDS = 5.0


def _lines(idle: float):
    """Request lines from the server; none within ``idle`` seconds ends the helper, so its
    memory (the drawing engine's, some 180 MB) is held only while charts are being drawn — the
    server starts a new helper on the next drawing."""
    import select

    while True:
        ready, _, _ = select.select([sys.stdin], [], [], idle)
        line = sys.stdin.readline() if ready else ""
        if not line:
            return
        yield line


def main() -> None:
    """The helper: draw each request line until the server closes the pipe or goes quiet."""
    for line in _lines(IDLE_SECONDS):
        try:
            answer = {"svg": _draw(json.loads(line))}
        except Exception as exc:   # noqa: BLE001 — told to the caller, who raises it
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
