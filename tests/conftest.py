"""Shared fixtures: real databases (SQLite files and PostgreSQL), schemas from the migrations,
and a real uvicorn server on a free port. Nothing here is mocked."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from congress.db.engine import Database
from congress.db.migrate import upgrade

PG_ADMIN_URL = os.environ.get("CONGRESS_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("CONGRESS_TEST_REDIS", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _postgres_reachable() -> bool:
    try:
        engine = sa.create_engine(PG_ADMIN_URL)
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


def _redis_reachable() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


def require_postgres() -> None:
    if not _postgres_reachable():
        if IN_CI:
            pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432 but CI requires PostgreSQL tests to run")
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432")


def require_redis() -> None:
    if not _redis_reachable():
        if IN_CI:
            pytest.fail("Redis is not reachable at 127.0.0.1:6379 but CI requires these tests to run")
        pytest.skip("Redis is not reachable")


def create_pg_database(template: str | None = None) -> str:
    require_postgres()
    name = f"congress_test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    engine.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_kind(request: pytest.FixtureRequest) -> str:
    """Each database the product runs on (a test for one kind parametrizes this, indirect)."""
    return str(request.param)


@pytest.fixture
def empty_database_url(database_kind: str, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A fresh, empty database of each kind (no schema)."""
    if database_kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'congress.db'}"
        return
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One database of each kind per test process, brought to head by the migrations, that each test's
    fresh database is copied from (a file copy; PostgreSQL's CREATE DATABASE … TEMPLATE): the
    migrations run once per kind instead of once per test (~0.6 s each on PostgreSQL)."""
    made: dict[str, str] = {}
    yield made
    if "postgresql" in made:
        drop_pg_database(made["postgresql"])


def _migrated_template(templates: dict[str, str], kind: str, folder) -> str:  # type: ignore[no-untyped-def]
    if kind not in templates:
        url = f"sqlite:///{folder / 'migrated.db'}" if kind == "sqlite" else create_pg_database()
        upgrade(url)
        templates[kind] = url
    return templates[kind]


@pytest.fixture
def database_url(database_kind: str, migrated_templates: dict[str, str],
                 tmp_path_factory: pytest.TempPathFactory, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A fresh database of each kind, brought to head by the migrations (never create_all): a copy of
    this process's migrated template."""
    kind = database_kind
    template = _migrated_template(migrated_templates, kind, tmp_path_factory.getbasetemp())
    if kind == "sqlite":
        target = tmp_path / "congress.db"
        shutil.copyfile(template.removeprefix("sqlite:///"), target)
        yield f"sqlite:///{target}"
        return
    url = create_pg_database(template=template.rsplit("/", 1)[1])
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()
