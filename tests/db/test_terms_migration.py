"""Revision 0006 on both databases: a database at 0005 holding the story's congress and its proposals
upgrades with the congress in a term of its own (read from its name), its proposals and roster
intact; a congress whose name gives no numbers is its term's first session; the downgrade removes
the term again and the data stays."""

from __future__ import annotations

import sqlalchemy as sa

from congress.actions.base import Context
from congress.application.service import system_clock
from congress.db.engine import Database
from congress.db.migrate import current_revision, downgrade, upgrade
from tests.story import SETUP, build_story, story_with_demo_proposals


def _counts(url: str) -> tuple[int, int, int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return tuple(conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()  # type: ignore[return-value]
                         for t in ("proposal", "delegate", "decision"))
    finally:
        engine.dispose()


def test_0006_gives_each_congress_a_term_and_downgrades(database_url):
    db = Database(database_url)
    story = build_story(db, with_codes=False)
    with db.write() as session:
        story_with_demo_proposals(Context(session, SETUP, system_clock()), story.congress_id)
    db.dispose()
    downgrade(database_url, "0005")
    assert current_revision(database_url) == "0005"
    engine = sa.create_engine(db.url)
    try:
        with engine.begin() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("congress")}
            assert "term_id" not in columns and "term" not in sa.inspect(conn).get_table_names()
            conn.execute(sa.text(
                "INSERT INTO congress (name, status, is_rehearsal, rules, last_seq, watch_mode, stream_kind, "
                "stream_delay_seconds, created_at) VALUES ('机关工会会员代表大会', 'preparing', false, '{}', 0, 'open', "
                "'none', 0, CURRENT_TIMESTAMP)"))
        before = _counts(db.url)
        assert before[0] >= 48

        upgrade(database_url, "0006")
        with engine.connect() as conn:
            rows = list(conn.execute(sa.text(
                "SELECT c.name, t.name, t.number, c.session_number FROM congress c JOIN term t ON t.id = c.term_id "
                "ORDER BY c.id")))
            assert rows == [("第十届职代会第三次会议", "第十届职代会", 10, 3),
                            ("机关工会会员代表大会", "机关工会会员代表大会", None, 1)]
            assert conn.execute(sa.text("SELECT count(*) FROM proposal WHERE carried_from_id IS NOT NULL")).scalar_one() == 0
        assert _counts(db.url) == before

        downgrade(database_url, "0005")
        with engine.connect() as conn:
            assert "term" not in sa.inspect(conn).get_table_names()
            assert "session_number" not in {c["name"] for c in sa.inspect(conn).get_columns("congress")}
            assert "carried_from_id" not in {c["name"] for c in sa.inspect(conn).get_columns("proposal")}
        assert _counts(db.url) == before
    finally:
        engine.dispose()
    upgrade(database_url)
