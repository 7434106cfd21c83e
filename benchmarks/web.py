"""Assessment-app speed: latency of saving one answer and of rendering a province's full form,
under 16 concurrent clients on loopback.

Run:  .venv/bin/python benchmarks/web.py [--requests 1600] [--clients 16] [--workers 2]
                                          [--database-url postgresql://…]

Builds a fresh database (SQLite file in a temporary folder unless ``--database-url`` names
another), loads the demo (the illustrative edition, 63 provinces of simulated answers), gives
each client its own province in draft with its own editor account, then starts ``dti serve`` on a
free loopback port.  Each client logs in through the real form, then sends its share of a
bounded number of requests, one after another:

* save: ``POST /app/{edition}/{province}/answers/{code}`` — parse, score, optimistic-concurrency
  update, audit line, all in one transaction — cycling over the province's sub-indicators with
  the version the previous save returned;
* form: ``GET /app/{edition}/{province}`` — the whole form: 98 sub-indicators in 9 sections with
  their answers, evidence and comments.

Prints the median and p99 latency (send to last byte, measured by the client) and requests per
second for each, median of ``--repeats`` rounds.  Not a test: the figures go into the issue note.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import httpx

PASSWORD = "bench-password-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(url: str, evidence: Path, clients: int) -> tuple[str, list[tuple[str, str, list]]]:
    """Demo data plus one draft province and one editor per client: (edition, [(user, province,
    items)])."""
    from sqlalchemy import text, update

    from dti.store import demo, migrate
    from dti.store.accounts import create_user
    from dti.store.db import Store
    from dti.store.models import Assessment
    from dti.units import load_unit_set

    store = Store.open(url, evidence)
    if store.engine.dialect.name == "postgresql":
        with store.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    migrate.upgrade(store.engine)
    demo.seed(store)
    from dti.scoring import illustrative_catalogue

    items = [i for i in illustrative_catalogue().items if i.scored]
    provinces = [u.code for u in load_unit_set("provinces-63")][:clients]
    accounts = []
    with store.transaction() as session:
        session.execute(update(Assessment).where(Assessment.province_code.in_(provinces))
                        .values(state="draft"))
        for n, code in enumerate(provinces):
            name = f"bench{n:02d}"
            create_user(session, name, PASSWORD, "province_editor", code, name)
            accounts.append((name, code, items))
    store.close()
    return demo.EDITION, accounts


def start_server(port: int, workers: int, env: dict[str, str]) -> subprocess.Popen:
    command = [sys.executable, "-c", "from dti.cli import run; run()", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server did not start: {server.stderr.read().decode()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/app/login", timeout=2):
                return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("the server did not answer within 90 s")


async def login(client: httpx.AsyncClient, username: str) -> str:
    page = await client.get("/app/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    response = await client.post("/app/login", data={"username": username, "password": PASSWORD,
                                                      "csrf": token, "next": "/app/"})
    if response.status_code != 303:
        raise SystemExit(f"log-in failed for {username}: {response.status_code}")
    page = await client.get("/app/")
    page = await client.get(page.headers["location"]) if page.status_code == 303 else page
    return re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)


def _answer(item, n: int) -> dict[str, str]:
    """A valid answer for any rule kind, varying with n so every save changes something."""
    out = {}
    for f in item.rule.fields:
        if f.kind == "choice":
            out[f"f_{f.name}"] = f.options[n % len(f.options)].key
        elif f.kind == "yesno":
            out[f"f_{f.name}"] = "có" if n % 2 else "không"
        else:
            out[f"f_{f.name}"] = str(10 + n % 7)
    if item.rule.kind == "ratio":
        out[f"f_{item.rule.fields[1].name}"] = "20"
    return out


async def run_client(port: int, edition: str, account, count: int, kind: str,
                     latencies: list[float]) -> None:
    username, province, items = account
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        csrf = await login(client, username)
        headers = {"x-csrf-token": csrf, "accept": "application/json"}
        versions: dict[str, int] = {}
        form = await client.get(f"/app/{edition}/{province}", headers={"accept": "application/json"})
        for answer in form.json()["answers"]:
            versions[answer["code"]] = answer["version"]
        for n in range(count):
            started = time.perf_counter()
            if kind == "save":
                item = items[n % len(items)]
                response = await client.post(
                    f"/app/{edition}/{province}/answers/{item.code}", headers=headers,
                    data={**_answer(item, n), "version": str(versions[item.code])})
                if response.status_code != 200:
                    raise SystemExit(f"save failed: {response.status_code} {response.text[:200]}")
                versions[item.code] = response.json()["version"]
            else:
                response = await client.get(f"/app/{edition}/{province}")
                if response.status_code != 200 or len(response.content) < 10_000:
                    raise SystemExit(f"form failed: {response.status_code}")
            latencies.append(time.perf_counter() - started)


async def measure(port: int, edition: str, accounts, total: int, kind: str) -> tuple[float, float, float]:
    latencies: list[float] = []
    per_client = max(1, total // len(accounts))
    started = time.perf_counter()
    await asyncio.gather(*(run_client(port, edition, a, per_client, kind, latencies)
                           for a in accounts))
    elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    return statistics.median(latencies) * 1000, p99 * 1000, len(latencies) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1600)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        evidence = Path(tmp) / "evidence"
        edition, accounts = prepare(url, evidence, args.clients)
        port = free_port()
        env = {**os.environ, "DTI_DATABASE_URL": url, "DTI_EVIDENCE_DIR": str(evidence)}
        server = start_server(port, args.workers, env)
        try:
            backend = url.split(":", 1)[0]
            print(f"{args.clients} clients, {args.requests} requests per round, {args.workers} "
                  f"server workers, {backend}, median of {args.repeats} rounds")
            for kind, label in (("save", "save one answer"), ("form", "render the full form")):
                rounds = [asyncio.run(measure(port, edition, accounts, args.requests, kind))
                          for _ in range(args.repeats)]
                med = statistics.median(r[0] for r in rounds)
                p99 = statistics.median(r[1] for r in rounds)
                rps = statistics.median(r[2] for r in rounds)
                print(f"  {label:22s} median {med:7.1f} ms   p99 {p99:7.1f} ms   {rps:7.0f} req/s")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
