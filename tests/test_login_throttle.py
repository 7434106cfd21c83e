"""Log-in throttling over HTTP, against the real app and a real database: an address that keeps
failing is refused for a while without locking the accounts it aims at, an account is locked only
by failures from several addresses (and never for an address it logged in from lately), every
refusal reads the same, an admin sees and lifts locks, and ``X-Forwarded-For`` counts only from a
trusted proxy.  The clock is moved through ``dti.clock.source``, as the store tests do."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from assessment_support import PASSWORD, login, serving

from dti.errors import DtiError
from dti import clock
from dti.store import accounts
from dti.store.models import AuditEntry, EditionRow, SecurityEvent, User
from dti.web.app import create_app
from dti.web.settings import Settings

JSON = {"Accept": "application/json"}
ATTACKER, OFFICE, HOTEL = "203.0.113.9", "198.51.100.7", "192.0.2.44"
BOTNET = [f"100.64.0.{n}" for n in range(1, 5)]     # four addresses: 4 × 5 failures lock an account


def browser(app, address: str, **options) -> TestClient:
    return TestClient(app, raise_server_exceptions=False, client=(address, 50000), **options)


def attempt(app, address: str, username: str, password: str, headers=None):
    c = browser(app, address)
    page = c.get("/app/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return c.post("/app/login", data={"username": username, "password": password, "csrf": token},
                  headers=headers or {}, follow_redirects=False)


def refusal(response) -> str:
    """The refusal as the page says it (401, no session)."""
    assert response.status_code == 401, response.text[:300]
    assert "dti_session=" not in response.headers.get("set-cookie", "")
    return re.search(r'role="alert">(.*?)</p>', response.text, re.S).group(1)


def events(world, **where) -> list[tuple[str, str, str | None]]:
    query = select(SecurityEvent.kind, SecurityEvent.username, SecurityEvent.address)
    for column, value in where.items():
        query = query.where(getattr(SecurityEvent, column) == value)
    with world.store.reading() as session:
        return [tuple(r) for r in session.execute(query.order_by(SecurityEvent.id))]


def event_count(world) -> int:
    with world.store.reading() as session:
        return session.scalar(select(func.count()).select_from(SecurityEvent))


def locked_until(world, username: str):
    with world.store.reading() as session:
        return session.scalar(select(User.locked_until).where(User.username == username))


def lock_by_botnet(app, username: str) -> None:
    """Five failures from each of four addresses: the twentieth locks the account."""
    for address in BOTNET:
        for _ in range(5):
            refusal(attempt(app, address, username, "wrong-password-1"))


class CountingHasher:
    """The real hasher, counting the Argon2 verifications a log-in costs."""

    def __init__(self, hasher):
        self.hasher, self.verified = hasher, 0

    def verify(self, hashed, password):
        self.verified += 1
        return self.hasher.verify(hashed, password)

    def __getattr__(self, name):
        return getattr(self.hasher, name)


# -- one address keeps failing ---------------------------------------------------------------------


def test_an_address_that_keeps_failing_is_refused_and_admin_still_logs_in_elsewhere(app, world):
    for _ in range(5):
        refusal(attempt(app, ATTACKER, "admin", "wrong-password-1"))
    written = event_count(world)
    for password in ["wrong-password-2"] * 30 + [PASSWORD]:   # even the right password
        refusal(attempt(app, ATTACKER, "admin", password))
    assert event_count(world) == written          # a flood of refused attempts writes nothing
    assert locked_until(world, "admin") is None   # ... and does not lock the account it aims at
    assert attempt(app, OFFICE, "admin", PASSWORD).status_code == 303
    kinds = [k for k, _, _ in events(world, address=ATTACKER)]
    assert kinds == ["login_failed"] * 5 + ["address_throttled"]
    assert not events(world, kind="account_locked")


def test_a_throttled_address_is_refused_for_every_user_name(app, world):
    for name in ("nobody", "editor", "reviewer", "x1", "x2"):          # password spraying
        refusal(attempt(app, ATTACKER, name, "wrong-password-1"))
    refusal(attempt(app, ATTACKER, "approver", PASSWORD))
    assert attempt(app, OFFICE, "approver", PASSWORD).status_code == 303


def test_an_ipv6_client_is_counted_by_its_64_network(app, world):
    for n in range(5):   # one host may hold a whole /64: each try from a new address in it
        refusal(attempt(app, f"2001:db8:7:8::{n + 1}", "editor", "wrong-password-1"))
    refusal(attempt(app, "2001:db8:7:8:abcd::1", "editor", PASSWORD))
    assert attempt(app, "2001:db8:7:9::1", "editor", PASSWORD).status_code == 303
    assert {a for _, _, a in events(world, kind="address_throttled")} == {"2001:db8:7:8::/64"}


def test_the_throttle_ends_when_its_time_is_up(app, world, monkeypatch):
    for _ in range(5):
        refusal(attempt(app, ATTACKER, "editor", "wrong-password-1"))
    start = clock.now()
    monkeypatch.setattr(clock, "source", lambda: start + timedelta(minutes=14))
    refusal(attempt(app, ATTACKER, "editor", PASSWORD))
    monkeypatch.setattr(clock, "source", lambda: start + timedelta(minutes=16))
    assert attempt(app, ATTACKER, "editor", PASSWORD).status_code == 303


# -- many addresses ------------------------------------------------------------------------------


def test_failures_from_several_addresses_lock_the_account_but_not_where_it_logged_in(app, world):
    """The accepted trade-off: four addresses can lock an account for 15 minutes, for every
    address it has not logged in from lately; its owner's usual address still gets in."""
    assert attempt(app, OFFICE, "admin", PASSWORD).status_code == 303
    lock_by_botnet(app, "admin")
    assert locked_until(world, "admin") > clock.now()
    refusal(attempt(app, HOTEL, "admin", PASSWORD))           # a new address: locked
    refusal(attempt(app, OFFICE, "admin", "wrong-password-1"))  # the usual one: still checked
    assert attempt(app, OFFICE, "admin", PASSWORD).status_code == 303
    assert locked_until(world, "admin") > clock.now()      # logging in does not lift the lock


