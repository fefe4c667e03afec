"""Read-only views for the staff pages: lists that the snapshot does not carry.

The snapshot is what everyone may see of a congress; the check-in desk and the vote desk need
more (every delegate with their check-in state, the hand counts a group has entered). Each view
checks READ_STAFF_VIEWS first, reads in the caller's read transaction, and writes nothing.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from congress.db.models import Attendance, Congress, Delegate, Group, GroupCount, Vote
from congress.db.secrets import HMAC_PREFIX
from congress.domain.commands import Command, Key, ListOf, Obj, Param
from congress.domain.errors import DomainError
from congress.domain.kinds import VOTING_TYPE, GroupMode
from congress.domain.permissions import Permission
from congress.reads.context import ReadContext
from congress.reads.embedding import embed_origins

MAX_ROWS = 2000


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def list_delegates(ctx: ReadContext, congress_id: int, query: str | None = None, group_id: int | None = None,
                   limit: int | None = None) -> dict[str, Any]:
    """Every active delegate with their latest stay: for the check-in desk (search by 工号 or 姓名)."""
    ctx.actor.require(Permission.READ_STAFF_VIEWS)
    congress = ctx.get(Congress, congress_id, "职代会")
    select = (sa.select(Delegate, Group.name).join(Group, Delegate.group_id == Group.id)
              .where(Delegate.congress_id == congress_id, Delegate.is_active)
              .order_by(Group.position, Delegate.employee_id))
    text = (query or "").strip()
    if text:
        pattern = f"%{text.replace('%', '').replace('_', '')}%"
        select = select.where(sa.or_(Delegate.employee_id.ilike(pattern), Delegate.name.like(pattern)))
    if group_id is not None:
        group = ctx.session.get(Group, group_id)
        if group is None or group.congress_id != congress_id:
            raise DomainError("not_found", f"本次职代会没有这个代表团(组)（编号 {group_id}）")
        select = select.where(Delegate.group_id == group_id)
    rows = list(ctx.session.execute(select.limit(max(1, min(limit or MAX_ROWS, MAX_ROWS)))))
    stays: dict[int, Attendance] = {}
    for each in ctx.session.scalars(sa.select(Attendance).where(Attendance.congress_id == congress_id)
                                    .order_by(Attendance.checked_in_at, Attendance.id)):
        stays[each.delegate_id] = each  # the latest stay wins
    delegates = []
    for delegate, group_name in rows:
        stay = stays.get(delegate.id)
        delegates.append({
            "delegate_id": delegate.id, "employee_id": delegate.employee_id, "name": delegate.name,
            "group_id": delegate.group_id, "group": group_name, "unit": delegate.unit,
            "delegate_type": delegate.delegate_type, "is_voting": delegate.delegate_type == VOTING_TYPE,
            "is_group_leader": delegate.is_group_leader,
            "is_checked_in": stay is not None and stay.checked_out_at is None,
            "checked_in_at": _iso(stay.checked_in_at) if stay else None,
            "method": stay.method if stay else None, "reason": stay.reason if stay else None,
            "checked_out_at": _iso(stay.checked_out_at) if stay else None,
            "checkout_reason": stay.checkout_reason if stay else None,
        })
    is_closed = congress.check_in_closes_at is not None and ctx.now >= congress.check_in_closes_at
    return {"delegates": delegates, "is_check_in_closed": is_closed, "at": ctx.now.isoformat()}


def list_group_counts(ctx: ReadContext, congress_id: int, vote_id: int) -> dict[str, Any]:
    """The hand counts entered for a vote, and which hand-counted groups have not reported yet."""
    ctx.actor.require(Permission.READ_STAFF_VIEWS)
    vote = ctx.find(Vote, vote_id, congress_id, f"本次职代会没有这项表决（编号 {vote_id}）")
    names = dict(ctx.session.execute(sa.select(Group.id, Group.name).where(Group.congress_id == congress_id)).all())
    counts = [{"group_id": c.group_id, "group": names.get(c.group_id, ""), "method": c.method, "figures": c.figures,
               "scrutineer": c.scrutineer, "entered_by": c.entered_by, "entered_at": _iso(c.entered_at)}
              for c in ctx.session.scalars(sa.select(GroupCount).where(GroupCount.vote_id == vote.id)
                                           .order_by(GroupCount.group_id))]
    reported = {c["group_id"] for c in counts}
    hand_counted = sorted(int(g) for g, mode in vote.group_modes.items() if mode == GroupMode.HAND_COUNT)
    return {"vote_id": vote.id, "counts": counts,
            "missing": [{"group_id": g, "group": names.get(g, "")} for g in hand_counted if g not in reported]}


def congress_setup(ctx: ReadContext, congress_id: int) -> dict[str, Any]:
    """What the setup form shows that the snapshot does not: the watch mode and each group's roll."""
    ctx.actor.require(Permission.READ_STAFF_VIEWS)
    congress = ctx.get(Congress, congress_id, "职代会")
    is_voting = Delegate.delegate_type == VOTING_TYPE
    rolls = {gid: (voting, non_voting, leaders) for gid, voting, non_voting, leaders in ctx.session.execute(
        sa.select(Delegate.group_id, sa.func.count().filter(is_voting), sa.func.count().filter(~is_voting),
                  sa.func.count().filter(Delegate.is_group_leader))
        .where(Delegate.congress_id == congress_id, Delegate.is_active).group_by(Delegate.group_id))}
    groups = [{"id": g.id, "name": g.name, "position": g.position, "voting": rolls.get(g.id, (0, 0, 0))[0],
               "non_voting": rolls.get(g.id, (0, 0, 0))[1], "leaders": rolls.get(g.id, (0, 0, 0))[2]}
              for g in ctx.session.scalars(sa.select(Group).where(Group.congress_id == congress_id)
                                           .order_by(Group.position))]
    return {"congress_id": congress.id, "name": congress.name, "watch_mode": congress.watch_mode,
            # an argon2 hash from an older version is no link this server checks: staff issue a new one
            "has_watch_token": (congress.watch_token_hash or "").startswith(HMAC_PREFIX), "groups": groups,
            "stream": {"kind": congress.stream_kind, "url": congress.stream_url,
                       "delay_seconds": congress.stream_delay_seconds},
            "check_in": {"opens_at": _iso(congress.check_in_opens_at), "closes_at": _iso(congress.check_in_closes_at)},
            "filing": {"opens_at": _iso(congress.filing_opens_at), "closes_at": _iso(congress.filing_closes_at)},
            "rules": congress.rules, "embed_origins": list(embed_origins(ctx.session, congress_id))}


