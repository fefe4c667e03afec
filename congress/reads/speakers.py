"""Speech requests (请求发言) as a viewer reads them: who has the floor, who waits, and the snapshot's
`speakers` section (everyone: the floor; staff: every waiting request; a delegate: their own).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.db.models import Delegate, Group, SpeechRequest
from congress.domain.kinds import Role
from congress.domain.permissions import Actor

# A speech request (请求发言) is waiting, then speaking, then done; or withdrawn by its delegate
WAITING, SPEAKING, DONE, WITHDRAWN = "waiting", "speaking", "done", "withdrawn"



def _who(session: Session, request: SpeechRequest) -> tuple[Delegate, str]:
    delegate = session.get(Delegate, request.delegate_id)
    assert delegate is not None
    group = session.get(Group, delegate.group_id)
    return delegate, group.name if group else ""


def request_json(session: Session, request: SpeechRequest) -> dict[str, Any]:
    delegate, group = _who(session, request)
    return {"id": request.id, "agenda_item_id": request.agenda_item_id, "delegate_id": delegate.id,
            "name": delegate.name, "group_id": delegate.group_id, "group": group, "topic": request.topic,
            "position": request.position, "status": request.status,
            "requested_at": request.requested_at.isoformat()}


def floor_json(session: Session, request: SpeechRequest) -> dict[str, Any]:
    """The public view of whoever has the floor."""
    delegate, group = _who(session, request)
    assert request.started_at is not None
    return {"request_id": request.id, "delegate_id": delegate.id, "name": delegate.name,
            "group_id": delegate.group_id, "group": group, "agenda_item_id": request.agenda_item_id,
            "topic": request.topic, "seconds_allowed": request.seconds_allowed,
            "started_at": request.started_at.isoformat()}


def _all_waiting(session: Session, congress_id: int, delegate_id: int | None = None) -> list[SpeechRequest]:
    """Every waiting request of the congress, whatever its item (one delegate's, when given)."""
    query = sa.select(SpeechRequest).where(SpeechRequest.congress_id == congress_id, SpeechRequest.status == WAITING)
    if delegate_id is not None:
        query = query.where(SpeechRequest.delegate_id == delegate_id)
    return list(session.scalars(query.order_by(SpeechRequest.agenda_item_id, SpeechRequest.position,
                                               SpeechRequest.id)))


def speaking_now(session: Session, congress_id: int) -> SpeechRequest | None:
    return session.scalar(sa.select(SpeechRequest).where(SpeechRequest.congress_id == congress_id,
                                                         SpeechRequest.status == SPEAKING))


def speakers_snapshot(session: Session, congress_id: int, actor: Actor) -> dict[str, Any]:
    """Everyone: who has the floor. Staff: every waiting request, on whichever item it was made.
    A delegate: their own waiting requests."""
    current = speaking_now(session, congress_id)
    state: dict[str, Any] = {"current": floor_json(session, current) if current else None, "waiting": []}
    if actor.role is Role.STAFF:
        state["waiting"] = [request_json(session, r) for r in _all_waiting(session, congress_id)]
    elif actor.role is Role.DELEGATE and actor.delegate_id is not None:
        state["waiting"] = [request_json(session, r) for r in _all_waiting(session, congress_id, actor.delegate_id)]
    return state
