"""What every action shares: the context it runs in and the one way to append an Event.

An action is a plain function `verb(ctx, ...)`. It validates, checks the actor's permission,
applies the change and appends Events, all inside the caller's single transaction. The caller
commits and only then publishes `ctx.events` (congress.service.Service.run); a rolled-back action
publishes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.db.models import Congress, Event
from congress.domain.errors import DomainError
from congress.domain.kinds import Audience
from congress.permissions import Actor


@dataclass
class Context:
    session: Session
    actor: Actor
    now: datetime
    command_id: str | None = None  # the client's id for this command, when it sent one
    events: list[Event] = field(default_factory=list)

    def emit(self, congress_id: int, type: str, payload: dict[str, Any],
             audience: Audience = Audience.PUBLIC, audience_id: int | None = None) -> Event:
        """Append an event with the congress's next seq.

        The UPDATE ... RETURNING takes the congress row's lock until commit, so concurrent writers
        to one congress get consecutive seqs, a rollback gives its seq back, and seq n commits
        before n+1 is handed out: no reader ever sees n+1 without n.
        """
        seq = self.session.execute(
            sa.update(Congress).where(Congress.id == congress_id)
            .values(last_seq=Congress.last_seq + 1).returning(Congress.last_seq)
        ).scalar_one_or_none()
        if seq is None:
            raise DomainError("no_such_congress", f"没有编号为 {congress_id} 的职代会")
        event = Event(congress_id=congress_id, seq=seq, type=type, payload=payload,
                      audience=audience.value, audience_id=audience_id, created_at=self.now)
        self.session.add(event)
        self.events.append(event)
        return event

    def get(self, model: type, id: int | None, what: str) -> Any:
        row = self.session.get(model, id) if id is not None else None
        if row is None:
            raise DomainError("not_found", f"找不到{what}（编号 {id}）")
        return row


def event_message(event: Event) -> dict[str, Any]:
    """The wire form of an event (docs/protocol.md, message `event`)."""
    return {
        "msg": "event",
        "seq": event.seq,
        "type": event.type,
        "payload": event.payload,
        "at": event.created_at.isoformat(),
    }
