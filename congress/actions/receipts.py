"""Ballot receipts (投票回执): a delegate checks that their ballot was counted as cast.

Casting a ballot answers with a receipt code (congress.actions.ballots.new_receipt), shown once to
the delegate. These read-only commands let

- a delegate see their own stored answers in a named (记名) vote (`my_ballot`);
- anyone, observers included, look a receipt up (`check_receipt`): whether a ballot with it is in
  the counted set of the vote, and — for a secret vote, once the result is published — that
  ballot's answers, with no voter;
- anyone, once the result is published, read the list of receipts (`receipts`), with their
  answers for a secret vote, in receipt order, never linked to a person.

A secret vote's ballots are sealed (docs/secrecy.md): the receipt is the start of the hash of the
ballot's ciphertexts, computed on the delegate's phone, 16 hex digits XXXX-XXXX-XXXX-XXXX. Looking it
up shows that the ballot is in the set that was added up and decrypted, never what it says: nobody
can read one sealed ballot, so a receipt cannot prove to anyone how its holder voted (docs/records.md).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from congress.actions.base import Context
from congress.db.models import Ballot, BallotCast, CommandResult, Congress, Group, SealedBallot, Vote
from congress.domain.commands import Command, Key, ListOf, MapOf, Obj, Param
from congress.domain.errors import DomainError
from congress.domain.kinds import QuestionKind, Role, VoteStatus
from congress.domain.permissions import Permission

RECEIPT_LENGTH = 12  # characters without the dashes: XXXX-XXXX-XXXX


def _vote(ctx: Context, congress_id: int, vote_id: int) -> Vote:
    vote = ctx.session.get(Vote, vote_id)
    hidden = vote is not None and vote.status == VoteStatus.DRAFT and not ctx.actor.may(Permission.RUN_VOTE)
    if vote is None or vote.congress_id != congress_id or hidden:
        raise DomainError("not_found", f"本次职代会没有这项表决（编号 {vote_id}）")
    return vote


SEALED_RECEIPT_LENGTH = 16  # hex digits of the sealed ballot's hash: XXXX-XXXX-XXXX-XXXX


def normalise_receipt(text: str, is_sealed: bool = False) -> str:
    """As printed (XXXX-XXXX-XXXX, or XXXX-XXXX-XXXX-XXXX for a secret vote), typed in lower case,
    with spaces or without dashes. A sealed ballot's full 64-digit hash is accepted too."""
    raw = "".join(c for c in text.upper() if c.isalnum())
    if is_sealed:
        if len(raw) not in (SEALED_RECEIPT_LENGTH, 64) or any(c not in "0123456789ABCDEF" for c in raw):
            raise DomainError("bad_field", "无记名投票的回执码应为 16 位十六进制字符，例如 3F2A-09C1-77B4-E05D",
                              params={"field": "receipt"})
        raw = raw[:SEALED_RECEIPT_LENGTH]
        return "-".join(raw[i:i + 4] for i in range(0, SEALED_RECEIPT_LENGTH, 4))
    if len(raw) != RECEIPT_LENGTH:
        raise DomainError("bad_field", "回执码应为 12 位字母和数字，例如 ABCD-EFGH-JK23", params={"field": "receipt"})
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _choices(vote: Vote, answers: dict[str, Any]) -> list[dict[str, Any]]:
    """The answers in words, question by question."""
    choices = []
    for question in vote.questions:
        labels = {o.key: o.label for o in question.options}
        answer = answers.get(str(question.id))
        if question.kind == QuestionKind.ELECTION:
            words = "、".join(str(a) for a in answer) if answer else "（未选任何人）"
        else:
            words = labels.get(answer, str(answer)) if answer is not None else "（未作选择）"
        choices.append({"question_id": question.id, "text": question.text, "answer": answer, "choice": words})
    return choices


def _counted_words(vote: Vote) -> tuple[bool, str]:
    if vote.status in (VoteStatus.CLOSED, VoteStatus.PUBLISHED):
        return True, "这张选票在本次表决的计票范围内，已按所投内容计入结果"
    if vote.status == VoteStatus.OPEN:
        return False, "这张选票已记录，表决截止时将计入结果"
    return False, "本次表决已取消，所有选票均未计票"


