"""Commands of the assessment store: ``dti db upgrade|downgrade|current``, ``dti demo``,
``dti backup``, ``dti restore``, ``dti audit verify`` and ``dti user add``.

Each opens the store named by ``--database-url`` (default ``$DTI_DATABASE_URL`` or the SQLite file
``var/dti.db``) and calls one library function; the library's errors become one line at the edge
(:mod:`dti.cli.main`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.table import Table

from dti.cli.app import app, console
from dti.errors import Conflict, InputError, Problem

DATABASE = click.option("--database-url", default=None,
                        help="the store (default: $DTI_DATABASE_URL or sqlite:///var/dti.db)")
EVIDENCE = click.option("--evidence-dir", type=click.Path(path_type=Path), default=None,
                        help="folder of the evidence files (default: $DTI_EVIDENCE_DIR or var/evidence)")


def open_store(database_url: str | None, evidence_dir: Path | None = None):
    from dti.store.db import Store

    return Store.open(database_url, evidence_dir)


def _shown(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.group("db")
def db_app() -> None:
    """Create or change the schema of the assessment store (Alembic migrations)."""


@db_app.command("upgrade")
@DATABASE
@click.option("--revision", default="head", show_default=True, help="the revision to reach")
def db_upgrade_command(database_url: str | None, revision: str) -> None:
    """Bring the database's schema up to the newest revision (creates it when empty)."""
    from dti.store import migrate

    store = open_store(database_url)
    try:
        migrate.upgrade(store.engine, revision)
        click.echo(f"{_shown(store.url)}: schema at revision {migrate.current(store.engine)}")
    finally:
        store.close()


@db_app.command("downgrade")
@click.argument("revision")
@DATABASE
@click.confirmation_option("--yes", prompt="This drops the tables the later revisions made, with their "
                           "data. Continue?", help="do not ask for confirmation")
def db_downgrade_command(revision: str, database_url: str | None) -> None:
    """Take the schema back to REVISION (`base` drops every table and all data)."""
    from dti.store import migrate

    store = open_store(database_url)
    try:
        migrate.downgrade(store.engine, revision)
        click.echo(f"{_shown(store.url)}: schema at revision {migrate.current(store.engine) or 'base'}")
    finally:
        store.close()


@db_app.command("current")
@DATABASE
def db_current_command(database_url: str | None) -> None:
    """Print the database's schema revision and whether it is the newest."""
    from dti.store import migrate

    store = open_store(database_url)
    try:
        current, head = migrate.current(store.engine), migrate.head()
        state = "up to date" if current == head else f"behind: run `dti db upgrade` to reach {head}"
        click.echo(f"{current or 'base (empty)'} ({state})")
    finally:
        store.close()


@app.command("demo")
@DATABASE
@EVIDENCE
def demo_command(database_url: str | None, evidence_dir: Path | None) -> None:
    """Create the illustrative edition with simulated answers for 63 provinces and one demo user
    per role (once), then print the demo log-ins."""
    from dti.services import demo
    from dti.store import migrate
    from dti.units import load_unit_set
    from dti.units.bodies import body

    store = open_store(database_url, evidence_dir)
    try:
        migrate.upgrade(store.engine)
        with store.reading() as session:
            existed = _has_demo(session, demo.EDITION)
        logins = demo.seed(store)
        with store.reading() as session:
            older = not _has_demo(session, demo.MINISTRY_EDITION)
    finally:
        store.close()
    names = {u.code: u.name_vi for u in load_unit_set("provinces-63").units} | {
        code: body(code).name_vi for code in demo.DEMO_BODIES}
    table = Table(title=f"Demo log-ins — {demo.EDITION}, {demo.MINISTRY_EDITION}")
    for column in ("user name", "password", "role", "unit"):
        table.add_column(column, no_wrap=True)
    for login in logins:
        province = f"{login.province} {names.get(login.province, '')}" if login.province else "—"
        table.add_row(login.username, login.password, login.role, province)
    console.print(table)
    console.print("Dữ liệu mô phỏng: các câu trả lời là số liệu mô phỏng, bộ chỉ số thành phần chỉ "
                  "mang tính minh hoạ. / The answers are simulated and the catalogue is illustrative.")
    console.print("the demo already existed: nothing was created" if existed else
                  "created the demo editions (63 provinces, 17 ministries and government bodies, "
                  "simulated) and the demo users")
    if older:
        console.print(f"this demo was made before the ministry level: {demo.MINISTRY_EDITION} is "
                      "missing (make the demo again in a new database to have it)")
    console.print("Log in at /app/ of `dti serve` (http://127.0.0.1:8000/app/ by default).")


