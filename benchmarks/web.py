"""Assessment-app speed: latency of saving one answer and of opening one main indicator's page
of a province's form, under 16 (or 64, …) concurrent clients on loopback.

Run:  .venv/bin/python benchmarks/web.py [--requests 1600] [--clients 16] [--workers 2]
                                          [--database-url postgresql://…]

Builds a fresh database (SQLite file in a temporary folder unless ``--database-url`` names
another), loads the demo (the illustrative edition, 63 provinces of simulated answers), gives
each client its own editor account and a province in draft (beyond 63 clients, two clients share
a province and split its sub-indicators, so they never save the same answer), then starts
``dti serve`` on a free loopback port, with its PDF reports in a fresh folder and not rendered
ahead (``--render-ahead`` renders them meanwhile, as a server does in the minutes after it
starts: that work shares each worker's interpreter with the requests).  Each client logs in through the real form, then sends its share of a
bounded number of requests, one after another:

* save: ``POST /app/{edition}/{province}/answers/{code}`` — parse, score, optimistic-concurrency
  update, audit line, all in one transaction — cycling over the province's sub-indicators with
  the version the previous save returned (each save is its own keep-alive request on
  the client's connection);
* section: ``GET /app/{edition}/{province}?section=…`` — one main indicator's page of the form
  (its sub-indicators with their answers, evidence and comments, under the summary of all nine),
  cycling over the main indicators.

Prints the median and p99 latency (send to last byte, measured by the client) and requests per
second for each, median of ``--repeats`` rounds.  Not a test: the figures go into the issue note.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from portal import free_port, start_server   # the portal benchmark's server start-up

PASSWORD = "bench-password-1"


def prepare(url: str, evidence: Path, clients: int) -> tuple[str, list[tuple[str, str, list]]]:
    """Demo data plus one draft province and one editor per client: (edition, [(user, province,
    items)])."""
    from sqlalchemy import text, update

    from dti.services import demo
    from dti.store import migrate
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

    catalogue = illustrative_catalogue()
    items = [i for i in catalogue.items if i.scored]
    units = [u.code for u in load_unit_set("provinces-63")]
    provinces = [units[n % len(units)] for n in range(clients)]
    sharing = {code: provinces.count(code) for code in provinces}
    accounts = []
    with store.transaction() as session:
        session.execute(update(Assessment).where(Assessment.province_code.in_(set(provinces)))
                        .values(state="draft"))
        for n, code in enumerate(provinces):
            name = f"bench{n:02d}"
            create_user(session, name, PASSWORD, "province_editor", code, name)
            share = items[n // len(units)::sharing[code]]     # disjoint when a province is shared
            accounts.append((name, code, share, [m.code for m in catalogue.mains]))
    store.close()
    return demo.EDITION, accounts


def login(port: int, username: str, password: str = PASSWORD) -> tuple[str, str]:
    """Log in through the real form: (session cookie, CSRF token)."""
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        page = client.get("/app/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        response = client.post("/app/login", data={"username": username, "password": password,
                                                   "csrf": token, "next": "/app/"})
        if response.status_code != 303:
            raise SystemExit(f"log-in failed for {username}: {response.status_code}")
        page = client.get("/app/", follow_redirects=True)
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
        return client.cookies["dti_session"], csrf


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


async def _exchange(reader, writer, request: bytes) -> tuple[int, bytes]:
    """One request on a keep-alive HTTP/1.1 connection: (status, body)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = int(re.search(rb"(?i)\r\ncontent-length: *(\d+)", head).group(1))
    return status, await reader.readexactly(length)


def _request(port: int, method: str, path: str, cookie: str, csrf: str = "", body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Cookie: dti_session={cookie}",
             "Accept: application/json" if method == "POST" else "Accept: text/html"]
    if method == "POST":
        lines += [f"X-CSRF-Token: {csrf}", "Content-Type: application/x-www-form-urlencoded",
                  f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body


async def run_client(port: int, edition: str, account, count: int, kind: str,
                     latencies: list[float]) -> None:
    """A raw asyncio client (an HTTP library would take CPU the 2-core server needs)."""
    import json
    from urllib.parse import quote, urlencode

    username, province, items, mains, cookie, csrf, versions = account
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    page = f"/app/{quote(edition)}/{province}"
    try:
        for n in range(count):
            if kind == "save":
                item = items[(n + versions.get("_offset", 0)) % len(items)]
                body = urlencode({**_answer(item, n), "version": versions[item.code]}).encode()
                request = _request(port, "POST", f"{page}/answers/{item.code}", cookie, csrf, body)
            else:
                request = _request(port, "GET", f"{page}?section={mains[n % len(mains)]}", cookie)
            started = time.perf_counter()
            status, content = await _exchange(reader, writer, request)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                raise SystemExit(f"{kind} answered {status}: {content[:200]!r}")
            if kind == "save":
                versions[item.code] = json.loads(content)["version"]
            elif b'class="main-indicator"' not in content:
                raise SystemExit("the form page came back without its main indicator")
        versions["_offset"] = versions.get("_offset", 0) + count
    finally:
        writer.close()


async def measure(port: int, edition: str, accounts, total: int, kind: str) -> tuple[float, float, float]:
    latencies: list[float] = []
    per_client = max(1, total // len(accounts))
    started = time.perf_counter()
    await asyncio.gather(*(run_client(port, edition, a, per_client, kind, latencies)
                           for a in accounts))
    elapsed = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return q[49] * 1000, q[98] * 1000, len(latencies) / elapsed


def sessions(port: int, edition: str, accounts) -> list[tuple]:
    """Each client logged in, with the versions of its province's answers."""
    out = []
    for username, province, items, mains in accounts:
        cookie, csrf = login(port, username)
        form = httpx.get(f"http://127.0.0.1:{port}/app/{edition}/{province}", timeout=60,
                         headers={"accept": "application/json"}, cookies={"dti_session": cookie})
        versions = {a["code"]: a["version"] for a in form.json()["answers"]}
        out.append((username, province, items, mains, cookie, csrf, versions))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1600)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--database-url")
    parser.add_argument("--render-ahead", action="store_true",
                        help="let the workers render every published PDF report in the "
                             "background meanwhile, as a freshly started server does")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        evidence = Path(tmp) / "evidence"
        edition, accounts = prepare(url, evidence, args.clients)
        port = free_port()
        env = {**os.environ, "DTI_DATABASE_URL": url, "DTI_EVIDENCE_DIR": str(evidence),
               "DTI_REPORT_DIR": str(Path(tmp) / "reports"),
               "DTI_RENDER_AHEAD": "1" if args.render_ahead else "0"}
        server = start_server(port, args.workers, env, probe="/app/login", wait=90)
        try:
            accounts = sessions(port, edition, accounts)
            backend = url.split(":", 1)[0]
            print(f"{args.clients} clients, {args.requests} requests per round, {args.workers} "
                  f"server workers, {backend}, median of {args.repeats} rounds")
            for kind, label in (("save", "save one answer"), ("section", "open a main indicator")):
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