def test_every_refusal_reads_the_same_and_costs_the_same(app, world, monkeypatch):
    lock_by_botnet(app, "reviewer")
    for _ in range(5):
        refusal(attempt(app, ATTACKER, "nobody", "wrong-password-1"))
    hasher = CountingHasher(accounts._hasher)
    monkeypatch.setattr(accounts, "_hasher", hasher)
    texts, work = {}, {}
    for case, (address, name, password) in {
            "wrong password": (OFFICE, "editor", "wrong-password-1"),
            "unknown user": (OFFICE, "no-such-user", "wrong-password-1"),
            "locked account": (HOTEL, "reviewer", PASSWORD),
            "throttled address": (ATTACKER, "editor", PASSWORD)}.items():
        before = hasher.verified
        texts[case] = refusal(attempt(app, address, name, password))
        work[case] = hasher.verified - before
    assert len(set(texts.values())) == 1, texts
    assert "15" in texts["wrong password"]
    # one Argon2 verification wherever a password is looked at; none for a throttled address,
    # whatever the name
    assert work == {"wrong password": 1, "unknown user": 1, "locked account": 1,
                    "throttled address": 0}


def test_the_password_check_holds_no_write_lock(app, world, store, monkeypatch):
    """Argon2 takes tens of milliseconds on purpose: done inside the log-in's write transaction,
    a stream of log-ins would queue every other write behind it (SQLite has one writer).  The
    check below waits until another request has written; under the write lock it never could."""
    checking, wrote, waited = threading.Event(), threading.Event(), []

    class WaitingHasher(CountingHasher):
        def verify(self, hashed, password):
            checking.set()
            waited.append(wrote.wait(20))
            return super().verify(hashed, password)

    monkeypatch.setattr(accounts, "_hasher", WaitingHasher(accounts._hasher))
    result = {}
    logging_in = threading.Thread(target=lambda: result.setdefault(
        "r", attempt(app, OFFICE, "editor", PASSWORD)))
    logging_in.start()
    assert checking.wait(30)
    with store.transaction() as session:     # another request's write, during the check
        accounts.record(session, "test_write", "someone")
    wrote.set()
    logging_in.join(60)
    assert waited == [True] and result["r"].status_code == 303


