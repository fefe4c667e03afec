"""The schema comes from the migrations, on SQLite and PostgreSQL alike: the models and the
migrations agree, a downgrade removes everything, and `congress db upgrade` builds a fresh database."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from congress.cli import main
from congress.db.base import Base, UTCDateTime
from congress.db.engine import normalise_url
from congress.db.migrate import alembic_config, current_revision, downgrade, upgrade
from congress.db.models import Congress  # noqa: F401  (registers every table on Base.metadata)


def _head(url: str) -> str:
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert head is not None
    return head


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(normalise_url(url))
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_autogenerate_finds_no_difference_between_models_and_migrations(database_url):
    engine = sa.create_engine(normalise_url(database_url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_downgrade_to_base_removes_every_table_and_upgrade_rebuilds_them(database_url):
    model_tables = set(Base.metadata.tables)
    assert model_tables <= _tables(database_url)

    downgrade(database_url, "base")
    assert _tables(database_url) - {"alembic_version"} == set()
    assert current_revision(database_url) is None

    upgrade(database_url)
    assert _tables(database_url) == model_tables | {"alembic_version"}
    assert current_revision(database_url) == _head(database_url)


def test_cli_db_upgrade_builds_a_fresh_database_to_head(empty_database_url, capsys):
    assert _tables(empty_database_url) == set()

    assert main(["--database-url", empty_database_url, "db", "upgrade"]) == 0

    assert "数据库已升级到最新版本" in capsys.readouterr().out
    assert _tables(empty_database_url) == set(Base.metadata.tables) | {"alembic_version"}
    assert current_revision(empty_database_url) == _head(empty_database_url)
    # Running it again on an up-to-date database is harmless
    assert main(["--database-url", empty_database_url, "db", "upgrade"]) == 0
    assert current_revision(empty_database_url) == _head(empty_database_url)


def test_0004_binds_command_ids_to_their_op_and_keeps_the_replies_stored_before(database_url):
    """0004 adds command_result.op and args_digest (issue 18: an id reused for another op got the
    first op's reply). Rows stored before it keep their reply, with neither (a resend of those is
    answered as before); the downgrade removes the two columns again."""
    downgrade(database_url, "0003")
    table = sa.table("command_result", sa.column("principal"), sa.column("command_id"),
                     sa.column("reply", sa.JSON), sa.column("created_at", UTCDateTime))
    engine = sa.create_engine(normalise_url(database_url))
    try:
        with engine.begin() as conn:
            conn.execute(table.insert().values(principal="delegate:7", command_id="c1", reply={"recorded": True},
                                               created_at=datetime(2026, 12, 1, tzinfo=UTC)))
        upgrade(database_url, "0004")
        with engine.connect() as conn:
            rows = list(conn.execute(sa.text("SELECT command_id, op, args_digest FROM command_result")))
        assert rows == [("c1", None, None)]
        columns = {c["name"]: c for c in sa.inspect(engine).get_columns("command_result")}
        assert columns["op"]["nullable"] and columns["args_digest"]["nullable"]

        downgrade(database_url, "0003")
        assert {"op", "args_digest"}.isdisjoint(c["name"] for c in sa.inspect(engine).get_columns("command_result"))
    finally:
        engine.dispose()
    upgrade(database_url)
