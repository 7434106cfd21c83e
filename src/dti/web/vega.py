"""Vega-Lite to SVG (vl-convert), in a helper process.

vl-convert keeps Python's global interpreter lock for its whole run — up to two seconds for a
map — so called in the server process it would stall the event loop and every other thread,
whatever pool it ran in.  A helper process (``python -m dti.web.vega``, started on first use,
again if it dies) does the drawing; callers wait for their SVG without holding the lock.  A
request is one JSON line, the answer one JSON line; one drawing at a time.  The helper ends after
5 s without a request (and with the server), so its memory (the drawing engine's, 130–180 MB) is
held only while charts are drawn.

Where charts are kept on disk for all the server's workers (:func:`keep_in`), the workers share
one helper too: it listens on a Unix socket in that folder, and the worker that finds none starts
it.  Otherwise each process has its own, on a pipe.
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
import time
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


class _SharedHelper:
    """The one helper of every worker process whose charts are kept in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._started: list[subprocess.Popen] = []   # by this process: reaped, stopped at exit
        self._lock = Lock()

    def address(self) -> str:
        path = str(self.folder / "draw.sock")
        if len(path) < 100:
            return path
        # Unix socket paths are limited to 107 bytes: reach a deep folder through a descriptor.
        if not hasattr(self, "_folder_fd"):
            self._folder_fd = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY)
        return f"/proc/self/fd/{self._folder_fd}/draw.sock"

    def _passed(self) -> tuple[int, ...]:
        """The folder's descriptor, under the same number, when the address goes through it."""
        return (self._folder_fd,) if hasattr(self, "_folder_fd") else ()

    def draw(self, request: str) -> dict[str, Any]:
        for _ in range(2):            # a helper that ended as we asked is started again, once
            line = self._ask(request)
            if line:
                return json.loads(line)
        raise DrawingFailed("the drawing helper process (python -m dti.web.vega) stopped; "
                            "see the server's error output")

    def _ask(self, request: str) -> str:
        try:
            with self._connect() as conn, conn.makefile("rw", encoding="utf-8") as stream:
                stream.write(request + "\n")
                stream.flush()
                return stream.readline()
        except OSError:
            return ""

    def _connect(self) -> socket.socket:
        self._reap()
        try:
            return _connected(self.address())
        except (FileNotFoundError, ConnectionRefusedError):
            pass
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.folder / "draw.start.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)          # one worker starts it; the others connect
            try:
                return _connected(self.address())
            except (FileNotFoundError, ConnectionRefusedError):
                pass
            self._reap()
            (self.folder / "draw.sock").unlink(missing_ok=True)    # left by a helper killed
            process = subprocess.Popen([sys.executable, "-m", "dti.web.vega", self.address()],
                                       pass_fds=self._passed())
            self._started.append(process)
            deadline = time.monotonic() + 30
            while process.poll() is None and time.monotonic() < deadline:
                try:
                    return _connected(self.address())
                except (FileNotFoundError, ConnectionRefusedError):
                    time.sleep(0.01)
        raise DrawingFailed("the drawing helper process (python -m dti.web.vega) did not start; "
                            "see the server's error output")

    def _reap(self) -> None:
        self._started = [p for p in self._started if p.poll() is None]

    def stop(self) -> None:
        for process in self._started:
            process.kill()
            process.wait()
        self._started = []


def _connected(address: str) -> socket.socket:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.settimeout(300)
        conn.connect(address)
    except BaseException:
        conn.close()
        raise
    return conn


_HELPER = _Helper()
atexit.register(_HELPER.stop)
_SHARED: list[_SharedHelper] = []
atexit.register(lambda: [helper.stop() for helper in _SHARED])


# Where drawn charts are kept, shared by the server's worker processes (set by ``keep_in``): a
# chart another worker has drawn is read, not drawn again, so one helper — not one per worker —
# holds the drawing engine's memory while the pages are built at start.
_KEPT: list[Path] = []


def keep_in(folder: Path | None) -> None:
    """Keep drawn charts in ``folder`` (None: draw every time), drawn by the helper shared by
    every process that keeps them there."""
    _KEPT[:] = [folder] if folder is not None else []
    if folder is not None and not any(h.folder == folder for h in _SHARED):
        _SHARED.append(_SharedHelper(folder))


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
        svg = _drawn(request, _shared(_KEPT[0]))
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, suffix=".part",
                                         delete=False) as part:
            part.write(svg)
        os.replace(part.name, path)
        return svg


def _shared(folder: Path) -> _SharedHelper:
    return next(h for h in _SHARED if h.folder == folder)


def _drawn(request: str, helper: Any = None) -> str:
    answer = (helper or _HELPER).draw(request)
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


def _answer(line: str) -> str:
    try:
        answer = {"svg": _draw(json.loads(line))}
    except Exception as exc:   # noqa: BLE001 — told to the caller, who raises it
        answer = {"error": f"{type(exc).__name__}: {exc}"}
    return json.dumps(answer) + "\n"


def main() -> None:
    """The helper: draw each request line until the server closes the pipe or goes quiet."""
    for line in _lines(IDLE_SECONDS):
        sys.stdout.write(_answer(line))
        sys.stdout.flush()


def serve(address: str, idle: float | None = None) -> None:
    """The shared helper: answer one request per connection on the Unix socket ``address``
    until no worker connects within ``idle`` seconds; the socket is removed before it stops
    listening, so a worker either reaches it or starts another."""
    import select

    idle = IDLE_SECONDS if idle is None else idle
    old = os.umask(0o077)                 # the socket: this user only
    try:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(address)
    finally:
        os.umask(old)
    listener.listen(64)
    try:
        while select.select([listener], [], [], idle)[0]:
            conn, _ = listener.accept()
            try:
                with conn, conn.makefile("rw", encoding="utf-8") as stream:
                    line = stream.readline()
                    if line:
                        stream.write(_answer(line))
            except OSError:
                pass              # the worker went away (a stopped server): the next one
    finally:
        os.unlink(address)
        listener.close()


if __name__ == "__main__":
    serve(sys.argv[1]) if len(sys.argv) > 1 else main()
