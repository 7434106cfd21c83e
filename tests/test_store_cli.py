"""The store's commands through the real ``dti`` entry point: ``dti db``, ``dti demo``,
``dti backup`` / ``dti restore``, ``dti user add`` — on SQLite and PostgreSQL — and ``dti serve``
migrating a fresh database and serving the assessment app."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from assessment_support import fresh_store

from dti.cli import main
from dti.cli.app import app
from dti.services import demo
from dti.store import migrate
from dti.store.accounts import authenticate
from dti.store.db import Store
from dti.store.models import Assessment, User

ROOT = Path(__file__).parents[1]


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_db_upgrade_current_and_downgrade(store, capsys):
    url = store.url
    code, out, _ = run(capsys, "db", "current", "--database-url", url)
    assert (code, out.strip()) == (0, f"{migrate.head()} (up to date)")
    code, out, _ = run(capsys, "db", "downgrade", "base", "--yes", "--database-url", url)
    assert code == 0 and out.strip().endswith("schema at revision base")
    code, out, _ = run(capsys, "db", "current", "--database-url", url)
    assert out.startswith("base (empty) (behind: run `dti db upgrade`")
    code, out, _ = run(capsys, "db", "upgrade", "--database-url", url)
    assert code == 0 and out.strip().endswith(f"schema at revision {migrate.head()}")
    assert "dti:dti@" not in out                       # the password is not printed
    assert migrate.is_current(store.engine)


def test_db_downgrade_asks_first(tmp_path):
    store = fresh_store("sqlite", tmp_path)
    try:
        result = CliRunner().invoke(app, ["db", "downgrade", "base", "--database-url", store.url],
                                    input="n\n")
        assert result.exit_code == 1 and "Continue?" in result.output
        assert migrate.is_current(store.engine)
    finally:
        store.close()


def test_demo_prints_the_logins_and_runs_once(store, capsys, tmp_path):
    args = ("demo", "--database-url", store.url, "--evidence-dir", str(tmp_path / "ev"))
    code, first, _ = run(capsys, *args)
    assert code == 0
    for login in demo._logins():
        assert login.username in first
    assert demo.PASSWORD in first and "48 Đà Nẵng" in first and "province_approver" in first
    assert "simulated" in first and "illustrative" in first and "mô phỏng" in first
    assert "http://127.0.0.1:8000/app/" in first
    code, second, _ = run(capsys, *args)
    assert code == 0 and "nothing was created" in second
    assert [line for line in second.splitlines() if "demo-dti" in line] == \
        [line for line in first.splitlines() if "demo-dti" in line]
    assert "BTC Bộ Tài chính" in first and demo.MINISTRY_EDITION in first
    with store.reading() as session:
        assert session.scalar(select(func.count()).select_from(Assessment)) == 63 + 17   # + bodies
        assert session.scalar(select(func.count()).select_from(User)
                              .where(User.active)) == len(demo._logins())   # + inactive officials


def test_backup_and_restore_commands(store, capsys, tmp_path):
    _add_user(capsys, store.url, "lan.nguyen", "province_editor", "48")
    archive = tmp_path / "dti.tar.gz"
    code, out, _ = run(capsys, "backup", str(archive), "--database-url", store.url,
                       "--evidence-dir", str(store.evidence_dir))
    assert code == 0 and out.startswith(f"wrote {archive}: revision {migrate.head()}, ")
    target = tmp_path / "restored.db"
    url = f"sqlite:///{target}"
    code, out, _ = run(capsys, "restore", str(archive), "--database-url", url,
                       "--evidence-dir", str(tmp_path / "ev2"))
    assert code == 0 and out.startswith(f"restored {archive}")
    restored = Store.open(url, tmp_path / "ev2")
    try:
        with restored.transaction() as session:
            assert authenticate(session, "lan.nguyen", "mật-khẩu-dài").role == "province_editor"
    finally:
        restored.close()
    code, _, err = run(capsys, "restore", str(archive), "--database-url", url)
    assert code == 1 and err.startswith("error: the database already holds data")
    assert len(err.strip().splitlines()) == 1
    code, _, _ = run(capsys, "restore", str(archive), "--replace", "--database-url", url)
    assert code == 0
    code, _, err = run(capsys, "restore", str(tmp_path / "missing.tar.gz"), "--database-url", url)
    assert code == 2 and "does not exist" in err


def _add_user(capsys, url: str, username: str, role: str, province: str | None) -> None:
    stdin = sys.stdin
    sys.stdin = io.StringIO("mật-khẩu-dài\n")
    try:
        args = ["user", "add", username, "--role", role, "--password-stdin", "--database-url", url]
        code, out, err = run(capsys, *args, *(["--province", province] if province else []))
    finally:
        sys.stdin = stdin
    assert code == 0, err
    assert out.startswith(f"created user {username} ")


def test_user_add_reads_the_password_never_from_an_option(store, capsys):
    from dti.cli.store import user_add_command

    assert not any(o == "--password" for p in user_add_command.params for o in p.opts)
    result = CliRunner().invoke(app, ["user", "add", "hoa.tran", "--role", "reviewer",
                                      "--database-url", store.url], input="mot-mat-khau\nmot-mat-khau\n")
    assert result.exit_code == 0, result.output
    assert "mot-mat-khau" not in result.output
    with store.transaction() as session:
        assert authenticate(session, "hoa.tran", "mot-mat-khau").role == "reviewer"
    # a ministry's editor: the unit is the body's code
    result = CliRunner().invoke(app, ["user", "add", "minh.tran", "--role", "province_editor", "--unit",
                                      "NHNN", "--database-url", store.url], input="mot-mat-khau\nmot-mat-khau\n")
    assert result.exit_code == 0, result.output
    with store.transaction() as session:
        assert authenticate(session, "minh.tran", "mot-mat-khau").province_code == "NHNN"
    sys_stdin = sys.stdin
    for args, message in ((["ngan", "--role", "admin"], "at least 8 characters"),
                          (["tinh", "--role", "province_editor"], "need their unit"),
                          (["tinh", "--role", "province_editor", "--province", "999"], "unknown unit code"),
                          (["bo", "--role", "province_editor", "--unit", "XYZ"], "unknown unit code"),
                          (["hoa.tran", "--role", "reviewer"], "is taken")):
        sys.stdin = io.StringIO("ngan\n" if args[0] == "ngan" else "du-dai-roi\n")
        try:
            code, _, err = run(capsys, "user", "add", *args, "--password-stdin", "--database-url", store.url)
        finally:
            sys.stdin = sys_stdin
        assert code == 1 and message in err and len(err.strip().splitlines()) == 1, err


# `dti serve` as it is, except that uvicorn listens on a socket the test has already bound (its
# fd is the first argument): no port is chosen and then raced for.  The test's socket is not yet
# listening and allows address reuse, so the command's own check that the address can be bound
# still runs and passes.
SERVE = """
import socket, sys
import uvicorn
from dti.cli.main import main

