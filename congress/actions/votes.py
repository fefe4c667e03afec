"""Votes (表决): create, open (with quorum), close (tally), certify, publish, cancel, repeat."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.actions.base import Context
from congress.actions.results import RESULT, compute_result
from congress.actions.sealed_tally import HASHES_PER_EVENT, seal_tally, sealed_hashes
from congress.actions.trustees import ready_ceremony
from congress.db.models import (
    AgendaItem,
    Congress,
    Group,
    GroupCount,
    Option,
    Question,
    Vote,
)
from congress.domain.commands import Command, Key, ListOf, MapOf, Obj, Param
from congress.domain.errors import DomainError
from congress.domain.kinds import Audience, GroupMode, QuestionKind, VoteStatus
from congress.domain.permissions import Permission
from congress.domain.rules import CongressRules, parse_fraction
from congress.domain.votes import VoteStep, next_status
from congress.reads.attendance import attendance_by_group
from congress.reads.votes import vote_json
from congress.tally import check_quorum
from congress.tally.motion import YesNo

YES_NO_LABELS = {YesNo.YES: "赞成", YesNo.NO: "反对", YesNo.ABSTAIN: "弃权"}
DEFAULT_SCALE = ["称职", "基本称职", "不称职"]
BASES = ("all_voting", "present", "cast")



def _build_question(position: int, spec: dict[str, Any]) -> Question:
    kind = spec.get("kind", QuestionKind.YES_NO)
    text = str(spec.get("text", "")).strip()
    if kind not in tuple(QuestionKind):
        raise DomainError("bad_field", f"第 {position + 1} 个事项的类型应为 yes_no / election / rating",
                          params={"field": "questions[].kind"})
    if not text:
        raise DomainError("bad_field", f"第 {position + 1} 个事项缺少内容", params={"field": "questions[].text"})
    basis = spec.get("basis", "all_voting")
    if basis not in BASES:
        raise DomainError("bad_field", "计票基数应为 all_voting（全体代表）/ present（实到）/ cast（参加表决）",
                          params={"field": "questions[].basis"})
    threshold = str(spec.get("threshold", "1/2"))
    parse_fraction(threshold, "threshold", "questions[].threshold")
    question = Question(position=position, kind=kind, text=text, basis=basis, threshold=threshold,
                        is_strict=bool(spec.get("is_strict", True)))
    if kind == QuestionKind.YES_NO:
        labels = [(k.value, YES_NO_LABELS[k]) for k in YesNo]
    elif kind == QuestionKind.ELECTION:
        candidates = [str(c).strip() for c in spec.get("candidates", []) if str(c).strip()]
        seats = spec.get("seats")
        if not isinstance(seats, int) or seats < 1:
            raise DomainError("bad_field", f"选举事项“{text}”需要应选名额（seats ≥ 1）", params={"field": "questions[].seats"})
        if len(candidates) < seats:
            raise DomainError("bad_field", f"选举事项“{text}”的候选人（{len(candidates)} 人）少于应选名额（{seats}）",
                              params={"field": "questions[].candidates"})
        if len(set(candidates)) != len(candidates):
            raise DomainError("bad_field", f"选举事项“{text}”的候选人有重复", params={"field": "questions[].candidates"})
        question.seats, question.allows_write_in = seats, bool(spec.get("allows_write_in", False))
        labels = [(c, c) for c in candidates]
    else:
        scale = [str(s).strip() for s in spec.get("scale") or DEFAULT_SCALE if str(s).strip()]
        if len(scale) < 2 or len(set(scale)) != len(scale):
            raise DomainError("bad_field", f"评议事项“{text}”的等级至少两个且不能重复", params={"field": "questions[].scale"})
        labels = [(s, s) for s in scale]
    question.options = [Option(position=i, key=k, label=label) for i, (k, label) in enumerate(labels)]
    return question


def create_vote(ctx: Context, congress_id: int, agenda_item_id: int, title: str, questions: list[Any],
                is_secret: bool = False, is_changeable: bool = False, shows_live_counts: bool = False,
                shows_voters_publicly: bool = False, closes_after_seconds: int | None = None,
                hand_count_groups: list[Any] | None = None) -> dict[str, Any]:
    """A draft vote that states its rules before it opens."""
    ctx.actor.require(Permission.RUN_VOTE)
    item = ctx.find(AgendaItem, agenda_item_id, congress_id, f"本次职代会没有这项议程（编号 {agenda_item_id}）")
    if not questions:
        raise DomainError("bad_field", "表决至少要有一个事项", params={"field": "questions"})
    if is_secret and is_changeable:
        # A secret ballot has no link back to its voter, so it cannot be found again to change.
        raise DomainError("bad_field", "无记名投票不能设置为“截止前可修改”", params={"field": "is_changeable"})
    if is_secret and shows_voters_publicly:
        raise DomainError("bad_field", "无记名投票不能公开投票人", params={"field": "shows_voters_publicly"})
    if is_secret and any(isinstance(q, dict) and q.get("allows_write_in") for q in questions):
        # A written-in name cannot be encrypted as a mark and counted without opening the ballot.
        raise DomainError("bad_field", "无记名（加密）选举不能设置“另选他人”：请把所有候选人列入选票", params={"field": "questions[].allows_write_in"})
    if closes_after_seconds is not None and not 10 <= closes_after_seconds <= 24 * 3600:
        raise DomainError("bad_field", "自动截止时间应在 10 秒到 24 小时之间", params={"field": "closes_after_seconds"})
    group_ids = set(ctx.session.scalars(sa.select(Group.id).where(Group.congress_id == congress_id)))
    modes = {}
    for group_id in hand_count_groups or []:
        if not isinstance(group_id, int) or isinstance(group_id, bool):
            raise DomainError("bad_field", "字段 hand_count_groups 应为代表团(组)编号的列表",
                              params={"field": "hand_count_groups"})
        if group_id not in group_ids:
            raise DomainError("not_found", f"本次职代会没有这个代表团(组)（编号 {group_id}）")
        modes[str(group_id)] = GroupMode.HAND_COUNT.value
    round_ = ctx.next_number(congress_id, Vote.round, Vote.agenda_item_id == agenda_item_id)
    vote = Vote(congress_id=congress_id, agenda_item_id=agenda_item_id, round=round_,
                title=title.strip() or item.title, is_secret=is_secret, is_changeable=is_changeable,
                shows_live_counts=shows_live_counts, shows_voters_publicly=shows_voters_publicly,
                closes_after_seconds=closes_after_seconds, group_modes=modes, created_at=ctx.now,
                questions=[_build_question(i, q if isinstance(q, dict) else {}) for i, q in enumerate(questions)])
    ctx.session.add(vote)
    ctx.session.flush()
    ctx.emit(congress_id, "vote.created", vote_json(vote), Audience.STAFF)
    return vote_json(vote)


def _vote(ctx: Context, congress_id: int, vote_id: int) -> Vote:
    return ctx.find(Vote, vote_id, congress_id, f"本次职代会没有这项表决（编号 {vote_id}）")


def _step(vote: Vote, step: VoteStep) -> VoteStatus:
    """The vote's status after `step` (congress.domain.votes), or bad_vote_state naming its status now."""
    return next_status(vote.status, step, vote.title)


