"""Revision 0005 on both databases: a database at 0004 holding the story's congress upgrades with
the notice tables and an empty delegate.email, its roster intact; the outbox's dedupe key is
unique in the schema; the downgrade removes them again and the roster stays."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from congress.db.engine import Database
from congress.db.migrate import downgrade, upgrade
from tests.story import build_story

NOTICE_TABLES = {"notice", "notice_channel", "notice_config"}


def _inspect(url: str) -> tuple[set[str], set[str], int]:
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        with engine.connect() as conn:
            delegates = conn.execute(sa.text("SELECT count(*) FROM delegate")).scalar_one()
        columns = {c["name"] for c in inspector.get_columns("delegate")}
        return set(inspector.get_table_names()), columns, delegates
    finally:
        engine.dispose()


def test_0005_adds_the_outbox_and_delegate_email_and_downgrades(database_url):  # type: ignore[no-untyped-def]
    db = Database(database_url)
    try:
        build_story(db, with_codes=False)
    finally:
        db.dispose()
    url = Database(database_url).url
    downgrade(database_url, "0004")
    tables, columns, delegates = _inspect(url)
    assert NOTICE_TABLES.isdisjoint(tables) and "email" not in columns and delegates == 305

    upgrade(database_url, "0005")
    tables, columns, delegates = _inspect(url)
    assert NOTICE_TABLES <= tables and "email" in columns and delegates == 305
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM delegate WHERE email IS NOT NULL")).scalar_one() == 0
            row = {"congress_id": 1, "kind": "assigned", "channel": "email", "recipient": "channel:1",
                   "recipient_label": "人力资源部", "subject": "s", "body": "b", "link": "", "status": "pending",
                   "attempts": 0, "not_before": datetime(2027, 3, 1, tzinfo=UTC),
                   "next_attempt_at": datetime(2027, 3, 1, tzinfo=UTC), "created_at": datetime(2027, 3, 1, tzinfo=UTC),
                   "dedupe_key": "1:assigned:p1:channel:1"}
            notice = sa.table("notice", *(sa.column(k) for k in row))
            conn.execute(notice.insert().values(**row))
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(notice.insert().values(**row))  # the same dedupe key: refused by the schema
    finally:
        engine.dispose()

    downgrade(database_url, "0004")
    tables, columns, delegates = _inspect(url)
    assert NOTICE_TABLES.isdisjoint(tables) and "email" not in columns and delegates == 305
    upgrade(database_url)