listening = socket.socket(fileno=int(sys.argv[1]))


def run(app, *, host, port, **options):
    uvicorn.Server(uvicorn.Config(app, **options)).run(sockets=[listening])


uvicorn.run = run
sys.exit(main(sys.argv[2:]))
"""


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _serve(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "DTI_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}",
           "DTI_EVIDENCE_DIR": str(tmp_path / "evidence")}
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        process = subprocess.Popen([sys.executable, "-c", SERVE, str(sock.fileno()), "serve",
                                    "--port", str(port), *extra], cwd=tmp_path, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   pass_fds=[sock.fileno()])
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"dti serve exited: {process.stderr.read().decode()}")
        try:
            _get(base + "/")
            return process, base
        except OSError:
            time.sleep(0.2)
    process.kill()
    pytest.fail("dti serve did not start within 60 s")


def test_serve_creates_the_schema_and_serves_the_app(tmp_path):
    process, base = _serve(tmp_path)
    try:
        assert _get(base + "/app/login") == 200
        assert _get(base + "/") == 200
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert "Assessment app: http://127.0.0.1:" in process.stderr.read().decode()
    store = Store.open(f"sqlite:///{tmp_path / 'fresh.db'}", tmp_path / "evidence")
    try:
        assert migrate.is_current(store.engine)
    finally:
        store.close()
    (tmp_path / "portal-only").mkdir()
    process, base = _serve(tmp_path / "portal-only", "--no-app")
    try:
        assert _get(base + "/app/login") == 404 and _get(base + "/") == 200
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert not (tmp_path / "portal-only" / "fresh.db").exists()


def test_every_store_command_is_documented():
    docs = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for command in ("dti db upgrade", "dti db downgrade", "dti db current", "dti demo", "dti backup",
                    "dti restore", "dti user add"):
        assert command in docs
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "dti demo" in readme and demo.PASSWORD in readme and "/app/" in readme


def test_serve_keeps_malloc_arenas_few_unless_the_deployment_says_otherwise(monkeypatch):
    from dti.cli import web

    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    web.fewer_malloc_arenas()
    assert os.environ["MALLOC_ARENA_MAX"] == "2"
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    web.fewer_malloc_arenas()
    assert os.environ["MALLOC_ARENA_MAX"] == "8"
