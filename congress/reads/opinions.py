"""The groups' review opinions as a viewer reads them, with the room messages they quote, and the
snapshot's `opinions` section (a delegate: their group's; staff: every group's).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.db.models import Group, GroupOpinion, Message
from congress.domain.kinds import Role
from congress.domain.permissions import Actor
from congress.reads.rooms import is_hidden


def quotes_json(session: Session, message_ids: list[int]) -> list[dict[str, Any]]:
    """The quoted messages as the record shows them; one hidden since it was quoted shows no text."""
    if not message_ids:
        return []
    rows = {m.id: m for m in session.scalars(sa.select(Message).where(Message.id.in_(message_ids)))}
    quotes = []
    for message_id in message_ids:
        message = rows.get(message_id)
        if message is None:
            continue
        hidden = is_hidden(message)
        quotes.append({"message_id": message.id, "author_name": message.author_name,
                       "text": None if hidden else message.text, "is_hidden": hidden})
    return quotes


def opinion_json(session: Session, opinion: GroupOpinion) -> dict[str, Any]:
    group = session.get(Group, opinion.group_id)
    return {
        "id": opinion.id, "group_id": opinion.group_id, "group": group.name if group else "",
        "agenda_item_id": opinion.agenda_item_id, "status": opinion.status,
        "agreement": opinion.agreement, "suggestions": opinion.suggestions, "objections": opinion.objections,
        "quoted_message_ids": list(opinion.quoted_message_ids),
        "quotes": quotes_json(session, list(opinion.quoted_message_ids)),
        "drafted_by": opinion.drafted_by, "updated_at": opinion.updated_at.isoformat(),
        "submitted_at": opinion.submitted_at.isoformat() if opinion.submitted_at else None,
        "handling": opinion.handling, "handling_note": opinion.handling_note,
    }


def opinions_snapshot(session: Session, congress_id: int, actor: Actor) -> list[dict[str, Any]]:
    """Delegates: their own group's opinions (drafts included). Staff: every group's."""
    query = sa.select(GroupOpinion).where(GroupOpinion.congress_id == congress_id)
    if actor.role is Role.DELEGATE and actor.congress_id == congress_id:
        query = query.where(GroupOpinion.group_id == actor.group_id)
    elif actor.role is not Role.STAFF:
        return []
    return [opinion_json(session, o) for o in session.scalars(query.order_by(GroupOpinion.id))]
