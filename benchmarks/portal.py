"""Portal speed: requests per second and latency under 64 concurrent connections, and page weight.

Run:  .venv/bin/python benchmarks/portal.py [--requests 5000] [--connections 64] [--workers 2]

Starts ``dti serve --workers 2`` on a free loopback port (127.0.0.1 only), then, for the 2022
ranking page, its JSON twin and a province profile, sends a bounded number of GET requests
(``--requests``, after a warm-up of 2 per connection) over ``--connections`` keep-alive HTTP/1.1
connections from one asyncio client, and prints requests per second and p50/p99 latency (from
sending a request to its last byte).  The client is a few lines over asyncio streams rather than
an HTTP library, so that on a 2-core machine the load generator takes as little of the CPU the
server needs as it can; it shares the machine all the same, so the figures are a floor.  Then the
byte weight of the ranking page with the assets it references, of the map page with its assets,
and of the two together.  Targets: ≥ 1,000 requests/s for the JSON twin on 2 cores, p99 under
100 ms, the ranking page with its map under 600 KB.  Not a test: figures go into the issue note.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

E = "dti-province-2022"
PAGES = {"ranking page": f"/editions/{E}", "JSON twin": f"/editions/{E}.json",
         "profile page": f"/provinces/48?edition={E}"}
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


async def _connection(port: int, path: str, count: int, latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode("ascii")
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


async def load(port: int, path: str, requests: int, connections: int) -> dict[str, float]:
    await asyncio.gather(*(_connection(port, path, 2, []) for _ in range(connections)))  # warm-up
    latencies: list[float] = []
    cpu = time.process_time()
    share = [requests // connections + (i < requests % connections) for i in range(connections)]
    started = time.perf_counter()
    await asyncio.gather(*(_connection(port, path, n, latencies) for n in share if n))
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"requests": len(latencies), "seconds": wall, "rps": len(latencies) / wall,
            "p50": q[49] * 1000, "p99": q[98] * 1000, "max": max(latencies) * 1000,
            "client_cpu": cpu / wall}


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000, help="requests per page (bounded)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not 1 <= args.requests <= 100_000 or not 1 <= args.connections <= 1024:
        raise SystemExit("--requests must be 1..100000 and --connections 1..1024")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    print(f"dti serve --workers {args.workers} on {base}; {os.cpu_count()} CPUs; "
          f"{args.requests:,} requests per page over {args.connections} connections")
    server = start_server(port, args.workers)
    try:
        print(f"{'':<14} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'bytes':>9} "
              f"{'client CPU':>10}")
        for label, path in PAGES.items():
            size = len(fetch(base + path))
            r = asyncio.run(load(port, path, args.requests, args.connections))
            print(f"{label:<14} {r['rps']:>8,.0f} {r['p50']:>8.1f} {r['p99']:>8.1f} {r['max']:>8.1f} "
                  f"{size:>9,} {r['client_cpu']:>10.0%}")
        print()
        pages = {"ranking page": f"/editions/{E}"}
        try:
            fetch(f"{base}/editions/{E}/map")
            pages["map page"] = f"/editions/{E}/map"
        except OSError:
            pass
        total_raw = total_gzip = 0
        seen: set[str] = set()
        for label, path in pages.items():
            raw, packed, parts = weight(base, path)
            print(f"{label} with its assets: {raw / 1000:,.1f} KB ({packed / 1000:,.1f} KB gzipped): "
                  + ", ".join(f"{p} {n / 1000:,.1f} KB" for p, n in parts))
            for p, n in parts:
                if p not in seen:
                    seen.add(p)
                    total_raw += n
            total_gzip += packed
        if len(pages) > 1:
            print(f"ranking page and its map, assets counted once: {total_raw / 1000:,.1f} KB "
                  f"(target < 600 KB)")
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
