"""Building blocks for store and assessment-app tests: a fresh store, users for every role, an
edition with the illustrative catalogue, a logged-in HTTP client."""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from sqlalchemy import text

from dti.scoring import illustrative_catalogue
from dti.services.edition_setup import create_edition
from dti.store import migrate
from dti.store.accounts import Actor, create_user
from dti.store.db import Store

EDITION = "dti-test-2022"
PASSWORD = "correct-horse-9"
OWN, OTHER = "48", "01"          # Đà Nẵng, Hà Nội
USERS = {  # username: (role, province)
    "admin": ("admin", None),
    "reviewer": ("reviewer", None),
    "reviewer2": ("reviewer", None),
    "editor": ("province_editor", OWN),
    "approver": ("province_approver", OWN),
    "other_editor": ("province_editor", OTHER),
    "other_approver": ("province_approver", OTHER),
}


def fresh_store(backend: str, tmp_path: Path) -> Store:
    if backend == "sqlite":
        store = Store.open(f"sqlite:///{tmp_path / 'dti.db'}", tmp_path / "evidence")
    else:
        store = Store.open(os.environ["DTI_TEST_DATABASE_URL"], tmp_path / "evidence")
        with store.engine.begin() as connection:   # a clean schema for every test
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    migrate.upgrade(store.engine)
    return store


@dataclass
class World:
    store: Store
    actors: dict[str, Actor]


def populate(store: Store, edition: str = EDITION) -> World:
    """One user per role (two provinces), and an open edition with the illustrative catalogue."""
    actors = {}
    with store.transaction() as session:
        for name, (role, province) in USERS.items():
            actors[name] = Actor.of(create_user(session, name, PASSWORD, role, province, name.title()))
        create_edition(session, actors["admin"], illustrative_catalogue(), edition, 2022,
                       "Kỳ thử nghiệm 2022", "Test edition 2022")
    return World(store, actors)


MINISTRY_EDITION = "dti-bo-test-2025"
OWN_BODY, OTHER_BODY = "BTC", "NHNN"   # Bộ Tài chính, Ngân hàng Nhà nước Việt Nam
BODY_USERS = {"bo_editor": ("province_editor", OWN_BODY), "bo_approver": ("province_approver", OWN_BODY),
              "bo_other_editor": ("province_editor", OTHER_BODY)}


def populate_ministries(world: World, edition: str = MINISTRY_EDITION) -> World:
    """Users of two bodies and an open ministry edition on the illustrative ministry method,
    beside what :func:`populate` made."""
    from dti.scoring import illustrative_ministry_catalogue

    with world.store.transaction() as session:
        for name, (role, unit) in BODY_USERS.items():
            world.actors[name] = Actor.of(create_user(session, name, PASSWORD, role, unit, name.title()))
        create_edition(session, world.actors["admin"], illustrative_ministry_catalogue(), edition, 2025,
                       "Kỳ thử nghiệm cấp bộ 2025", "Ministry test edition 2025", "bo-minh-hoa")
    return world


def signed_in(app, username: str, password: str = PASSWORD):
    """A test client of ``app`` logged in as ``username``, and the session's CSRF token."""
    from fastapi.testclient import TestClient

    c = TestClient(app)
    return c, login(c, username, password)


def login(client, username: str, password: str = PASSWORD) -> str:
    """Log ``client`` in through the real form; returns the session's CSRF token."""
    page = client.get("/app/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    response = client.post("/app/login", data={"username": username, "password": password,
                                                "csrf": token, "next": "/app/"},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    home = client.get("/app/lang/vi", follow_redirects=True)
    match = re.search(r'name="csrf-token" content="([^"]*)"', home.text)
    return match.group(1) if match else ""


@contextmanager
def serving(app) -> Iterator[str]:
    """``app`` under uvicorn in a background thread on a free loopback port: its base URL."""
    import socket
    import threading
    import time

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def pdf(note: str = "minh chứng thử nghiệm") -> bytes:
    """A real one-page PDF (it opens in pypdf and in a viewer), ``note`` in its metadata so that
    different notes give different files."""
    title = note.encode("utf-16-be").hex().upper()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Resources << >> >>",
               b"<< /Title <FEFF" + title.encode() + b"> >>"]
    out, offsets = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % at for at in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


PDF = pdf()