def _has_demo(session, code: str) -> bool:
    from dti.errors import NotFound
    from dti.store import edition_rows

    try:
        edition_rows.get(session, code)
    except NotFound:
        return False
    return True


@app.command("backup")
@click.argument("file", type=click.Path(path_type=Path))
@DATABASE
@EVIDENCE
def backup_command(file: Path, database_url: str | None, evidence_dir: Path | None) -> None:
    """Write one archive (.tar.gz) with a consistent copy of the database and the evidence files."""
    from dti.store.backup import backup

    store = open_store(database_url, evidence_dir)
    try:
        report = backup(store, file)
    finally:
        store.close()
    click.echo(f"wrote {report.path}: revision {report.revision}, {sum(report.rows.values()):,} rows "
               f"in {len(report.rows)} tables, {report.evidence_files:,} evidence files "
               f"({report.evidence_bytes:,} bytes)")


@app.command("restore")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--replace", is_flag=True, help="drop everything in a non-empty database first")
@DATABASE
@EVIDENCE
def restore_command(file: Path, replace: bool, database_url: str | None,
                    evidence_dir: Path | None) -> None:
    """Load a `dti backup` archive into an empty database (checksums and schema revision checked
    before anything changes)."""
    from dti.store.backup import restore

    store = open_store(database_url, evidence_dir)
    try:
        manifest = restore(store, file, replace=replace)
    finally:
        store.close()
    rows = manifest["rows"]
    files = sum(1 for name in manifest["members"] if name.startswith("evidence/"))
    click.echo(f"restored {file} ({manifest['created_at']}, from {manifest['source']}) into "
               f"{_shown(store.url)}: {sum(rows.values()):,} rows, {files:,} evidence files")


@app.group("audit")
def audit_app() -> None:
    """The audit trail of the assessment store."""


@audit_app.command("verify")
@DATABASE
@click.option("--head", "expected_head", default=None, metavar="HASH",
              help="a head printed by an earlier verification: it must still be in the trail")
def audit_verify_command(database_url: str | None, expected_head: str | None) -> None:
    """Recompute the audit trail's hash chain line by line; name the first line that breaks it."""
    from dti.store import migrate
    from dti.store.audit_chain import drain, verify_chain

    store = open_store(database_url)
    try:
        if not migrate.is_current(store.engine):
            current = migrate.current(store.engine) or "base"
            raise Conflict(f"the database's schema is at revision {current}, not "
                           f"{migrate.head()}: run `dti db upgrade` first")
        drain(store.engine)          # lines the server queued: into the chain, then checked
        with store.reading() as session:
            report = verify_chain(session, expected_head)
    finally:
        store.close()
    if report.broken is not None:
        raise InputError([Problem("audit.chain_broken", f"{report.broken} (the {report.lines:,} "
                                  "lines before it are intact)")])
    click.echo(f"audit trail intact: {report.lines:,} lines, head {report.head}")


@app.group("user")
def user_app() -> None:
    """Accounts of the assessment app."""


@user_app.command("add")
@click.argument("username")
@click.option("--role", required=True,
              type=click.Choice(["admin", "reviewer", "province_editor", "province_approver"]),
              help="what the user may do")
@click.option("--province", "--unit", "province", default=None,
              help="the user's unit, for province_editor and province_approver: a province code "
              "(48) or a ministry or government body's code (BTC)")
@click.option("--name", "display_name", default="", help="the name shown in the app")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input "
              "(first line) instead of asking for it")
@DATABASE
def user_add_command(username: str, role: str, province: str | None, display_name: str,
                     password_stdin: bool, database_url: str | None) -> None:
    """Create a user; the password is asked for (or read from standard input), never an option."""
    from dti.store import audit, migrate
    from dti.store.accounts import Actor, unit_codes, create_user
    from dti.workflow import Role

    if province is not None and province not in unit_codes():
        raise Conflict(f"unknown unit code {province!r}: a province code as in the unit sets (48) "
                       "or a ministry or government body's code (BTC; dti unit NAME finds it)")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    store = open_store(database_url)
    try:
        migrate.upgrade(store.engine)
        with store.transaction() as session:
            user = create_user(session, username, password, role, province, display_name)
            audit.write(session, Actor(None, "dti-cli", Role.ADMIN), "user.create",
                        province=province, after={"username": username, "role": role})
            user_id = user.id
    finally:
        store.close()
    click.echo(f"created user {username} (id {user_id}, {role}{', province ' + province if province else ''})")