def quorum_now(session: Session, congress: Congress) -> Any:
    rules = CongressRules.from_json(congress.rules)
    groups = attendance_by_group(session, congress.id)
    return check_quorum(sum(g.present for g in groups), sum(g.eligible for g in groups),
                        rules.quorum_fraction, rules.quorum_inclusive)


def open_vote(ctx: Context, congress_id: int, vote_id: int) -> dict[str, Any]:
    ctx.actor.require(Permission.RUN_VOTE)
    vote = _vote(ctx, congress_id, vote_id)
    opened = _step(vote, VoteStep.OPEN)
    congress = ctx.get(Congress, congress_id, "职代会")
    quorum = quorum_now(ctx.session, congress)
    if not quorum.met:
        raise DomainError("quorum_not_met", quorum.words)
    if vote.is_secret:
        ceremony = ready_ceremony(ctx.session, congress_id)
        if ceremony is None:
            raise DomainError("no_trustee_key", "无记名投票须先由监票人生成密钥（工作人员指定监票人，监票人各自完成三步）")
        vote.ceremony_id, vote.ceremony = ceremony.id, ceremony
    vote.status, vote.opened_at = opened.value, ctx.now
    if vote.closes_after_seconds:
        vote.closes_at = ctx.now + timedelta(seconds=vote.closes_after_seconds)
    payload = {**vote_json(vote), "quorum": quorum.words}
    ctx.emit(congress_id, "vote.opened", payload)
    return payload


