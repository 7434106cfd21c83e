"""Opening the store: one engine per database URL, sessions, and the evidence folder.

SQLite by default (one file under ``var/``, WAL journal, foreign keys on, a busy timeout so two
writers wait instead of failing); PostgreSQL when ``DTI_DATABASE_URL`` names one
(``postgresql+psycopg://user@host/db``).  Every write goes through :meth:`Store.transaction`: it
commits as a whole or not at all.
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Iterator, Mapping

try:
    import fcntl
except ImportError:          # Windows: writers of one process still queue; others poll
    fcntl = None

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from dti.errors import DtiError
from dti.store.audit_chain import SEALER, Sealer

DEFAULT_URL = "sqlite:///var/dti.db"
DEFAULT_EVIDENCE = "var/evidence"
SQLITE_BUSY_MS = 30_000


def database_url(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return env.get("DTI_DATABASE_URL") or DEFAULT_URL


def make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # The driver's own transaction handling is switched off (isolation_level=None) so that
        # the engine says BEGIN itself: every transaction, reads included, is a real one, and a
        # write transaction takes the write lock at its start (BEGIN IMMEDIATE) — otherwise two
        # transactions that read then write fail with "database is locked" instead of waiting.
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000,
                                                  "check_same_thread": False,
                                                  "isolation_level": None})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    size, overflow = pool_sizes()
    engine = create_engine(url, pool_size=size, max_overflow=overflow, pool_timeout=POOL_TIMEOUT_S)
    event.listen(engine, "checkin", _returned)
    event.listen(engine, "checkout", partial(_ping_if_idle, engine.dialect))
    return engine


# A PostgreSQL connection is pinged on checkout only when it has been idle this long: a ping on
# every checkout (pool_pre_ping) was one round trip in seven of a save under load.  A connection
# in use every few seconds is alive; one idle longer (the server may have restarted, a firewall
# dropped it) is pinged, and a dead one is replaced before the request sees it.  A server that
# restarts while the pool is busy fails the statements then in flight; SQLAlchemy then recycles
# the whole pool, so the next requests connect afresh.
IDLE_PING_S = 10.0


def _returned(_dbapi_connection, record) -> None:
    record.info["returned_at"] = time.monotonic()


def _ping_if_idle(dialect, dbapi_connection, record, _proxy) -> None:
    returned = record.info.get("returned_at")
    if returned is None or time.monotonic() - returned < IDLE_PING_S:
        return
    try:
        alive = dialect.do_ping(dbapi_connection)
    except Exception as exc:   # the driver's error for a dead connection
        raise DisconnectionError(str(exc)) from exc
    if not alive:
        raise DisconnectionError("the connection did not answer a ping")


# PostgreSQL connections per process.  A request holds one only for its transaction (a save is a
# few milliseconds), so 10 kept open and up to 20 more at a burst serve a worker's 40 request
# threads; `dti serve --workers N` opens at most N × (size + overflow), which with the defaults and
# 2 workers (60) stays below PostgreSQL's default max_connections of 100, with room for the CLI.
POOL_SIZE, POOL_OVERFLOW, POOL_TIMEOUT_S = 10, 20, 30


def pool_sizes(env: Mapping[str, str] | None = None) -> tuple[int, int]:
    """(pool size, overflow) from ``DTI_DB_POOL_SIZE`` / ``DTI_DB_POOL_OVERFLOW``, or the defaults."""
    env = os.environ if env is None else env
    out = []
    for name, default, low in (("DTI_DB_POOL_SIZE", POOL_SIZE, 1),
                               ("DTI_DB_POOL_OVERFLOW", POOL_OVERFLOW, 0)):
        raw = env.get(name, "").strip()
        if not raw:
            out.append(default)
            continue
        if not raw.isdigit() or not low <= int(raw) <= 1000:
            raise DtiError(f"{name}={raw!r}: give a whole number from {low} to 1000 "
                           f"(default {default})")
        out.append(int(raw))
    return out[0], out[1]


def _sqlite_begin(connection) -> None:
    immediate = connection.get_execution_options().get("sqlite_immediate", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class WriterQueue:
    """SQLite's writers wait their turn here instead of polling the database file.

    SQLite lets one writer in at a time, and a writer that finds the file locked sleeps and
    retries (its busy handler), up to 100 ms a sleep: under many savers that polling, not the
    saves, was most of the time a save took.  Threads of this process queue on a lock; processes
    (the server's workers, a ``dti`` command) on an exclusive ``flock`` of a file beside the
    database, which blocks in the kernel and wakes the next writer when the lock is let go.  A
    transaction inside a transaction of the same thread does not take the file lock again."""

    def __init__(self, path: Path | None = None) -> None:
        self._lock = threading.RLock()
        self._depth = 0
        self._path = path
        self._fd: int | None = None

    def __enter__(self) -> "WriterQueue":
        self._lock.acquire()
        self._depth += 1
        if self._depth == 1:
            try:
                fd = self._file()
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX)
            except BaseException:
                self._depth -= 1
                self._lock.release()
                raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        try:
            if self._depth == 0 and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._lock.release()

    def _file(self) -> int | None:
        """The lock file, opened once per process; None where there is no file or no flock."""
        if self._fd is None and self._path is not None and fcntl is not None:
            try:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:      # a read-only folder: the lock of this process only
                self._path = None
        return self._fd


def _lock_path(url: str) -> Path | None:
    path = url.split("///", 1)[-1] if url.startswith("sqlite") else ""
    return Path(path + ".writers") if path and path != ":memory:" else None


@dataclass
class Store:
    """The database and the evidence folder, opened once per process (``create_app``, the CLI)."""

    url: str
    evidence_dir: Path
    engine: Engine
    sessions: sessionmaker
    _writer: WriterQueue = field(default_factory=WriterQueue, repr=False)
    sealer: Sealer | None = None

    @classmethod
    def open(cls, url: str | None = None, evidence_dir: str | Path | None = None,
             seal_later: bool = False) -> "Store":
        """``seal_later`` (the server): on PostgreSQL, audit lines are queued by the request
        and sealed into the chain by a thread of this process (dti.store.audit_chain)."""
        url = url or database_url()
        evidence = Path(evidence_dir or os.environ.get("DTI_EVIDENCE_DIR") or DEFAULT_EVIDENCE)
        engine = make_engine(url)
        sealer = Sealer(engine) if seal_later and engine.dialect.name == "postgresql" else None
        info = {SEALER: sealer} if sealer else {}
        return cls(url, evidence, engine, sessionmaker(engine, expire_on_commit=False, info=info),
                   _writer=WriterQueue(_lock_path(url)), sealer=sealer)

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden, for messages."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits at the end of the block, or is rolled back entirely.

        On SQLite the transaction takes the write lock at once, after waiting its turn in the
        :class:`WriterQueue` (threads and processes alike), so writers never poll the database.
        """
        if not self.is_sqlite:
            with self.sessions() as session, session.begin():
                yield session
            return
        with self._writer, self.sessions() as session, session.begin():
            session.connection(execution_options={"sqlite_immediate": True})
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads.  On PostgreSQL its statements run outside a transaction: under
        READ COMMITTED each statement takes its own snapshot either way, so BEGIN and COMMIT
        would only add two round trips to every page."""
        with self.sessions() as session:
            if not self.is_sqlite:
                session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            yield session

    def close(self) -> None:
        if self.sealer is not None:
            self.sealer.stop()
        self.engine.dispose()
