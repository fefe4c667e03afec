"""Alembic, driven from code: `congress db upgrade` and the tests use this, never create_all()."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory

from alembic import command
from congress.db.engine import is_sqlite, normalise_url

ALEMBIC_DIR = Path(__file__).resolve().parents[2] / "alembic"


def alembic_config(url: str, connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = sa.create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


class Schema(StrEnum):
    """Where a database stands against this program's migrations."""

    CURRENT = "current"
    NO_FILE = "no_file"  # a SQLite file that does not exist (and is not created by looking)
    EMPTY = "empty"  # no tables: `congress db upgrade` never ran on it
    OTHER = "other"  # another revision than this program's head: older, or written by a newer program


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for another database or an in-memory one."""
    if not is_sqlite(url):
        return None
    database = sa.engine.make_url(url).database
    return Path(database) if database and database != ":memory:" else None


def schema_state(url: str) -> Schema:
    """Looks without changing anything: SQLite would create a missing file on connecting, so a
    missing file is reported before any connection. Connection errors propagate."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        return Schema.NO_FILE
    revision = current_revision(url)
    if revision is None:
        return Schema.EMPTY
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    return Schema.CURRENT if revision == head else Schema.OTHER