def close_vote(ctx: Context, congress_id: int, vote_id: int) -> dict[str, Any]:
    """Count from the stored ballots and group counts and store the result; staff see it at once."""
    ctx.actor.require(Permission.RUN_VOTE)
    vote = _vote(ctx, congress_id, vote_id)
    # Fix: lock the vote row before counting, so ballots still in flight on another worker (they hold
    # a share lock, see ballots._open_vote) commit first and are counted; the lock also re-reads status.
    ctx.session.refresh(vote, with_for_update=True)
    closed = _step(vote, VoteStep.CLOSE)
    hand_counted = {int(g) for g, mode in vote.group_modes.items() if mode == GroupMode.HAND_COUNT}
    reported = set(ctx.session.scalars(sa.select(GroupCount.group_id).where(GroupCount.vote_id == vote.id)))
    missing = hand_counted - reported
    if missing:
        names = ctx.session.scalars(sa.select(Group.name).where(Group.id.in_(missing)).order_by(Group.position))
        raise DomainError("group_counts_missing", f"以下代表团(组)尚未报送现场计票：{'、'.join(names)}")
    congress = ctx.get(Congress, congress_id, "职代会")
    if vote.is_secret:
        # Nobody can count a sealed vote alone: the sums wait for the trustees' decryption shares.
        vote.status, vote.closed_at = closed.value, ctx.now
        sealed = seal_tally(ctx.session, vote)
        ctx.emit(congress_id, "vote.closed", {"vote_id": vote.id, "at": ctx.now.isoformat(),
                                              "cast": sealed["ballots"]})
        # The public board: every ballot's hash, in parts that keep each event well under the
        # 64 KB of an events message; then the sums and the digest of the whole list.
        hashes = sealed_hashes(ctx.session, vote)
        parts = [hashes[i:i + HASHES_PER_EVENT] for i in range(0, len(hashes), HASHES_PER_EVENT)] or [[]]
        for number, part in enumerate(parts, start=1):
            ctx.emit(congress_id, "tally.ballots", {"vote_id": vote.id, "part": number, "of": len(parts),
                                                    "hashes": part})
        ctx.emit(congress_id, "tally.sealed", {"vote_id": vote.id, **sealed})
        return {"vote_id": vote.id, "result": None, "awaiting_trustees": True}
    vote.result = compute_result(ctx.session, vote, CongressRules.from_json(congress.rules))
    vote.status, vote.closed_at = closed.value, ctx.now
    ctx.emit(congress_id, "vote.closed", {"vote_id": vote.id, "at": ctx.now.isoformat(),
                                          "cast": vote.result["cast"]})
    ctx.emit(congress_id, "vote.tallied", {"vote_id": vote.id, "result": vote.result}, Audience.STAFF)
    return {"vote_id": vote.id, "result": vote.result}


def certify_vote(ctx: Context, congress_id: int, vote_id: int, scrutineer: str) -> dict[str, Any]:
    """The chief scrutineer (总监票人) certifies the stored count."""
    ctx.actor.require(Permission.RUN_VOTE)
    vote = _vote(ctx, congress_id, vote_id)
    _step(vote, VoteStep.CERTIFY)  # the status stays closed; the count is marked certified
    if vote.result is None:
        raise DomainError("awaiting_trustees", "监票人尚未完成解密，还没有计票结果可以确认")
    if not scrutineer.strip():
        raise DomainError("bad_field", "请填写总监票人姓名", params={"field": "scrutineer"})
    vote.certified_at, vote.certified_by = ctx.now, scrutineer.strip()
    payload = {"vote_id": vote.id, "certified_by": vote.certified_by, "at": ctx.now.isoformat()}
    ctx.emit(congress_id, "vote.certified", payload)
    return payload


