"""A proposal's casework as read: its departments per round (lead and 协办) and the replies.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.db.models import Assignment, Department, Reply
from congress.domain.commands import Key, ListOf, Obj
from congress.domain.proposals import (
    REPLY_CLASSES,
)


def assignments_json(session: Session, proposal_ids: list[int]) -> dict[int, dict[str, Any]]:
    """`assignment_json` for many proposals in one read: each one's departments of its current round."""
    rows = session.execute(sa.select(Assignment, Department.name).join(Department).where(
        Assignment.proposal_id.in_(proposal_ids)).order_by(Assignment.id)).all()
    by_proposal: dict[int, list[Any]] = {}
    for a, name in rows:
        by_proposal.setdefault(a.proposal_id, []).append((a, name))
    data = {}
    for pid in proposal_ids:
        mine = by_proposal.get(pid, [])
        current = max((a.round for a, _n in mine), default=0)
        data[pid] = assignment_data([(a, n) for a, n in mine if a.round == current])
    return data


def assignment_data(rows: Sequence[Any]) -> dict[str, Any]:
    """rows: (Assignment, department name) of one proposal's current round, in order."""
    lead = next(((a, n) for a, n in rows if a.is_lead), None)
    return {"lead_department": lead[1] if lead else None,
            "helper_departments": [n for a, n in rows if not a.is_lead],
            "due_at": lead[0].due_at.isoformat() if lead and lead[0].due_at else None}


def reply_json(reply: Reply) -> dict[str, Any]:
    return {"id": reply.id, "round": reply.round, "reply_class": reply.reply_class,
            "class_label": REPLY_CLASSES[reply.reply_class], "text": reply.text, "replied_by": reply.replied_by,
            "replied_at": reply.replied_at.isoformat()}


ASSIGNMENT_KEYS = (Key("round", int, "交办的轮次"), Key("lead_department", str), Key("helper_departments", ListOf(str)),
                   Key("due_at", str))


REPLY = Obj((Key("id", int), Key("round", int), Key("reply_class", str, "A / B / C / D"), Key("class_label", str),
             Key("text", str), Key("replied_by", str), Key("replied_at", str)))