def my_ballot(ctx: Context, congress_id: int, vote_id: int) -> dict[str, Any]:
    """A delegate's own stored answers in a named vote."""
    if ctx.actor.role is not Role.DELEGATE or ctx.actor.delegate_id is None:
        raise DomainError("forbidden", "只有代表本人可以查看自己的选票")
    vote = _vote(ctx, congress_id, vote_id)
    if vote.is_secret and vote.ceremony_id is None:
        raise DomainError("secret_vote", "无记名投票不保存您与选票的对应关系；请用投票时得到的回执码核对（check_receipt）")
    if vote.is_secret:
        return _my_sealed_receipt(ctx, vote)
    ballot = ctx.session.scalar(sa.select(Ballot).where(Ballot.vote_id == vote.id,
                                                        Ballot.delegate_id == ctx.actor.delegate_id))
    if ballot is None:
        return {"vote_id": vote.id, "has_voted": False}
    is_counted, words = _counted_words(vote)
    return {"vote_id": vote.id, "has_voted": True, "receipt": ballot.receipt, "answers": ballot.answers,
            "choices": _choices(vote, ballot.answers),
            "updated_at": ballot.updated_at.isoformat() if ballot.updated_at else None,
            "is_counted": is_counted, "words": words}


def _my_sealed_receipt(ctx: Context, vote: Vote) -> dict[str, Any]:
    """A delegate's own receipt of a sealed ballot, again: the hash of ciphertexts their phone sent,
    kept as the reply to their cast command. It says nothing of the choice (docs/secrecy.md), so
    keeping it beside the delegate costs no secrecy; it lets them check their ballot after a reload."""
    has_voted = ctx.session.scalar(sa.select(BallotCast.id).where(
        BallotCast.vote_id == vote.id, BallotCast.delegate_id == ctx.actor.delegate_id)) is not None
    if not has_voted:
        return {"vote_id": vote.id, "has_voted": False}
    replies = ctx.session.scalars(sa.select(CommandResult.reply).where(
        CommandResult.principal == ctx.actor.principal).order_by(CommandResult.id))
    mine = next((r for r in replies if r.get("vote_id") == vote.id and r.get("ballot_hash")), None)
    if mine is None:  # cast without a command id (not through the pages): nothing was kept
        return {"vote_id": vote.id, "has_voted": True, "is_sealed": True, "receipt": None,
                "words": "您已投票；这张选票的回执只在投票时显示过，没有保存"}
    found = _check_sealed_receipt(ctx, vote, mine["receipt"])
    return {"vote_id": vote.id, "has_voted": True, "is_sealed": True, "receipt": mine["receipt"],
            "ballot_hash": mine["ballot_hash"], "is_counted": found["is_counted"], "words": found["words"]}


def check_receipt(ctx: Context, congress_id: int, vote_id: int, receipt: str) -> dict[str, Any]:
    """Anyone: is a ballot with this receipt in the counted set? For a secret vote, its answers too."""
    vote = _vote(ctx, congress_id, vote_id)
    code = normalise_receipt(receipt, vote.is_secret)
    if vote.is_secret:
        return _check_sealed_receipt(ctx, vote, code)
    row = ctx.session.execute(sa.select(Ballot, Group.name).join(Group, Ballot.group_id == Group.id)
                              .where(Ballot.vote_id == vote.id, Ballot.receipt == code)).first()
    if row is None:
        return {"vote_id": vote.id, "receipt": code, "found": False, "is_counted": False,
                "words": "没有找到这个回执码对应的选票，请核对回执码和表决是否正确"}
    ballot, group = row
    is_counted, words = _counted_words(vote)
    result: dict[str, Any] = {"vote_id": vote.id, "receipt": code, "found": True, "is_counted": is_counted,
                              "group": group, "words": words}
    return result


def _check_sealed_receipt(ctx: Context, vote: Vote, code: str) -> dict[str, Any]:
    prefix = code.replace("-", "").lower()
    rows = ctx.session.execute(sa.select(SealedBallot.hash, Group.name).join(Group, SealedBallot.group_id == Group.id)
                               .where(SealedBallot.vote_id == vote.id, SealedBallot.hash.startswith(prefix))).all()
    if not rows:
        return {"vote_id": vote.id, "receipt": code, "found": False, "is_counted": False, "is_sealed": True,
                "words": "没有找到这个回执码对应的选票，请核对回执码和表决是否正确"}
    is_counted, words = _counted_words(vote)
    if vote.status == VoteStatus.CLOSED and vote.result is None:
        words = "这张选票已计入加密合计，等待监票人解密"
    return {"vote_id": vote.id, "receipt": code, "found": True, "is_counted": is_counted, "is_sealed": True,
            "ballot_hash": rows[0][0], "group": rows[0][1],
            "words": words + "（选票已加密，任何人都看不到其中的选择）"}


