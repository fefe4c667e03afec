"""The event log's seq under concurrency, on SQLite and PostgreSQL: 20 writers at once leave
1..N with no gap and no duplicate, and a rolled-back transaction gives its seq back."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from congress.actions.attendance import check_in_at_desk
from congress.actions.base import Context
from congress.actions.roster import import_roster
from congress.actions.setup import create_congress
from congress.application.service import system_clock
from congress.db.engine import Database
from congress.db.models import Congress, Delegate, Event
from congress.domain.events import EventDeclarationError
from tests.log_events import TEST_EVENTS
from tests.story import SETUP, story_roster

WRITERS = 20
ROUNDS = 6  # per writer: check-ins, plain emits, and emits that roll back


class Boom(Exception):
    """Raised inside a transaction after it emitted."""


def _congress_with_roster(db: Database) -> tuple[int, list[str]]:
    with db.write() as session:
        ctx = Context(session, SETUP, system_clock())
        congress = create_congress(ctx, "并发测试", ["主会场", "长沙", "岳阳", "怀化", "益阳", "永州", "宁波"])
        import_roster(ctx, congress.id, story_roster(), "roster.csv")
        employee_ids = list(session.scalars(sa.select(Delegate.employee_id)
                                            .where(Delegate.congress_id == congress.id).order_by(Delegate.id)))
    return congress.id, employee_ids


def _log(db: Database, congress_id: int) -> tuple[list[int], int, list[Event]]:
    with db.read() as session:
        events = list(session.scalars(sa.select(Event).where(Event.congress_id == congress_id).order_by(Event.seq)))
        last = session.scalar(sa.select(Congress.last_seq).where(Congress.id == congress_id))
    return [e.seq for e in events], last or 0, events


def test_concurrent_writers_leave_consecutive_seqs_without_gaps_or_duplicates(db: Database) -> None:
    congress_id, employee_ids = _congress_with_roster(db)
    start = threading.Barrier(WRITERS)
    failures: list[BaseException] = []

    def writer(index: int) -> None:
        try:
            start.wait()
            for n in range(ROUNDS):
                try:
                    with db.write() as session:
                        ctx = Context(session, SETUP, system_clock(), declared=TEST_EVENTS)
                        if n % 3 == 0:  # a real action: two events, one public and one personal
                            check_in_at_desk(ctx, congress_id, employee_ids[index * ROUNDS + n])
                        else:
                            ctx.emit(congress_id, "test.written", {"writer": index, "n": n})
                        if n % 3 == 2:
                            ctx.emit(congress_id, "test.rolled_back", {"writer": index, "n": n})
                            raise Boom
                except Boom:
                    pass
        except BaseException as exc:  # reported below: a thread must not fail silently
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []

    seqs, last_seq, events = _log(db, congress_id)
    assert seqs == list(range(1, len(seqs) + 1))
    assert last_seq == len(seqs)
    types = [e.type for e in events]
    assert "test.rolled_back" not in types
    committed = WRITERS * ROUNDS // 3  # rounds of each kind per writer
    assert types.count("attendance.checked_in") == committed
    assert types.count("test.written") == committed


def test_transaction_that_raises_after_emit_leaves_no_event_and_keeps_the_seq(db: Database) -> None:
    congress_id, _ = _congress_with_roster(db)
    _seqs, head, _events = _log(db, congress_id)

    with pytest.raises(Boom), db.write() as session:
        Context(session, SETUP, system_clock(), declared=TEST_EVENTS).emit(congress_id, "test.rolled_back", {})
        raise Boom
    seqs, last_seq, _events = _log(db, congress_id)
    assert last_seq == head and seqs[-1] == head

    # What the group commit does: a failed command rolls back to its savepoint only.
    with db.write() as session:
        ctx = Context(session, SETUP, system_clock(), declared=TEST_EVENTS)
        savepoint = session.begin_nested()
        ctx.emit(congress_id, "test.rolled_back", {})
        savepoint.rollback()
        ctx.emit(congress_id, "test.written", {})
    seqs, last_seq, events = _log(db, congress_id)
    assert last_seq == head + 1 and seqs == list(range(1, head + 2))
    assert events[-1].type == "test.written"


def test_an_undeclared_type_or_a_payload_off_its_declaration_is_refused_before_anything_is_written(
        db: Database) -> None:
    """congress.domain.events: a bug in an action shows at once, and takes no seq."""
    congress_id, _ = _congress_with_roster(db)
    _seqs, head, _events = _log(db, congress_id)
    for type, payload in (("test.written", {}), ("vote.closed", {"vote_id": 1, "at": "…", "cast": "many"})):
        with pytest.raises(EventDeclarationError), db.write() as session:
            Context(session, SETUP, system_clock()).emit(congress_id, type, payload)
    seqs, last_seq, _events = _log(db, congress_id)
    assert last_seq == head and seqs[-1] == head