_WINDOW = Obj((Key("opens_at", str), Key("closes_at", str)))

COMMANDS: tuple[Command, ...] = (
    Command("list_delegates", list_delegates, (Param("query", str, False, "工号或姓名的一部分"),
                                               Param("group_id", int, False), Param("limit", int, False)),
            "代表名单及签到状态（签到台）", writes=False,
            result=Obj((Key("delegates", ListOf(Obj((
                Key("delegate_id", int), Key("employee_id", str), Key("name", str), Key("group_id", int),
                Key("group", str), Key("unit", str), Key("delegate_type", str), Key("is_voting", bool),
                Key("is_group_leader", bool), Key("is_checked_in", bool), Key("checked_in_at", str),
                Key("method", str, "self / desk"), Key("reason", str), Key("checked_out_at", str),
                Key("checkout_reason", str))))), Key("is_check_in_closed", bool), Key("at", str)),
                       "the check-in desk's list (at most 2,000)"),
            errors=("not_found",), permissions=(Permission.READ_STAFF_VIEWS,)),
    Command("list_group_counts", list_group_counts, (Param("vote_id", int),),
            "某次表决已报送的现场计票及未报送的代表团(组)", writes=False,
            result=Obj((Key("vote_id", int), Key("counts", ListOf(Obj((
                Key("group_id", int), Key("group", str), Key("method", str),
                Key("figures", dict, "as in enter_group_count's result"), Key("scrutineer", str),
                Key("entered_by", str), Key("entered_at", str))))),
                Key("missing", ListOf(Obj((Key("group_id", int), Key("group", str)))),
                    "hand-counted groups not yet reported"))),
            errors=("not_found",), permissions=(Permission.READ_STAFF_VIEWS,)),
    Command("congress_setup", congress_setup, (), "本次职代会的设置（观看方式、各代表团(组)人数）", writes=False,
            result=Obj((Key("congress_id", int), Key("name", str), Key("watch_mode", str), Key("has_watch_token", bool),
                        Key("groups", ListOf(Obj((Key("id", int), Key("name", str), Key("position", int),
                                                  Key("voting", int), Key("non_voting", int), Key("leaders", int))))),
                        Key("stream", Obj((Key("kind", str), Key("url", str), Key("delay_seconds", int)))),
                        Key("check_in", _WINDOW), Key("filing", _WINDOW), Key("rules", dict),
                        Key("embed_origins", ListOf(str))), "what the setup form shows beyond the snapshot"),
            errors=("not_found",), permissions=(Permission.READ_STAFF_VIEWS,)),
)
