"""The state of a congress as one viewer may see it, read in one consistent transaction.

A client's state is `snapshot + events after its seq`; the snapshot is built from the same tables
the actions write, and shows a viewer only what the matching events would have shown them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.db.models import AgendaItem, Congress, Delegate, Event
from congress.domain.kinds import Role
from congress.domain.permissions import Actor
from congress.reads import documents, opinions, proposal_views, rooms, speakers, votes
from congress.reads.agenda import item_json
from congress.reads.attendance import attendance_by_group, attendance_json, is_present
from congress.reads.ceremony import KEEPS_CEREMONY, ceremony_snapshot
from congress.reads.terms import term_json


def congress_json(congress: Congress) -> dict[str, Any]:
    return {
        "id": congress.id, "name": congress.name, "status": congress.status,
        "is_rehearsal": congress.is_rehearsal, "rules": congress.rules,
        "current_agenda_item_id": congress.current_agenda_item_id,
        "check_in": {"opens_at": congress.check_in_opens_at.isoformat() if congress.check_in_opens_at else None,
                     "closes_at": congress.check_in_closes_at.isoformat() if congress.check_in_closes_at else None},
        # 提案征集 (set_filing_window): the delegate's proposal page and the board show it
        "filing": {"opens_at": congress.filing_opens_at.isoformat() if congress.filing_opens_at else None,
                   "closes_at": congress.filing_closes_at.isoformat() if congress.filing_closes_at else None},
        "stream": {"kind": congress.stream_kind, "url": congress.stream_url,
                   "delay_seconds": congress.stream_delay_seconds},
        "watch_mode": congress.watch_mode,  # who may watch (watch.set); never the link's token
    }


Section = Callable[[Session, int, Actor], Any]
# Each feature's part of the state (votes, proposals, rooms, ...), keyed by name: its read module
# builds it for one viewer.
SECTIONS: dict[str, Section] = {
    "documents": documents.documents_snapshot,
    "room": rooms.room_snapshot,
    "opinions": opinions.opinions_snapshot,
    "proposals": proposal_views.proposals_snapshot,
    "speakers": speakers.speakers_snapshot,
    "votes": votes.votes_snapshot,
}


def build_snapshot(session: Session, congress_id: int, actor: Actor) -> dict[str, Any]:
    congress = session.get(Congress, congress_id)
    if congress is None:
        raise LookupError(congress_id)
    items = session.scalars(sa.select(AgendaItem).where(AgendaItem.congress_id == congress_id)
                            .order_by(AgendaItem.position))
    state: dict[str, Any] = {
        "congress": {**congress_json(congress), "term": term_json(session, congress)},  # 第N届第M次
        "agenda": [item_json(i) for i in items],
        "attendance": attendance_json(attendance_by_group(session, congress_id)),
        "record": record_head(session, congress_id),
    }
    for name, builder in SECTIONS.items():
        state[name] = builder(session, congress_id, actor)
    if actor.role in KEEPS_CEREMONY:  # the trustees' key: staff run it, delegates may be trustees
        state["ceremony"] = ceremony_snapshot(session, congress_id, actor)
    if actor.role is Role.DELEGATE and actor.delegate_id is not None:
        delegate = session.get(Delegate, actor.delegate_id)
        assert delegate is not None
        state["me"] = {
            "delegate_id": delegate.id, "employee_id": delegate.employee_id, "name": delegate.name,
            "group_id": delegate.group_id, "is_group_leader": delegate.is_group_leader,
            "is_voting": delegate.is_voting, "delegate_type": delegate.delegate_type,
            "is_checked_in": is_present(session, delegate.id),
        }
    return state


def head_seq(session: Session, congress_id: int) -> int | None:
    return session.scalar(sa.select(Congress.last_seq).where(Congress.id == congress_id))


def record_head(session: Session, congress_id: int) -> dict[str, Any]:
    """The head of the hash-chained event log (docs/records.md): public, so watchers can note it."""
    row = session.execute(sa.select(Event.seq, Event.hash).where(Event.congress_id == congress_id)
                          .order_by(Event.seq.desc()).limit(1)).first()
    return {"seq": row.seq, "hash": row.hash} if row is not None else {"seq": 0, "hash": None}