# -- the admin's view ------------------------------------------------------------------------------


def admin_client(app, address: str = OFFICE) -> tuple[TestClient, str]:
    c = browser(app, address)
    return c, login(c, "admin")


def test_the_admin_sees_the_locks_and_lifts_them(app, world):
    admin, csrf = admin_client(app)
    lock_by_botnet(app, "editor")
    for _ in range(5):
        refusal(attempt(app, ATTACKER, "approver", "wrong-password-1"))
    page = admin.get("/app/admin")
    assert "Khoá đăng nhập" in page.text and ATTACKER in page.text
    locks = admin.get("/app/admin", headers=JSON).json()["locks"]
    [account] = locks["accounts"]
    assert account["username"] == "editor" and account["failures"] == 20 and account["locked_until"]
    throttled = {a["address"]: a for a in locks["addresses"]}
    assert set(throttled) == {ATTACKER, *BOTNET}
    assert throttled[ATTACKER]["failures"] == 5 and throttled[ATTACKER]["usernames"] == ["approver"]

    post = dict(headers={**JSON, "X-CSRF-Token": csrf})
    no_reason = admin.post("/app/admin/locks/account", data={"username": "editor", "reason": " "},
                           **post)
    assert no_reason.status_code == 422 and locked_until(world, "editor") is not None
    lifted = admin.post("/app/admin/locks/account",
                        data={"username": "editor", "reason": "Phone call from Đà Nẵng"}, **post)
    assert lifted.status_code == 200 and locked_until(world, "editor") is None
    assert attempt(app, HOTEL, "editor", PASSWORD).status_code == 303
    released = admin.post("/app/admin/locks/address",
                          data={"address": ATTACKER, "reason": "the office's own NAT"}, **post)
    assert released.status_code == 200
    assert attempt(app, ATTACKER, "approver", PASSWORD).status_code == 303

    assert [(k, n) for k, n, _ in events(world, kind="lock_lifted")] == [("lock_lifted", "editor")]
    assert [(k, a) for k, _, a in events(world, kind="address_released")] == [
        ("address_released", ATTACKER)]
    with world.store.reading() as session:
        audited = list(session.execute(select(AuditEntry.action, AuditEntry.username,
                                              AuditEntry.reason).where(
            AuditEntry.action.in_(("user.unlock", "address.release"))).order_by(AuditEntry.id)))
    assert [tuple(a) for a in audited] == [("user.unlock", "admin", "Phone call from Đà Nẵng"),
                                           ("address.release", "admin", "the office's own NAT")]
    remaining = admin.get("/app/admin", headers=JSON).json()["locks"]
    assert remaining["accounts"] == [] and ATTACKER not in {a["address"] for a in remaining["addresses"]}


def test_the_admin_page_lists_the_newest_hundred_refused_addresses(app, world, monkeypatch):
    """A botnet may leave thousands of addresses refused: the page stays small."""
    start = clock.now()
    with world.store.transaction() as session:
        for n in range(105):
            monkeypatch.setattr(clock, "source", lambda n=n: start + timedelta(seconds=n))
            accounts.record(session, "address_throttled", "admin", address=f"100.64.1.{n}")
    monkeypatch.setattr(clock, "source", lambda: start + timedelta(minutes=1))
    admin, _ = admin_client(app)
    locks = admin.get("/app/admin", headers=JSON).json()["locks"]
    assert [a["address"] for a in locks["addresses"]] == [f"100.64.1.{n}" for n in range(104, 4, -1)]
    assert locks["addresses_not_shown"] == 5
    assert "và 5 địa chỉ khác" in admin.get("/app/admin").text


