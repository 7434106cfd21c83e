"""Portal speed: requests per second and latency under 64 concurrent connections, the first
request for a published PDF after start, and page weight.

Run:  .venv/bin/python benchmarks/portal.py [--duration 10] [--runs 3] [--connections 64]
                                            [--workers 2] [--requests 5000]

Builds a fresh store (SQLite, temporary folder) and a report folder in which the national 2022
report and two province profiles are rendered ahead, as ``dti serve`` renders every published
report at start and at publication, then starts ``dti serve --workers 2`` on a free loopback port
(127.0.0.1 only) with that folder (``DTI_RENDER_AHEAD=0``: the other reports are not rendered
during the measurement, so the load figures are not shared with background renders).

1. First PDFs: the time of the first request, in the fresh server, for each pre-rendered report
   (target < 100 ms), and for one that is not rendered yet (a render on request, for reference).
2. Load: for the 2022 ranking page, its JSON twin (identity and gzip) and a province profile,
   ``wrk`` (``/usr/bin/wrk``: ``--connections`` keep-alive connections, ``--duration`` seconds,
   ``--runs`` times; the median run is printed) — or, without wrk, a bounded number of requests
   (``--requests``) from a small asyncio client.  The client shares the 2 cores with the server,
   so the figures are a floor.
3. The byte weight of the ranking page with the assets it references, of the map page with its
   assets, and of the two together.

Targets: the JSON twin ≥ 2,000 requests/s with p99 < 100 ms at 64 connections on 2 cores; the
first request for a published PDF < 100 ms; the ranking page with its map under 600 KB.  Not a
test: figures go into the issue note.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

E = "dti-province-2022"
GZIP = {"Accept-Encoding": "gzip"}
PAGES = {"ranking page": (f"/editions/{E}", {}), "JSON twin": (f"/editions/{E}.json", {}),
         "JSON twin gzip": (f"/editions/{E}.json", GZIP),
         "profile page": (f"/provinces/48?edition={E}", {})}
# Rendered ahead into the report folder before the server starts; then asked for once each.
AHEAD = ((f"/reports/editions/{E}.pdf", (E, "provinces-63", "vi", None)),
         (f"/reports/provinces/48.pdf?edition={E}", (E, "provinces-63", "vi", "48")),
         (f"/en/reports/provinces/19.pdf?edition={E}", (E, "provinces-63", "en", "19")))
NOT_AHEAD = "/reports/editions/dti-province-2021.pdf"
WRK = shutil.which("wrk") or ("/usr/bin/wrk" if Path("/usr/bin/wrk").exists() else None)
ASSET = re.compile(r'<(?:link[^>]*rel="stylesheet"[^>]*href|script[^>]*src|img[^>]*src)="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, workers: int, env: dict[str, str] | None = None,
                 probe: str = "/api/v1/editions", wait: float = 60) -> subprocess.Popen:
    """``dti serve`` on a loopback port, once ``probe`` answers (also used by web.py)."""
    command = [sys.executable, "-c", "from dti.cli import run; run()", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server did not start: {server.stderr.read().decode()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{probe}", timeout=2):
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"the server did not answer within {wait:.0f} s")


async def _connection(port: int, path: str, count: int, latencies: list[float],
                      headers: dict[str, str] | None = None) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}\r\n".encode("ascii")
    try:
        for _ in range(count):
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = int(re.search(rb"(?i)\r\ncontent-length: *(\d+)", head).group(1))
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                raise RuntimeError(f"{path} answered {status}")
    finally:
        writer.close()


async def load(port: int, path: str, requests: int, connections: int,
               headers: dict[str, str] | None = None) -> dict[str, float]:
    await asyncio.gather(*(_connection(port, path, 2, [], headers) for _ in range(connections)))
    latencies: list[float] = []
    cpu = time.process_time()
    share = [requests // connections + (i < requests % connections) for i in range(connections)]
    started = time.perf_counter()
    await asyncio.gather(*(_connection(port, path, n, latencies, headers) for n in share if n))
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"requests": len(latencies), "seconds": wall, "rps": len(latencies) / wall,
            "p50": q[49] * 1000, "p99": q[98] * 1000, "max": max(latencies) * 1000,
            "client_cpu": cpu / wall}


def fetch(url: str, headers: dict[str, str] | None = None) -> bytes:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}),
                                timeout=10) as response:
        return response.read()


def weight(base: str, path: str) -> tuple[int, int, list[tuple[str, int]]]:
    """Bytes of a page and the assets it references, as sent and as gzip would send them."""
    page = fetch(base + path)
    parts = [(path, page)]
    for asset in sorted(set(ASSET.findall(page.decode("utf-8")))):
        if asset.startswith("/"):
            parts.append((asset, fetch(base + asset)))
    raw = sum(len(b) for _, b in parts)
    packed = sum(len(gzip.compress(b, 6)) for _, b in parts)
    return raw, packed, [(p, len(b)) for p, b in parts]


def render_ahead(folder: Path) -> list[tuple[str, float]]:
    """The AHEAD reports, rendered into ``folder`` as the server's shelf would (same fingerprint:
    the shipped catalogue, which a fresh store adds nothing to)."""
    from dti.web.ahead import ReportShelf, ReportSpec
    from dti.web.render_gate import RenderGate
    from dti.web.snapshot import Catalogue

    shelf = ReportShelf(Catalogue.shipped(), folder, RenderGate("reports", 1))
    took = []
    for url, spec in AHEAD:
        started = time.perf_counter()
        shelf.render(ReportSpec(*spec))
        took.append((url, time.perf_counter() - started))
    return took


def timed_get(url: str) -> tuple[int, float]:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return status, time.perf_counter() - started


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def wrk(url: str, connections: int, threads: int, duration: int,
        headers: dict[str, str]) -> dict[str, float]:
    """One wrk run: requests/s, p50 and p99 latency (ms)."""
    command = [WRK, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", url]
    for name, value in headers.items():
        command[1:1] = ["-H", f"{name}: {value}"]
    out = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"{url} answered errors under load:\n{out}")

    def latency(percent: str) -> float:
        value, unit = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * _UNITS[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return {"rps": rps, "p50": latency("50"), "p99": latency("99")}


def measure(base: str, port: int, path: str, headers: dict[str, str], args) -> dict[str, float]:
    """The median run (by requests/s) of ``--runs`` runs."""
    runs = []
    for _ in range(args.runs):
        if WRK:
            runs.append(wrk(base + path, args.connections, args.threads, args.duration, headers))
        else:
            runs.append(asyncio.run(load(port, path, args.requests, args.connections, headers)))
    runs.sort(key=lambda r: r["rps"])
    return {**runs[len(runs) // 2], "all": [round(r["rps"]) for r in runs]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--runs", type=int, default=3, help="runs per page (median printed)")
    parser.add_argument("--requests", type=int, default=5000,
                        help="requests per page and run without wrk (bounded)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not (1 <= args.requests <= 100_000 and 1 <= args.connections <= 1024
            and 1 <= args.duration <= 120 and 1 <= args.runs <= 9):
        raise SystemExit("--requests 1..100000, --connections 1..1024, --duration 1..120, --runs 1..9")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="dti-portal-bench-") as folder:
        reports = Path(folder) / "reports"
        print(f"{os.cpu_count()} CPUs; rendering {len(AHEAD)} reports ahead into {reports} …")
        for url, took in render_ahead(reports):
            print(f"  rendered {url} in {took:.1f} s (in this process, before the server starts)")
        env = {**os.environ, "DTI_DATABASE_URL": f"sqlite:///{folder}/dti.db",
               "DTI_REPORT_DIR": str(reports), "DTI_RENDER_AHEAD": "0", "DTI_WARM_UP": "1"}
        started = time.perf_counter()
        server = start_server(port, args.workers, env=env)
        print(f"dti serve --workers {args.workers} on {base}: answering after "
              f"{time.perf_counter() - started:.1f} s")
        try:
            first_pdfs(base)
            time.sleep(3)    # the workers build the main pages in the background
            print(f"\nload: {'wrk' if WRK else 'asyncio client'}, {args.connections} connections, "
                  + (f"{args.duration} s" if WRK else f"{args.requests:,} requests")
                  + f" per run, median of {args.runs} runs")
            print(f"{'':<15} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'bytes':>9}  runs (req/s)")
            for label, (path, headers) in PAGES.items():
                size = len(fetch(base + path, headers))
                r = measure(base, port, path, headers, args)
                print(f"{label:<15} {r['rps']:>8,.0f} {r['p50']:>8.1f} {r['p99']:>8.1f} {size:>9,}  "
                      f"{r['all']}")
            print()
            weights(base)
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()


def first_pdfs(base: str) -> None:
    print("\nfirst request for a PDF after start (target < 100 ms for reports rendered ahead):")
    for url, _ in AHEAD:
        status, took = timed_get(base + url)
        print(f"  {url:<50} {status}  {took * 1000:>8.1f} ms")
        status, took = timed_get(base + url + ("&" if "?" in url else "?") + "x=1")
        print(f"  {'  … again with a junk parameter':<50} {status}  {took * 1000:>8.1f} ms")
    status, took = timed_get(base + NOT_AHEAD)
    print(f"  {NOT_AHEAD:<50} {status}  {took * 1000:>8.1f} ms  (not rendered ahead: a render)")


def weights(base: str) -> None:
    pages = {"ranking page": f"/editions/{E}"}
    try:
        fetch(f"{base}/editions/{E}/map")
        pages["map page"] = f"/editions/{E}/map"
    except OSError:
        pass
    total_raw = 0
    seen: set[str] = set()
    for label, path in pages.items():
        raw, packed, parts = weight(base, path)
        print(f"{label} with its assets: {raw / 1000:,.1f} KB ({packed / 1000:,.1f} KB gzipped): "
              + ", ".join(f"{p} {n / 1000:,.1f} KB" for p, n in parts))
        for p, n in parts:
            if p not in seen:
                seen.add(p)
                total_raw += n
    if len(pages) > 1:
        print(f"ranking page and its map, assets counted once: {total_raw / 1000:,.1f} KB "
              f"(target < 600 KB)")


if __name__ == "__main__":
    main()