def _is_published_for(ctx: Context, vote: Vote) -> bool:
    """Observers learn of a publication only once it is the stream's hold old (docs/streaming.md, "Each
    viewer in step"): the receipt list must not tell them a result is out before the picture does."""
    if vote.status != VoteStatus.PUBLISHED:
        return False
    if ctx.actor.role is not Role.OBSERVER or vote.published_at is None:
        return True
    hold = ctx.session.scalar(sa.select(Congress.stream_delay_seconds).where(Congress.id == vote.congress_id)) or 0
    return vote.published_at + timedelta(seconds=hold) <= ctx.now


def receipts(ctx: Context, congress_id: int, vote_id: int) -> dict[str, Any]:
    """The published receipt list: every counted receipt, with its answers for a secret vote."""
    vote = _vote(ctx, congress_id, vote_id)
    is_staff_early = vote.status == VoteStatus.CLOSED and ctx.actor.may(Permission.RUN_VOTE)
    if not _is_published_for(ctx, vote) and not is_staff_early:
        raise DomainError("not_published", "表决结果公布后才能查看回执清单")
    if vote.is_secret:  # sealed: hashes only, there is nothing readable to list
        sealed = ctx.session.execute(sa.select(SealedBallot.hash, Group.name).join(Group, SealedBallot.group_id == Group.id)
                                     .where(SealedBallot.vote_id == vote.id).order_by(SealedBallot.hash))
        listed = [{"receipt": normalise_receipt(h, True), "ballot_hash": h, "group": g} for h, g in sealed]
    else:
        rows = ctx.session.execute(sa.select(Ballot.receipt, Group.name).join(Group, Ballot.group_id == Group.id)
                                   .where(Ballot.vote_id == vote.id).order_by(Ballot.receipt))
        listed = [{"receipt": r, "group": g} for r, g in rows]  # named: the choice is with the name
    return {"vote_id": vote.id, "is_secret": vote.is_secret, "count": len(listed), "receipts": listed}


_VOTE_ID = Param("vote_id", int)

COMMANDS: tuple[Command, ...] = (
    Command("my_ballot", my_ballot, (_VOTE_ID,),
            "查看本人的选票（记名表决：所选内容；无记名表决：回执及是否计入，选择无人可见）", writes=False,
            result=Obj((Key("vote_id", int), Key("has_voted", bool),
                        Key("receipt", str, "null: a sealed ballot's receipt that was not kept", False),
                        Key("answers", MapOf("question id", None), "a named vote: as cast", False),
                        Key("choices", ListOf(None), "a named vote: the answers in words", False),
                        Key("updated_at", str, "a named vote", False), Key("is_sealed", bool, "a secret vote", False),
                        Key("ballot_hash", str, "a secret vote", False), Key("is_counted", bool, "", False),
                        Key("words", str, "", False)),
                       "the delegate's own ballot: a named vote's stored answers, receipt, whether counted; a secret "
                       "vote's receipt and whether it is counted, never what it says"),
            errors=("not_found", "secret_vote"), who="a delegate, their own ballot"),
    Command("check_receipt", check_receipt, (_VOTE_ID, Param("receipt", str, doc="回执码")),
            "核对回执：选票是否已计入（无记名投票的选票已加密，只显示是否计入）", writes=False,
            result=Obj((Key("vote_id", int), Key("receipt", str, "as normalised"), Key("found", bool),
                        Key("is_counted", bool), Key("group", str, "the ballot's group", False),
                        Key("is_sealed", bool, "a secret vote", False),
                        Key("ballot_hash", str, "a secret vote", False), Key("words", str)),
                       "a secret vote's receipt is the start of its sealed ballot's hash: the reply says it is in "
                       "the count, never what it says — never a voter"),
            errors=("bad_field", "not_found"), who="observers too"),
    Command("receipts", receipts, (_VOTE_ID,), "回执清单（结果公布后公开）", writes=False,
            result=Obj((Key("vote_id", int), Key("is_secret", bool), Key("count", int),
                        Key("receipts", ListOf(Obj((Key("receipt", str), Key("group", str),
                                                    Key("ballot_hash", str, "a secret vote", False)))), "sorted")),
                       "every counted receipt, never linked to a person"),
            errors=("bad_field", "not_found", "not_published"), who="once published (staff once closed)"),
)
