"""Entering a hand-counted group's figures (分组计票) during a vote, by its leader or staff."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from congress.actions.base import Context
from congress.db.models import Group, GroupCount, Vote
from congress.domain.errors import DomainError
from congress.domain.kinds import Audience, GroupMode, QuestionKind, VoteStatus
from congress.domain.permissions import Permission
from congress.reads.votes import group_rolls
from congress.tally import GroupTally, validate_group_count


def enter_group_count(ctx: Context, congress_id: int, vote_id: int, group_id: int, method: str,
                      present: int, questions: dict[str, Any], scrutineer: str) -> dict[str, Any]:
    """A hand-counted group's figures, by its leader or staff, with the group's scrutineer."""
    ctx.actor.require(Permission.ENTER_GROUP_COUNT, group_id=group_id)
    vote = ctx.session.get(Vote, vote_id)
    if vote is None or vote.congress_id != congress_id:
        raise DomainError("not_found", f"找不到表决（编号 {vote_id}）")
    group = ctx.session.get(Group, group_id)
    if group is None or group.congress_id != congress_id:  # staff name any group: it must be this congress's
        raise DomainError("not_found", f"本次职代会没有这个代表团(组)（编号 {group_id}）")
    if vote.status != VoteStatus.OPEN:
        raise DomainError("vote_not_open", "只能在表决进行中报送现场计票")
    if vote.group_modes.get(str(group_id)) != GroupMode.HAND_COUNT:
        raise DomainError("group_votes_online", "本代表团(组)本次表决为网上投票，不能同时报送现场计票")
    if not scrutineer.strip():
        raise DomainError("bad_field", "请填写本组监票人", params={"field": "scrutineer"})
    name, eligible, checked_in = group_rolls(ctx.session, vote)[group_id]
    is_void_round, words = False, []
    figures: dict[str, Any] = {"present": present, "questions": {}}
    for question in vote.questions:
        qid = str(question.id)
        spec = questions.get(qid)
        if not isinstance(spec, dict) or not isinstance(spec.get("counts"), dict):
            raise DomainError("bad_field", f"缺少“{question.text}”的计票数字", params={"field": "questions"})
        counts = {o.key: _count(spec["counts"].get(o.key, 0), o.label) for o in question.options}
        if method == "show_of_hands":
            entry = GroupTally.show_of_hands(str(group_id), eligible, present, counts)
            stored: dict[str, Any] = {"counts": counts}
        else:
            numbers = {k: _count(spec.get(k), k) for k in ("issued", "returned", "valid", "void")}
            entry = GroupTally(str(group_id), eligible, present, counts=counts, **numbers)
            stored = {**numbers, "counts": counts}
        check = validate_group_count(entry, checked_in, vote.is_secret, method,
                                     question.seats if question.kind == QuestionKind.ELECTION else None)
        is_void_round = is_void_round or check.is_void_round
        words.append(check.words)
        figures["questions"][qid] = stored
    figures["is_void_round"] = is_void_round
    row = ctx.session.scalar(sa.select(GroupCount).where(GroupCount.vote_id == vote.id, GroupCount.group_id == group_id))
    if row is None:
        row = GroupCount(vote_id=vote.id, group_id=group_id)
        ctx.session.add(row)
    row.method, row.figures, row.scrutineer = method, figures, scrutineer.strip()
    row.entered_by, row.entered_at = ctx.actor.name, ctx.now
    ctx.session.flush()
    payload = {"vote_id": vote.id, "group_id": group_id, "group": name, "method": method, "figures": figures,
               "scrutineer": row.scrutineer, "entered_by": row.entered_by, "words": words}
    ctx.emit(congress_id, "group_count.entered", payload, Audience.GROUP, group_id)
    return payload


def _count(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise DomainError("bad_field", f"“{what}”应为不小于 0 的整数", params={"field": "questions"})
    return value

