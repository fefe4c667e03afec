"""Attendance as the pages read it: present and expected per group, and whether a delegate is in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.db.models import Attendance, Delegate, Group
from congress.domain.kinds import VOTING_TYPE


@dataclass(frozen=True, slots=True)
class GroupAttendance:
    group_id: int
    name: str
    eligible: int  # 应到: active voting delegates
    present: int  # 实到: voting delegates checked in and not left
    present_non_voting: int


def attendance_by_group(session: Session, congress_id: int) -> list[GroupAttendance]:
    is_voting = Delegate.delegate_type == VOTING_TYPE
    present = (sa.select(Attendance.delegate_id).where(Attendance.congress_id == congress_id,
                                                        Attendance.checked_out_at.is_(None)).subquery())
    rows = session.execute(
        sa.select(Group.id, Group.name,
                  sa.func.count(Delegate.id).filter(is_voting),
                  sa.func.count(present.c.delegate_id).filter(is_voting),
                  sa.func.count(present.c.delegate_id).filter(~is_voting))
        .select_from(Group)
        .outerjoin(Delegate, (Delegate.group_id == Group.id) & Delegate.is_active)
        .outerjoin(present, present.c.delegate_id == Delegate.id)
        .where(Group.congress_id == congress_id).group_by(Group.id, Group.name, Group.position)
        .order_by(Group.position)
    )
    return [GroupAttendance(*row) for row in rows]


def attendance_json(groups: list[GroupAttendance]) -> dict[str, Any]:
    return {
        "groups": [{"group_id": g.group_id, "name": g.name, "eligible": g.eligible, "present": g.present}
                   for g in groups],
        "eligible": sum(g.eligible for g in groups),
        "present": sum(g.present for g in groups),
    }


def is_present(session: Session, delegate_id: int) -> bool:
    return open_stay(session, delegate_id) is not None


def open_stay(session: Session, delegate_id: int) -> Attendance | None:
    return session.scalar(sa.select(Attendance).where(Attendance.delegate_id == delegate_id,
                                                      Attendance.checked_out_at.is_(None)))
