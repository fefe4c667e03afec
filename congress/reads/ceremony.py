"""The trustees' key ceremony (监票人密钥) as staff and delegates read it: the latest ceremony with its
trustees and every message posted, the snapshot's `ceremony` (null until staff name trustees).

Everything here is public (the `trustees.*` and `trustee.posted` events carry it); observers' pages
have no use for it, so their snapshot leaves it out and their pages do not keep it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.db.models import Delegate, Group, KeyCeremony, TrusteeMessage
from congress.domain.kinds import Role
from congress.domain.permissions import Actor

# Who keeps the ceremony in their state (the snapshot's `ceremony`, kept by web/js/trustees.js)
KEEPS_CEREMONY = frozenset({Role.STAFF, Role.DELEGATE})


def latest_ceremony(session: Session, congress_id: int) -> KeyCeremony | None:
    return session.scalar(sa.select(KeyCeremony).where(KeyCeremony.congress_id == congress_id)
                          .order_by(KeyCeremony.id.desc()).limit(1))


def trustees_json(session: Session, row: KeyCeremony) -> list[dict[str, Any]]:
    """The trustees in index order, as `trustees.named` gives them."""
    names = {d.id: (d.employee_id, d.name, g) for d, g in session.execute(
        sa.select(Delegate, Group.name).join(Group, Delegate.group_id == Group.id)
        .where(Delegate.id.in_([t.delegate_id for t in row.trustees])))}
    return [{"index": t.index, "employee_id": names[t.delegate_id][0], "name": names[t.delegate_id][1],
             "group": names[t.delegate_id][2]} for t in row.trustees]


def ceremony_messages(session: Session, ceremony_id: int) -> dict[int, dict[int, dict[str, Any]]]:
    """round -> trustee index -> message"""
    out: dict[int, dict[int, dict[str, Any]]] = {1: {}, 2: {}, 3: {}}
    for m in session.scalars(sa.select(TrusteeMessage).where(TrusteeMessage.ceremony_id == ceremony_id)):
        out[m.round][m.trustee_index] = m.content
    return out


def ceremony_json(session: Session, row: KeyCeremony, actor: Actor) -> dict[str, Any]:
    """A ceremony as the pages keep it; `my_index` is the viewer's own, if they are a trustee. A failed
    ceremony's complaint is its round-3 message (web/js/trustees.js complaintOf)."""
    mine = next((t.index for t in row.trustees
                 if actor.delegate_id is not None and t.delegate_id == actor.delegate_id), None)
    messages = ceremony_messages(session, row.id)
    return {
        "ceremony_id": row.id, "congress_id": row.congress_id, "threshold": row.threshold,
        "trustee_count": len(row.trustees), "status": row.status, "public_key": row.public_key,
        "trustees": trustees_json(session, row), "my_index": mine,
        "messages": {str(r): {str(i): m for i, m in ms.items()} for r, ms in messages.items()}}


def ceremony_snapshot(session: Session, congress_id: int, actor: Actor) -> dict[str, Any] | None:
    row = latest_ceremony(session, congress_id)
    return ceremony_json(session, row, actor) if row is not None else None
