"""A group's discussion room as a viewer reads it: its last messages (a hidden one a stub; only staff
see why and who hid it), the snapshot's `room` section (a delegate's own group), and every group's
room on one agenda item as staff read it (`group_rooms`).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.db.models import AgendaItem, Group, Message
from congress.domain.kinds import Role
from congress.domain.permissions import Actor

ROOM_HISTORY = 200  # messages per room in a snapshot



def message_json(message: Message, *, for_staff: bool = False) -> dict[str, Any]:
    """A message as a viewer gets it: a hidden one is a stub; only staff see why and who hid it."""
    data: dict[str, Any] = {"id": message.id, "group_id": message.group_id, "reply_to_id": message.reply_to_id,
                            "agenda_item_id": message.agenda_item_id, "created_at": message.created_at.isoformat()}
    if is_hidden(message):
        data.update(is_hidden=True, is_pinned=False)
        if for_staff:
            data.update(hidden_reason=message.hidden_reason, hidden_by=message.hidden_by)
        return data
    data.update(is_hidden=False, is_pinned=message.is_pinned, text=message.text, author_name=message.author_name,
                author_delegate_id=message.author_delegate_id, is_staff_author=message.author_delegate_id is None)
    return data


def room_messages(session: Session, group_id: int, limit: int = ROOM_HISTORY) -> list[dict[str, Any]]:
    """The last `limit` messages of a room, oldest first, as its members read them (staff read rooms
    with `group_rooms`)."""
    rows = list(session.scalars(sa.select(Message).where(Message.group_id == group_id)
                                .order_by(Message.id.desc()).limit(limit)))
    return [message_json(m) for m in reversed(rows)]


def room_snapshot(session: Session, congress_id: int, actor: Actor) -> list[dict[str, Any]]:
    """Delegates: their own group's room. Staff, observers, departments: none. Staff read every
    group's room with `group_rooms`, one agenda item at a time; every room of the congress in each
    staff hello was the largest part of it, no staff page kept it from events, and none used it."""
    if actor.role is not Role.DELEGATE or actor.congress_id != congress_id or actor.group_id is None:
        return []
    groups = list(session.execute(sa.select(Group.id, Group.name).where(Group.id == actor.group_id)))
    return [{"group_id": gid, "group": name, "messages": room_messages(session, gid)}
            for gid, name in groups]


def rooms_on_item(session: Session, congress_id: int, item: AgendaItem | None) -> dict[str, Any]:
    """Every group's room, read-only, for staff: the messages posted on `item` (every message when
    None), hidden ones with why and by whom."""
    query = sa.select(Message).where(Message.congress_id == congress_id)
    if item is not None:
        query = query.where(Message.agenda_item_id == item.id)
    by_group: dict[int, list[dict[str, Any]]] = {}
    for message in session.scalars(query.order_by(Message.id)):
        by_group.setdefault(message.group_id, []).append(message_json(message, for_staff=True))
    groups = session.execute(sa.select(Group.id, Group.name).where(Group.congress_id == congress_id)
                             .order_by(Group.position, Group.id)).all()
    return {"agenda_item": {"id": item.id, "title": item.title} if item is not None else None,
            "groups": [{"group_id": gid, "group": name, "messages": by_group.get(gid, [])} for gid, name in groups]}


def is_hidden(message: Message) -> bool:
    return message.hidden_by is not None
