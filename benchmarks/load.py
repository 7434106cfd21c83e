"""Load and abuse: the whole server under mixed users, with an abusive one among them.

Run:  .venv/bin/python benchmarks/load.py [--duration 60] [--workers 2] [--database-url postgresql://…]
                                           [--public 24] [--editors 16] [--reviewers 4] [--abusers 4]
                                           [--render-ahead]

Builds a fresh store (SQLite file in a temporary folder unless ``--database-url`` names another),
loads the demo (the illustrative edition, 63 provinces of simulated answers), gives each editor its
own province in draft, logs everyone in through the real form, then starts ``dti serve`` on a free
loopback port and runs Locust headless, as a library, for ``--duration`` seconds.  Traffic goes to
127.0.0.1 only and stops by itself.  Reports are kept in a temporary folder: by default the server
does not render every published report ahead (the steady state once they are on disk; the PDFs the
readers ask for are fetched once before the load), with ``--render-ahead`` it renders them during
the load, in its quiet moments (the first minutes after a publication or a first start).

User classes (each with a think time of 0.2–1 s between requests):

* public readers — the 2022 ranking page, a province profile, their JSON twins, the national and a
  province PDF;
* province editors — open their form, save an answer (with the version the last save returned),
  preview the points of what is typed;
* reviewers — the review queue and a province's appraisal screen;
* abusers — cache-busting PDF requests (``?x=<random>``), an oversized log-in body, a 21 MiB
  evidence file, a workbook that unpacks to 400 MB, and log-in failures.

Prints, per class, requests/s, p50 and p99 latency, errors (unexpected answers) and 5xx, and the
server's peak resident memory (all its processes, sampled every 0.2 s), then the targets: public
pages p99 < 300 ms, saves p99 < 300 ms, no 5xx outside the abuse class, peak RSS < 1 GB.  An
abuser's refusals (4xx, or 503 with Retry-After from a capped pool) are what it should get; they
are listed, not counted as errors.  Not a test: the figures go into the issue note.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import statistics
import tempfile
import threading
import time
import zipfile
from collections import defaultdict
from pathlib import Path

from portal import free_port, start_server   # the portal benchmark's server start-up
from web import PASSWORD, _answer, prepare   # the assessment benchmark's store and answers

EDITION_2022 = "dti-province-2022"
PUBLIC_PATHS = {
    "ranking": f"/editions/{EDITION_2022}",
    "ranking.json": f"/editions/{EDITION_2022}.json",
    "profile": f"/provinces/48?edition={EDITION_2022}",
    "profile.json": f"/provinces/48.json?edition={EDITION_2022}",
    "national.pdf": f"/reports/editions/{EDITION_2022}.pdf",
    "province.pdf": f"/reports/provinces/19.pdf?edition={EDITION_2022}",
}


# --- the store and the sessions -------------------------------------------------------------------

def review_targets(url: str, evidence: Path, edition: str) -> list[str]:
    """Provinces whose assessments a reviewer can open (submitted or in review) in ``edition``
    (the demo's ministry edition has bodies of its own)."""
    from sqlalchemy import select

    from dti.store.db import Store
    from dti.store.models import Assessment, EditionRow

    store = Store.open(url, evidence)
    with store.reading() as session:
        codes = list(session.scalars(select(Assessment.province_code).join(EditionRow).where(
            EditionRow.code == edition, Assessment.state.in_(("submitted", "in_review")))))
    store.close()
    return codes


def make_abuser(url: str, evidence: Path, province: str) -> None:
    """An editor account for the abuse class (its uploads need a session)."""
    from dti.store.accounts import create_user
    from dti.store.db import Store

    store = Store.open(url, evidence)
    with store.transaction() as session:
        create_user(session, "bench-abuser", PASSWORD, "province_editor", province, "bench-abuser")
    store.close()


def zip_bomb(unpacked_mb: int = 400) -> bytes:
    """A workbook of about 1 MB whose sheet unpacks to ``unpacked_mb`` MB of one repeated row."""
    row = b'<row><c t="inlineStr"><is><t>0</t></is></c></row>'
    chunk = row * (1 << 14)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml",
                         '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                         'package/2006/content-types"/>')
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(b'<worksheet><sheetData>')
            for _ in range(unpacked_mb * (1 << 20) // len(chunk)):
                sheet.write(chunk)
            sheet.write(b'</sheetData></worksheet>')
    return out.getvalue()


# --- measuring ------------------------------------------------------------------------------------

def _judge(response, ok: tuple[int, ...]) -> None:
    """An expected answer (a refusal, for the abuser) is a success; anything else an error."""
    if response.status_code in ok:
        response.success()
    else:
        response.failure(f"{response.status_code}")


class Tally:
    """Every request's latency and status, by user class."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.by_name: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.server_errors: dict[str, int] = defaultdict(int)
        self.statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.name_statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.started = self.ended = 0.0

    def record(self, name: str, response_time: float, response, exception) -> None:
        cls = name.split(":", 1)[0]
        status = getattr(response, "status_code", 0) or 0
        with self.lock:
            self.latency[cls].append(response_time)
            self.by_name[name].append(response_time)
            self.statuses[cls][status] += 1
            self.name_statuses[name][status] += 1
            if status >= 500 or status == 0:
                self.server_errors[cls] += 1
            if exception is not None:
                self.errors[cls] += 1


def peak_rss_sampler(pid: int, stop: threading.Event, out: list[int]) -> None:
    """Sum of the resident memory of ``pid`` and its descendants, every 0.2 s; the peak in out[0]."""
    def tree(root: int) -> list[int]:
        pids, todo = [], [root]
        while todo:
            p = todo.pop()
            pids.append(p)
            try:
                for task in os.listdir(f"/proc/{p}/task"):
                    with open(f"/proc/{p}/task/{task}/children") as f:
                        todo += [int(c) for c in f.read().split()]
            except OSError:
                pass
        return pids

    def rss(p: int) -> int:
        try:
            with open(f"/proc/{p}/status") as f:
                match = re.search(r"VmRSS:\s+(\d+) kB", f.read())
            return int(match.group(1)) * 1024 if match else 0
        except OSError:
            return 0

    while not stop.is_set():
        out[0] = max(out[0], sum(rss(p) for p in tree(pid)))
        stop.wait(0.2)


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


# --- the run --------------------------------------------------------------------------------------

def run_load(port: int, args, plan: dict) -> Tally:
    """Locust, headless, for ``args.duration`` seconds (imported here: it patches the standard
    library for gevent, which the store preparation above must not run under)."""
    import gevent
    from locust import HttpUser, between, events, task
    from locust.env import Environment

    tally = Tally()
    host = f"http://127.0.0.1:{port}"
    editors = list(plan["editors"])
    bomb = zip_bomb()
    big_file = b"%PDF-1.4\n" + b"0" * (21 * (1 << 20))

    class Base(HttpUser):
        abstract = True
        wait_time = between(0.2, 1.0)
        host = "http://127.0.0.1"

        def sign_in(self, cookie: str) -> None:
            self.client.cookies.set("dti_session", cookie)

        def get(self, name: str, path: str, ok=(200,), **kwargs) -> None:
            with self.client.get(path, name=name, catch_response=True, **kwargs) as response:
                _judge(response, ok)

        def post(self, name: str, path: str, ok=(200,), **kwargs):
            with self.client.post(path, name=name, catch_response=True, **kwargs) as response:
                _judge(response, ok)
                return response

    class PublicReader(Base):
        weight = args.public

        @task(4)
        def ranking(self):
            self.get("public:ranking", PUBLIC_PATHS["ranking"])

        @task(4)
        def ranking_json(self):
            self.get("public:ranking.json", PUBLIC_PATHS["ranking.json"])

        @task(3)
        def profile(self):
            self.get("public:profile", PUBLIC_PATHS["profile"])

        @task(2)
        def profile_json(self):
            self.get("public:profile.json", PUBLIC_PATHS["profile.json"])

        @task(1)
        def pdfs(self):
            self.get("public:national.pdf", PUBLIC_PATHS["national.pdf"])
            self.get("public:province.pdf", PUBLIC_PATHS["province.pdf"])

    class Editor(Base):
        weight = args.editors

        def on_start(self):
            self.account = editors.pop() if editors else random.choice(plan["editors"])
            _, province, items, mains, cookie, csrf, versions = self.account
            self.sign_in(cookie)
            self.page = f"/app/{plan['edition']}/{province}"
            self.items, self.csrf, self.versions, self.n = items, csrf, versions, random.randrange(99)
            self.mains = mains

        @task(1)
        def open_form(self):
            self.get("editor:form", f"{self.page}?section={self.mains[self.n % len(self.mains)]}")

        @task(3)
        def save(self):
            self.n += 1
            item = self.items[self.n % len(self.items)]
            data = {**_answer(item, self.n), "version": self.versions[item.code]}
            response = self.post("editor:save", f"{self.page}/answers/{item.code}", ok=(200, 409),
                                 data=data, headers={"X-CSRF-Token": self.csrf, "Accept": "application/json"})
            if response.status_code == 200:
                self.versions[item.code] = response.json()["version"]
            elif response.status_code == 409:   # another editor of the same province saved first
                self.versions[item.code] = response.json().get("current", {}).get(
                    "version", self.versions[item.code])

        @task(2)
        def preview(self):
            item = self.items[self.n % len(self.items)]
            self.post("editor:preview", f"{self.page}/answers/{item.code}/preview",
                      data=_answer(item, self.n), headers={"X-CSRF-Token": self.csrf,
                                                            "Accept": "application/json"})

    class Reviewer(Base):
        weight = args.reviewers

        def on_start(self):
            self.sign_in(plan["reviewer"][0])

        @task(1)
        def queue(self):
            self.get("reviewer:queue", f"/app/review/{plan['edition']}")

        @task(2)
        def appraisal(self):
            province = random.choice(plan["review_targets"])
            self.get("reviewer:appraisal", f"/app/review/{plan['edition']}/{province}")

    class Abuser(Base):
        weight = args.abusers
        refused = (400, 401, 403, 409, 413, 422, 429, 503)

        def on_start(self):
            self.cookie, self.csrf = plan["abuser"]
            self.page = f"/app/{plan['edition']}/{plan['abuser_province']}"

        @task(4)
        def cache_busting_pdf(self):
            self.get("abuse:pdf?x=random", f"{PUBLIC_PATHS['national.pdf']}?x={random.random()}",
                     ok=(200, 400, 503))

        @task(2)
        def oversized_login(self):
            self.post("abuse:login 2 MiB body", "/app/login", ok=self.refused,
                      data={"username": "admin", "password": "x" * (2 << 20), "csrf": "x"})

        @task(2)
        def login_failure(self):
            self.client.cookies.clear()
            page = self.client.get("/app/login", name="abuse:login page")
            token = re.search(r'name="csrf" value="([^"]+)"', page.text)
            self.post("abuse:login failure", "/app/login", ok=(200, 401, 403, 429),
                      data={"username": "admin", "password": "wrong-password",
                            "csrf": token.group(1) if token else "", "next": "/app/"},
                      allow_redirects=False)

        @task(1)
        def oversized_evidence(self):
            self.client.cookies.set("dti_session", self.cookie)
            code = plan["abuser_item"]
            self.post("abuse:evidence 21 MiB", f"{self.page}/answers/{code}/evidence", ok=self.refused,
                      files={"files": ("big.pdf", big_file, "application/pdf")},
                      headers={"X-CSRF-Token": self.csrf, "Accept": "application/json"})

        @task(1)
        def zip_bomb_workbook(self):
            self.client.cookies.set("dti_session", self.cookie)
            self.post("abuse:zip-bomb workbook", f"{self.page}/import", ok=(200,) + self.refused,
                      files={"file": ("bomb.xlsx", bomb, "application/vnd.openxmlformats-"
                                                         "officedocument.spreadsheetml.sheet")},
                      data={"csrf": self.csrf}, headers={"X-CSRF-Token": self.csrf})

    for cls in (PublicReader, Editor, Reviewer, Abuser):
        cls.host = host
    env = Environment(user_classes=[PublicReader, Editor, Reviewer, Abuser], events=events)

    @events.request.add_listener
    def _on_request(name, response_time, response=None, exception=None, **_):
        tally.record(name, response_time, response, exception)

    runner = env.create_local_runner()
    users = args.public + args.editors + args.reviewers + args.abusers
    tally.started = time.perf_counter()
    runner.start(users, spawn_rate=users)
    gevent.spawn_later(args.duration, runner.quit)
    runner.greenlet.join()
    tally.ended = time.perf_counter()
    return tally


def report(tally: Tally, peak_rss: int, backend: str, args) -> None:
    elapsed = tally.ended - tally.started
    print(f"{backend}, {args.workers} server workers, {args.duration} s, users: {args.public} public, "
          f"{args.editors} editors, {args.reviewers} reviewers, {args.abusers} abusers"
          + (", reports rendered ahead during the load" if args.render_ahead else ""))
    print(f"  {'class':10s} {'req/s':>7s} {'p50 ms':>8s} {'p99 ms':>8s} {'errors':>7s} {'5xx':>5s}  statuses")
    for cls in ("public", "editor", "reviewer", "abuse"):
        values = tally.latency.get(cls, [])
        statuses = ", ".join(f"{s}×{n}" for s, n in sorted(tally.statuses[cls].items()))
        print(f"  {cls:10s} {len(values) / elapsed:7.1f} {percentile(values, 50):8.0f} "
              f"{percentile(values, 99):8.0f} {tally.errors[cls]:7d} {tally.server_errors[cls]:5d}  {statuses}")
    print("  by request:")
    for name in sorted(tally.by_name):
        values = tally.by_name[name]
        statuses = ", ".join(f"{s}×{n}" for s, n in sorted(tally.name_statuses[name].items()))
        print(f"    {name:32s} n={len(values):6d}  p50 {percentile(values, 50):7.0f} ms  "
              f"p99 {percentile(values, 99):7.0f} ms  {statuses}")
    print(f"  server peak RSS: {peak_rss / 2**20:.0f} MiB")
    public_p99 = percentile(tally.latency.get("public", []), 99)
    saves_p99 = percentile(tally.by_name.get("editor:save", []), 99)
    legit_5xx = sum(tally.server_errors[c] for c in ("public", "editor", "reviewer"))
    checks = [("public pages p99 < 300 ms", public_p99 < 300, f"{public_p99:.0f} ms"),
              ("saves p99 < 300 ms", saves_p99 < 300, f"{saves_p99:.0f} ms"),
              ("no 5xx outside the abuse class", legit_5xx == 0, str(legit_5xx)),
              ("peak RSS < 1 GB", peak_rss < 1e9, f"{peak_rss / 1e6:.0f} MB")]
    print("  targets:")
    for label, held, figure in checks:
        print(f"    {'met ' if held else 'MISSED'} {label}: {figure}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--public", type=int, default=24)
    parser.add_argument("--editors", type=int, default=16)
    parser.add_argument("--reviewers", type=int, default=4)
    parser.add_argument("--abusers", type=int, default=4)
    parser.add_argument("--database-url")
    parser.add_argument("--render-ahead", action="store_true",
                        help="the server renders every published report during the load")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/load.db"
        evidence = Path(tmp) / "evidence"
        edition, accounts = prepare(url, evidence, args.editors + 1)
        abuser_account = accounts.pop()
        make_abuser(url, evidence, abuser_account[1])
        targets = review_targets(url, evidence, edition)
        port = free_port()
        env = {**os.environ, "DTI_DATABASE_URL": url, "DTI_EVIDENCE_DIR": str(evidence),
               "DTI_REPORT_DIR": str(Path(tmp) / "reports"),
               "DTI_RENDER_AHEAD": "1" if args.render_ahead else "0"}
        server = start_server(port, args.workers, env, probe="/app/login", wait=120)
        stop, peak = threading.Event(), [0]
        sampler = threading.Thread(target=peak_rss_sampler, args=(server.pid, stop, peak), daemon=True)
        try:
            from web import login, sessions

            plan = {"edition": edition, "editors": sessions(port, edition, accounts),
                    "reviewer": login(port, "thamdinh1", "demo-dti-2026"),
                    "abuser": login(port, "bench-abuser"), "abuser_province": abuser_account[1],
                    "abuser_item": abuser_account[2][0].code, "review_targets": targets}
            for path in PUBLIC_PATHS.values():   # the first request of each: reported by portal.py
                import urllib.request
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=120).read()
            import locust  # noqa: F401  (patches threading for gevent: before the sampler starts)

            sampler.start()
            tally = run_load(port, args, plan)
        finally:
            stop.set()
            server.terminate()
            server.wait(timeout=30)
        report(tally, peak[0], url.split(":", 1)[0], args)


if __name__ == "__main__":
    main()
