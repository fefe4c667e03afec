"""Engines and sessions. SQLite runs in WAL with full sync so an acknowledged ballot survives a crash."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from congress.domain.errors import DomainError

T = TypeVar("T")


def normalise_url(url: str) -> str:
    """Accept plain postgresql:// URLs and use the psycopg 3 driver for them."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, *, immediate: bool = True, pool_size: int = 10) -> sa.Engine:
    """An engine for writes (SQLite: BEGIN IMMEDIATE, so writers queue instead of failing late)
    or, with immediate=False, for reads (SQLite: deferred, readers never wait for writers)."""
    url = normalise_url(url)
    if is_sqlite(url):
        # As many pooled connections as worker threads may read at once (anyio's default 40): with
        # the default 5 + 10 overflow, a join storm opened and closed SQLite connections (and ran
        # their PRAGMAs) for most reads.
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                                  pool_size=max(pool_size, 40), max_overflow=10)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: sa.Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return sa.create_engine(url, pool_size=pool_size, max_overflow=20, pool_pre_ping=True)


RETRY_AFTER_SECONDS = 5  # what a client is told to wait while the database is unreachable


class DatabaseUnavailable(DomainError):
    """The database cannot be reached (stopped, restarting, the network): nothing was done, and the
    same command may be sent again (with the same id) once it is back. HTTP 503 with Retry-After,
    a websocket `error` with code `unavailable`, a new socket closed with 1013."""

    def __init__(self) -> None:
        super().__init__("unavailable", "数据库暂时无法连接，操作未执行，请稍等几秒再试")

    def __reduce__(self) -> tuple[Any, ...]:
        return (DatabaseUnavailable, ())


# SQLSTATEs of a server that is going away or not there yet (class 08: connection exceptions;
# 57P01-57P03: admin shutdown, crash shutdown, cannot connect now).
_GOING_AWAY = ("57P01", "57P02", "57P03")


def is_outage(exc: BaseException) -> bool:
    """Whether an exception means the database is unreachable, as opposed to a query it refused.

    A PostgreSQL serialization failure or deadlock is an OperationalError too, and is retried; so is
    SQLite's "database is locked". Only a lost or refused connection counts as an outage."""
    if isinstance(exc, DatabaseUnavailable):
        return True
    if isinstance(exc, sa.exc.TimeoutError):  # no pooled connection came free: every one is stuck
        return True
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
        return False
    orig = exc.orig
    if type(orig).__module__.split(".")[0] != "psycopg":
        return False
    sqlstate = getattr(orig, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith("08") or sqlstate in _GOING_AWAY


def _hold_loaded_objects(factory: sessionmaker[Session]) -> None:
    """A write session keeps every object it loaded until it closes (SQLAlchemy's own recipe).

    The identity map holds objects weakly: an object no action still refers to is dropped at once,
    and the next `session.get` of the same row queries again. One write transaction is a whole
    batch of commands (congress.application.service); without this, the congress row, a group or the same
    delegate was read again by every command of the batch (found profiling the filing burst)."""
    def hold(session: Session, instance: object) -> None:
        session.info.setdefault("held", set()).add(instance)

    for when in ("loaded_as_persistent", "pending_to_persistent", "detached_to_persistent"):
        event.listen(factory, when, hold)


def kept(session: Session, name: str, make: Callable[[], T]) -> T:
    """The cache `name` of the Database the session came from, made by `make` on first use. A session
    made some other way gets one of its own (kept for nothing)."""
    caches: dict[str, Any] = session.info.setdefault("caches", {})
    found = caches.get(name)
    if found is None:
        found = caches.setdefault(name, make())  # two threads at once: both get the one kept
    return found


class Database:
    """The two ways in: `write()` for actions (one transaction each) and `read()` for snapshots."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, immediate=True)
        self.read_engine = make_engine(self.url, immediate=False) if is_sqlite(self.url) else self.engine
        # What readers keep between sessions (the proposal board, the categoriser: `kept`): this
        # Database's, so one app's; two apps in one process (tests) never answer from each other's.
        self.caches: dict[str, Any] = {}
        self._write = sessionmaker(self.engine, expire_on_commit=False, info={"caches": self.caches})
        _hold_loaded_objects(self._write)
        self._read = sessionmaker(self.read_engine, expire_on_commit=False, info={"caches": self.caches})

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any error."""
        with self._write() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()


def log_loop_failure(log: logging.Logger, exc: Exception, what: str) -> None:
    """A background loop's failure: while the database is unreachable one line, not a traceback a second."""
    if is_outage(exc):
        log.warning("%s: the database is unreachable (%s)", what, exc.__class__.__name__)
    else:
        log.exception(what)
