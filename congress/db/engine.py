"""Engines and sessions. SQLite runs in WAL with full sync so an acknowledged ballot survives a crash."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker


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
        def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):  # type: ignore[no-untyped-def]
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return sa.create_engine(url, pool_size=pool_size, max_overflow=20, pool_pre_ping=True)


def _hold_loaded_objects(factory: sessionmaker[Session]) -> None:
    """A write session keeps every object it loaded until it closes (SQLAlchemy's own recipe).

    The identity map holds objects weakly: an object no action still refers to is dropped at once,
    and the next `session.get` of the same row queries again. One write transaction is a whole
    batch of commands (congress.service); without this, the congress row, a group or the same
    delegate was read again by every command of the batch (found profiling the filing burst)."""
    def hold(session: Session, instance: object) -> None:
        session.info.setdefault("held", set()).add(instance)

    for when in ("loaded_as_persistent", "pending_to_persistent", "detached_to_persistent"):
        event.listen(factory, when, hold)


class Database:
    """The two ways in: `write()` for actions (one transaction each) and `read()` for snapshots."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, immediate=True)
        self.read_engine = make_engine(self.url, immediate=False) if is_sqlite(self.url) else self.engine
        self._write = sessionmaker(self.engine, expire_on_commit=False)
        _hold_loaded_objects(self._write)
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)

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
