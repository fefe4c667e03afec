"""What every action shares: the context it runs in and the one way to append an Event.

An action is a plain function `verb(ctx, ...)`. It validates, checks the actor's permission,
applies the change and appends Events, all inside the caller's single transaction. The caller
commits and only then publishes `ctx.events` (congress.application.service.Service.run); a rolled-back action
publishes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.db.models import Congress, Event
from congress.domain.errors import DomainError
from congress.domain.events import EVENTS, EventType, check_event
from congress.domain.kinds import Audience
from congress.notices.outbox import NOTICE_EVENTS, queue_for
from congress.reads.context import ReadContext
from congress.records.chain import GENESIS, as_stored, event_hash


@dataclass
class Context(ReadContext):
    """A writer's context: what a read has (session, actor, now), and the events it appends."""

    command_id: str | None = None  # the client's id for this command, when it sent one
    prepared: Any = None  # what the command's `prepare` computed before the write, if it has one
    is_https: bool = False  # the site is served over HTTPS (Settings.is_https): what its pages load must be too
    events: list[Event] = field(default_factory=list)
    # The event types `emit` accepts (congress.domain.events); tests of the log itself add their own
    declared: Mapping[str, EventType] = field(default_factory=lambda: EVENTS, repr=False)
    # congress id -> (seq, hash) of the last event this context appended: no re-query per emit
    _heads: dict[int, tuple[int, str]] = field(default_factory=dict, repr=False)
    _locked: set[int] = field(default_factory=set, repr=False)  # congresses whose row this transaction holds

    def lock_congress(self, congress_id: int) -> None:
        """Hold the congress row until commit, so read-then-write steps of two workers take turns.

        PostgreSQL: SELECT ... FOR UPDATE. SQLite has one writer at a time anyway (and one worker).
        """
        if congress_id not in self._locked:
            self.session.execute(sa.select(Congress.id).where(Congress.id == congress_id).with_for_update())
            self._locked.add(congress_id)

    def next_number(self, congress_id: int, column: Any, *where: Any) -> int:
        """The next number in a per-congress sequence (proposal 编号, agenda position, vote round, ...).

        max()+1 read without a lock lets two workers hand out the same number at the same moment (seen in
        the two-worker rehearsal: two proposals submitted together, one refused with `conflict`)."""
        self.lock_congress(congress_id)
        return (self.session.scalar(sa.select(sa.func.max(column)).where(*where)) or 0) + 1

    def emit(self, congress_id: int, type: str, payload: dict[str, Any],
             audience: Audience = Audience.PUBLIC, audience_id: int | None = None,
             *, with_record: bool = False) -> Event:
        """Append an event with the congress's next seq and its link in the hash chain.

        The UPDATE ... RETURNING takes the congress row's lock until commit, so concurrent writers
        to one congress get consecutive seqs, a rollback gives its seq back, and seq n commits
        before n+1 is handed out: no reader ever sees n+1 without n. Under that lock event n-1 is
        committed or flushed in this transaction, so its hash is there to chain to.

        The payload is stored as the JSON column gives it back (a copy), and that is what is hashed
        (congress.records.chain). `with_record` adds `"record": {"seq", "hash"}`: the head of the record
        just before this event (seq n-1 and its hash), the same shape as the snapshot's `record`.

        A type, audience or payload that does not match its declaration (congress.domain.events) raises
        EventDeclarationError before anything is written: a bug in the caller, not a refusal.
        """
        with_head = {**payload, "record": {}} if with_record else payload
        check_event(type, with_head, audience, self.declared)
        seq = take_seqs(self.session, congress_id, 1)
        if seq is None:
            raise DomainError("no_such_congress", f"没有编号为 {congress_id} 的职代会")
        prev_hash = self._prev_hash(congress_id, seq)
        stored, digest = chain_link(prev_hash, seq, type, payload, with_record=with_record)
        self._heads[congress_id] = (seq, digest)
        event = Event(congress_id=congress_id, seq=seq, type=type, payload=stored,
                      audience=audience.value, audience_id=audience_id, created_at=self.now, hash=digest)
        self.session.add(event)
        self.events.append(event)
        if type in NOTICE_EVENTS:  # its notices, in this same transaction (congress.notices.outbox)
            queue_for(self.session, self.now, event)
        return event

    def _prev_hash(self, congress_id: int, seq: int) -> str:
        if seq == 1:
            return GENESIS
        cached = self._heads.get(congress_id)
        if cached is not None and cached[0] == seq - 1:
            return cached[1]
        prev = self.session.scalar(sa.select(Event.hash).where(Event.congress_id == congress_id,
                                                               Event.seq == seq - 1))
        if prev is None:  # events written before the chain existed: chain them once, as they stand
            prev = GENESIS
            for earlier in self.session.scalars(sa.select(Event).where(
                    Event.congress_id == congress_id, Event.seq < seq).order_by(Event.seq)):
                if earlier.hash is None:
                    earlier.hash = event_hash(prev, earlier.seq, earlier.type, earlier.payload)
                prev = earlier.hash
        return prev


def take_seqs(session: Session, congress_id: int, count: int) -> int | None:
    """Reserve the congress's next `count` seqs; the last of them (None: no such congress).

    The UPDATE ... RETURNING takes the congress row's lock until commit (see Context.emit). A Core
    statement on the session's connection: the ORM's UPDATE would first flush and then look for the
    row among the session's objects, for nothing (no write reads last_seq)."""
    return session.connection().execute(
        sa.update(Congress.__table__).where(Congress.__table__.c.id == congress_id)
        .values(last_seq=Congress.__table__.c.last_seq + count).returning(Congress.__table__.c.last_seq)
    ).scalar_one_or_none()


def chain_link(prev_hash: str, seq: int, type: str, payload: dict[str, Any], *,
               with_record: bool = False) -> tuple[dict[str, Any], str]:
    """Event `seq`'s payload as stored and its hash, chained to the previous event's hash: the one
    place an event joins the chain (Context.emit, and the set-wise ballots of actions/ballots.py)."""
    stored = as_stored(payload)
    if with_record:
        stored["record"] = {"seq": seq - 1, "hash": prev_hash}
    return stored, event_hash(prev_hash, seq, type, stored)


def event_message(event: Event) -> dict[str, Any]:
    """The wire form of an event (docs/protocol.md, message `event`)."""
    return {
        "msg": "event",
        "seq": event.seq,
        "type": event.type,
        "payload": event.payload,
        "at": event.created_at.isoformat(),
    }