def publish_vote(ctx: Context, congress_id: int, vote_id: int) -> dict[str, Any]:
    ctx.actor.require(Permission.RUN_VOTE)
    vote = _vote(ctx, congress_id, vote_id)
    published = _step(vote, VoteStep.PUBLISH)
    if vote.certified_at is None:
        raise DomainError("not_certified", "计票结果须经总监票人确认后才能公布")
    vote.status, vote.published_at = published.value, ctx.now
    payload = {"vote_id": vote.id, "result": vote.result, "certified_by": vote.certified_by}
    # with_record: the payload also carries "record": {"seq", "hash"}, the head of the record just before
    # this event (seq - 1), so every published result names a head that watchers can note (docs/records.md)
    return ctx.emit(congress_id, "vote.published", payload, with_record=True).payload


def cancel_vote(ctx: Context, congress_id: int, vote_id: int, reason: str) -> dict[str, Any]:
    ctx.actor.require(Permission.RUN_VOTE)
    vote = _vote(ctx, congress_id, vote_id)
    cancelled = _step(vote, VoteStep.CANCEL)
    if not reason.strip():
        raise DomainError("bad_field", "取消表决须说明原因", params={"field": "reason"})
    vote.status = cancelled.value
    payload = {"vote_id": vote.id, "reason": reason.strip()}
    ctx.emit(congress_id, "vote.cancelled", payload)
    return payload


def repeat_vote(ctx: Context, congress_id: int, vote_id: int) -> dict[str, Any]:
    """A new round with the same questions; the earlier round stays as it was."""
    ctx.actor.require(Permission.RUN_VOTE)
    vote = _vote(ctx, congress_id, vote_id)
    _step(vote, VoteStep.REPEAT)  # a new vote beside this one, which stays as it was
    specs = [{"kind": q.kind, "text": q.text, "seats": q.seats, "allows_write_in": q.allows_write_in,
              "basis": q.basis, "threshold": q.threshold, "is_strict": q.is_strict,
              "candidates": [o.label for o in q.options], "scale": [o.label for o in q.options]}
             for q in vote.questions]
    hand = [int(g) for g, m in vote.group_modes.items() if m == GroupMode.HAND_COUNT]
    return create_vote(ctx, congress_id, vote.agenda_item_id, vote.title, specs, vote.is_secret,
                       vote.is_changeable, vote.shows_live_counts, vote.shows_voters_publicly,
                       vote.closes_after_seconds, hand)



