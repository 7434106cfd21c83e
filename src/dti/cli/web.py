"""``dti serve`` (the public portal and the assessment app) and ``dti export-site`` (the portal as
static files)."""

from __future__ import annotations

import errno
import os
import socket
from dataclasses import replace
from pathlib import Path

import click

from dti.cli.app import app
from dti.errors import InputError, Problem
from dti.web.settings import Settings


# Set by ``dti serve --no-app`` for its worker processes, which build their app from the environment.
PORTAL_ONLY = "DTI_SERVE_PORTAL_ONLY"


def fewer_malloc_arenas() -> None:
    """glibc gives threads that allocate their own malloc arenas (up to eight per core); the
    server's request, render and packing threads then keep hundreds of MB they no longer use.
    Two arenas keep a worker near what it uses (benchmarks/load.py: peak 1.08 GB → 0.67 GB with
    two workers).  Set for this process and, through the environment, for the workers it starts;
    a value the deployment already gives is kept."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return
    os.environ["MALLOC_ARENA_MAX"] = "2"
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(-8, 2)   # M_ARENA_MAX, for the running process
    except (OSError, AttributeError):              # not glibc: the allocator's own defaults
        pass


def app_from_env():
    """The app factory the ``--workers`` processes import: settings from ``DTI_*`` variables."""
    from dti.web.app import create_app

    settings = Settings.from_env()
    if os.environ.get(PORTAL_ONLY):
        settings = replace(settings, database_url=None)
    return create_app(settings)


def _prepare_store(settings: Settings) -> None:
    """Create or upgrade the store's schema before serving, so a fresh machine just works."""
    from dti.store import migrate
    from dti.store.db import Store

    store = Store.open(settings.database_url, settings.evidence_dir)
    try:
        migrate.upgrade(store.engine)
    finally:
        store.close()


def _check_address(host: str, port: int) -> None:
    """Fail with one line, before uvicorn's log and traceback, when the address cannot be bound."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = ("the port is already in use; stop the other server or give --port"
                      if exc.errno == errno.EADDRINUSE else
                      f"cannot listen there ({exc.strerror or exc}); check --host")
            raise InputError([Problem("serve.address_unavailable",
                                      f"{host}:{port}: {reason}")]) from None


@app.command("serve")
@click.option("--host", default=None, help="address to listen on (default: $DTI_HOST or 127.0.0.1)")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="port (default: $DTI_PORT or 8000)")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="worker processes")
@click.option("--no-app", is_flag=True,
              help="serve the public portal alone, without the assessment app and its database")
def serve_command(host: str | None, port: int | None, workers: int, no_app: bool) -> None:
    """Serve the public results portal and the assessment app (/app/) with uvicorn."""
    import uvicorn

    fewer_malloc_arenas()
    settings = Settings.from_env()
    host = host or settings.host
    port = settings.port if port is None else port
    settings = replace(settings, host=host, port=port,
                       database_url=None if no_app else settings.database_url)
    _check_address(host, port)
    if settings.database_url:
        _prepare_store(settings)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"DTI portal: http://{shown}:{port}/  (Ctrl+C to stop)", err=True)
    if settings.database_url:
        click.echo(f"Assessment app: http://{shown}:{port}/app/", err=True)
    if workers == 1:
        from dti.web.app import create_app

        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
        return
    os.environ.update(DTI_HOST=host, DTI_PORT=str(port))
    if no_app:
        os.environ[PORTAL_ONLY] = "1"
    uvicorn.run("dti.cli.web:app_from_env", factory=True, host=host, port=port, workers=workers,
                log_level="warning")


def _size(n: int) -> str:
    for unit, scale in (("MB", 1_000_000), ("KB", 1_000)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n:,} B"


@app.command("export-site")
@click.option("--edition", "-e", default="",
              help="the portal as published with this edition (it and the editions before it); "
                   "default: the latest")
@click.option("--all", "every", is_flag=True, help="every published edition")
@click.option("--out", "-o", type=click.Path(path_type=Path), required=True,
              help="folder to write (new or empty; see --force)")
@click.option("--force", is_flag=True, help="replace a non-empty --out folder")
@click.option("--database-url", envvar="DTI_DATABASE_URL", default=None,
              help="the assessment store: its published editions are exported too "
                   "(default: DTI_DATABASE_URL; none: the shipped editions only)")
def export_site_command(edition: str, every: bool, out: Path, force: bool,
                        database_url: str | None) -> None:
    """Write the public portal as static files that work from any web server."""
    from dti.web.export import KIND_LABELS, KINDS, export_site

    if edition and every:
        raise InputError([Problem("export.editions_conflict", "give --edition or --all, not both")])
    report = export_site(out, edition or None, every, force, database_url)
    click.echo(f"wrote {out}: {report.total_files:,} files, {_size(report.total_bytes)} "
               f"({', '.join(report.editions)})")
    for kind in KINDS:
        click.echo(f"  {KIND_LABELS[kind]:<14} {report.files[kind]:>6,}  {_size(report.bytes[kind]):>10}")
    for page, link, status in report.broken[:20]:
        click.echo(f"warning: {page} links to {link}, which answers {status}; not exported", err=True)
    if len(report.broken) > 20:
        click.echo(f"warning: and {len(report.broken) - 20} more links that answer an error", err=True)