def test_no_one_but_the_admin_sees_or_lifts_a_lock(app, world):
    lock_by_botnet(app, "editor")
    until, written = locked_until(world, "editor"), event_count(world)
    for name in ("reviewer", "approver"):
        c = browser(app, OFFICE)
        csrf = login(c, name)
        headers = {**JSON, "X-CSRF-Token": csrf}
        assert c.get("/app/admin", headers=JSON).status_code == 403
        for path, data in (("/app/admin/locks/account", {"username": "editor", "reason": "x"}),
                           ("/app/admin/locks/address", {"address": BOTNET[0], "reason": "x"})):
            assert c.post(path, data=data, headers=headers).status_code == 403
    admin, _ = admin_client(app)
    forged = admin.post("/app/admin/locks/account", data={"username": "editor", "reason": "x"},
                        headers=JSON)
    assert forged.status_code == 403                                  # no CSRF token
    assert locked_until(world, "editor") == until
    kinds = {k for k, _, _ in events(world)}
    assert not kinds & {"lock_lifted", "address_released"}
    assert event_count(world) == written + 3    # only the three log-ins above
    with world.store.reading() as session:
        assert not session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action.in_(("user.unlock", "address.release"))))


# -- behind a reverse proxy ------------------------------------------------------------------------


def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(app, world, store):
    proxy = "10.0.0.5"
    for n in range(5):   # a client rotating the header is still one address
        refusal(attempt(app, ATTACKER, "editor", "wrong-password-1",
                        {"X-Forwarded-For": f"192.0.2.{n}"}))
    assert {a for _, _, a in events(world, kind="login_failed")} == {ATTACKER}
    refusal(attempt(app, ATTACKER, "editor", PASSWORD, {"X-Forwarded-For": "192.0.2.200"}))

    trusting = create_app(Settings(trusted_proxies=(proxy, "10.1.0.0/16")), store=store)
    spoofed = {"X-Forwarded-For": f"{OFFICE}, {HOTEL}"}   # the client wrote OFFICE; the proxy HOTEL
    for _ in range(5):
        refusal(attempt(trusting, proxy, "approver", "wrong-password-1", spoofed))
    assert [a for k, _, a in events(world, kind="address_throttled")] == [ATTACKER, HOTEL]
    refusal(attempt(trusting, proxy, "approver", PASSWORD, {"X-Forwarded-For": HOTEL}))
    # two proxies in a row (both trusted): the client is the first address neither added
    chained = {"X-Forwarded-For": f"{OFFICE}, 10.1.2.3"}
    assert attempt(trusting, proxy, "approver", PASSWORD, chained).status_code == 303
    assert events(world, kind="login_ok")[-1][2] == OFFICE


def test_a_bad_trusted_proxy_setting_is_refused_at_start():
    assert Settings.from_env({"DTI_TRUSTED_PROXIES": "10.0.0.5, 10.1.0.0/16"}).trusted_proxies == (
        "10.0.0.5", "10.1.0.0/16")
    with pytest.raises(DtiError, match="DTI_TRUSTED_PROXIES.*'proxy.local'"):
        Settings.from_env({"DTI_TRUSTED_PROXIES": "proxy.local"})


# -- the event loop ------------------------------------------------------------------------------


def test_creating_an_edition_does_not_hold_up_other_requests(world, monkeypatch):
    """The edition's store work runs in a worker thread: while it is under way the server still
    answers.  The store call waits until another request has been answered — were it on the event
    loop, that request would not be served and the wait would run out."""
    from dti.web.assessment import admin as admin_routes

    started, answered, real = threading.Event(), threading.Event(), admin_routes.edition_setup.create_edition
    waited = []

    def slow_create(*args, **kwargs):
        started.set()
        waited.append(answered.wait(20))
        return real(*args, **kwargs)

    monkeypatch.setattr(admin_routes.edition_setup, "create_edition", slow_create)
    app = create_app(Settings(), store=world.store)
    with serving(app) as base, httpx.Client(base_url=base, timeout=60) as admin:
        csrf = login(admin, "admin")
        result = {}
        creating = threading.Thread(target=lambda: result.setdefault("r", admin.post(
            "/app/admin/editions/new", headers={**JSON, "X-CSRF-Token": csrf},
            data={"code": "dti-2023", "year": "2023", "name_vi": "Kỳ 2023"})))
        creating.start()
        assert started.wait(30)
        with httpx.Client(base_url=base, timeout=60) as other:
            if other.get("/app/lang/en", follow_redirects=False).status_code == 303:
                answered.set()
        creating.join(60)
    assert waited == [True], "the server answered nothing while an edition was being created"
    assert result["r"].status_code == 201
    with world.store.reading() as session:
        assert session.scalar(select(EditionRow.code).where(EditionRow.code == "dti-2023"))