def fraction_text(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


# The shapes the protocol describes (docs/protocol.md); the result's is congress.actions.results.RESULT
QUESTION = Obj((
    Key("kind", str, "yes_no (default) / election / rating", False), Key("text", str),
    Key("candidates", ListOf(str), "election: the candidates", False),
    Key("seats", int, "election: how many to elect", False),
    Key("allows_write_in", bool, "election: 另选他人 (not for a secret vote)", False),
    Key("scale", ListOf(str), "rating: the grades (default 称职 / 基本称职 / 不称职)", False),
    Key("basis", str, "the rule's denominator: all_voting (default) / present / cast", False),
    Key("threshold", str, "\"1/2\" (default), \"2/3\", …", False),
    Key("is_strict", bool, "true (default): more than; false: at least", False)), "一个事项 (*Questions*)")
VOTE = Obj((
    Key("id", int), Key("agenda_item_id", int), Key("round", int), Key("title", str),
    Key("status", str, "draft / open / closed / certified / published / cancelled"), Key("is_secret", bool),
    Key("is_changeable", bool), Key("shows_live_counts", bool), Key("closes_after_seconds", int),
    Key("group_modes", MapOf("group id", str, "online / hand_count")), Key("opened_at", str), Key("closes_at", str),
    Key("certified_by", str), Key("sealing", Obj((Key("ceremony_id", int), Key("public_key", str))),
                                      "a secret vote: what the phone encrypts with, else null"),
    Key("questions", ListOf(Obj((
        Key("id", int), Key("kind", str), Key("text", str), Key("seats", int), Key("allows_write_in", bool),
        Key("rule", Obj((Key("basis", str), Key("threshold", str), Key("is_strict", bool)))),
        Key("options", ListOf(Obj((Key("key", str), Key("label", str))))))))),
), "the vote (as in the snapshot)")
_VOTE_ID = Param("vote_id", int)

COMMANDS: tuple[Command, ...] = (
    Command("create_vote", create_vote, (
        Param("agenda_item_id", int), Param("title", str),
        Param("questions", list, doc="事项列表", shape=ListOf(QUESTION)),
        Param("is_secret", bool, False), Param("is_changeable", bool, False), Param("shows_live_counts", bool, False),
        Param("shows_voters_publicly", bool, False), Param("closes_after_seconds", int, False),
        Param("hand_count_groups", list, False, doc="现场计票的代表团(组)", shape=ListOf(int, "group ids"))),
        "创建表决（草稿）", result=Obj(VOTE.keys, "a draft vote; see *Questions*"),
        errors=("bad_field", "not_found"), permissions=(Permission.RUN_VOTE,)),
    Command("open_vote", open_vote, (_VOTE_ID,), "开始表决（须达到法定人数）",
            result=Obj((*VOTE.keys, Key("quorum", str, "the quorum in words")),
                       "refused without quorum, with the reason in words"),
            errors=("bad_field", "bad_vote_state", "count_exceeds_total", "invalid_threshold", "negative_count",
                    "no_trustee_key", "not_found", "quorum_not_met"), permissions=(Permission.RUN_VOTE,),
            readies_checks=lambda reply: bool(reply.get("sealing"))),  # a secret vote: sealed ballots follow
    Command("close_vote", close_vote, (_VOTE_ID,), "截止表决并计票",
            result=Obj((Key("vote_id", int), Key("result", RESULT, "null while a secret vote awaits its trustees"),
                        Key("awaiting_trustees", bool, "a secret vote: true", False)),
                       "counts and stores the result (staff see it); a secret vote adds up the sealed ballots per "
                       "pool of groups and waits for the trustees"),
            errors=("bad_field", "bad_vote_state", "ballots_exceed_present", "count_exceeds_total", "duplicate_group",
                    "group_counts_missing", "invalid_question", "invalid_scale", "invalid_seats", "invalid_threshold",
                    "negative_count", "not_found", "unknown_group", "unknown_option", "unknown_question"),
            permissions=(Permission.RUN_VOTE,)),
    Command("certify_vote", certify_vote, (_VOTE_ID, Param("scrutineer", str, doc="总监票人")), "总监票人确认计票结果",
            result=Obj((Key("vote_id", int), Key("certified_by", str), Key("at", str))),
            errors=("awaiting_trustees", "bad_field", "bad_vote_state", "not_found"), permissions=(Permission.RUN_VOTE,)),
    Command("publish_vote", publish_vote, (_VOTE_ID,), "公布表决结果",
            result=Obj((Key("vote_id", int), Key("result", RESULT), Key("certified_by", str),
                        Key("record", Obj((Key("seq", int), Key("hash", str))), "the record's head just before")),
                       "the result becomes public; needs certification"),
            errors=("bad_vote_state", "not_certified", "not_found"), permissions=(Permission.RUN_VOTE,)),
    Command("cancel_vote", cancel_vote, (_VOTE_ID, Param("reason", str)), "取消表决",
            result=Obj((Key("vote_id", int), Key("reason", str))),
            errors=("bad_field", "bad_vote_state", "not_found"), permissions=(Permission.RUN_VOTE,)),
    Command("repeat_vote", repeat_vote, (_VOTE_ID,), "重新表决（新一轮）",
            result=Obj(VOTE.keys, "a new round (a new draft vote) with the same questions"),
            errors=("bad_field", "bad_vote_state", "not_found"), permissions=(Permission.RUN_VOTE,)),
)
