"""Casting a ballot, one or a group commit's run set-wise; live progress of a vote; a named vote's ballots.

A secret ballot's proofs are checked before the write (congress.actions.ballot_checks); a group's
hand count is entered in congress.actions.group_counts. The commands of all three are registered here."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from congress.actions.ballot_checks import check_prepared, check_sealed, prepare_ballot, prepare_from_cache
from congress.actions.base import Context, chain_link, take_seqs
from congress.actions.group_counts import enter_group_count
from congress.db.models import (
    Attendance,
    Ballot,
    BallotCast,
    Delegate,
    Event,
    Group,
    SealedBallot,
    Vote,
)
from congress.domain.commands import Command, Key, ListOf, MapOf, Obj, Param
from congress.domain.errors import DomainError
from congress.domain.kinds import VOTING_TYPE, Audience, GroupMode, QuestionKind, VoteStatus
from congress.domain.permissions import Permission
from congress.domain.time import BEIJING
from congress.sealed.ballot import (
    CheckedBallot,
    ballot_hash,
    short_receipt,
)

RECEIPT_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_receipt() -> str:
    # 12 symbols of 31 from one draw of the system CSPRNG (not one draw per symbol: each is a syscall).
    number = secrets.randbelow(len(RECEIPT_ALPHABET) ** 12)
    raw = ""
    for _ in range(12):
        number, digit = divmod(number, len(RECEIPT_ALPHABET))
        raw += RECEIPT_ALPHABET[digit]
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _open_vote(ctx: Context, congress_id: int, vote_id: int) -> Vote:
    # Kept for the whole transaction (the identity map holds objects weakly): in a group commit of
    # hundreds of ballots the vote, its questions and options are read once, not once per ballot.
    # Within one transaction nobody else changes the vote on SQLite (BEGIN IMMEDIATE); on PostgreSQL
    # the status is re-read below under a share lock.
    votes: dict[int, Vote] = ctx.session.info.setdefault("cast_ballot_votes", {})
    vote = votes.get(vote_id) or ctx.session.get(Vote, vote_id)
    if vote is None or vote.congress_id != congress_id:
        raise DomainError("not_found", f"找不到表决（编号 {vote_id}）")
    if vote_id not in votes:
        for question in vote.questions:
            question.options  # noqa: B018 - load now, while the vote is being cached
        votes[vote_id] = vote
    status: str | None = vote.status
    if ctx.session.get_bind().dialect.name != "sqlite":
        # Fix: close_vote on another worker could count while this ballot was uncommitted and then
        # commit its result without it. A share lock on the vote row makes close_vote (FOR UPDATE)
        # wait for ballots in flight, and a ballot wait for a close in flight (and then see "closed").
        # SQLite needs none: BEGIN IMMEDIATE already runs write transactions one at a time.
        status = ctx.session.scalar(sa.select(Vote.status).where(Vote.id == vote_id).with_for_update(read=True))
    closed = status in (VoteStatus.CLOSED, VoteStatus.PUBLISHED) or (
        status == VoteStatus.OPEN and vote.closes_at is not None and ctx.now >= vote.closes_at)
    if closed and vote.opened_at is not None:
        raise ArrivedLate(vote)
    if status != VoteStatus.OPEN:
        raise DomainError("vote_not_open", f"表决“{vote.title}”不在进行中，不能投票")
    return vote


class ArrivedLate(DomainError):
    """A ballot confirmed while the vote was open that reaches the server after the close (a phone
    offline at the moment of closing resends it on reconnect). It is not counted; the delegate is told
    so in words, and staff see how many arrived late (`ballot.late`, a count, never a choice)."""

    def __init__(self, vote: Vote) -> None:
        at = vote.closed_at or vote.closes_at
        when = f"（{at.astimezone(BEIJING).strftime('%H:%M:%S')}）" if at else ""
        super().__init__("arrived_after_close",
                         f"您的选票在表决“{vote.title}”截止{when}之后才送达，未被计入。如有异议，请向工作人员和监票人说明。")
        self.vote = vote


def late_outcome(request: BallotRequest, late: ArrivedLate) -> dict[str, Any]:
    """Recorded as late (an event for staff with the group only), answered with recorded: false."""
    actor = request.ctx.actor
    request.ctx.emit(request.congress_id, "ballot.late", {"vote_id": late.vote.id, "group_id": actor.group_id,
                                                          "at": request.ctx.now.isoformat()}, Audience.STAFF)
    return {"vote_id": late.vote.id, "recorded": False, "late": True, "code": late.code, "words": late.message,
            "is_secret_vote": late.vote.is_secret}


def request_key(delegate_id: int, command_id: str | None) -> str:
    """ballot_cast.request_id. Fix: it was the client's command id as sent, but command ids are chosen
    per client (a page may count 1, 2, 3 …), so a second delegate sending the same id for the same vote
    hit the (vote_id, request_id) constraint and was told "already voted". Scoped to the delegate."""
    if command_id is None:
        return uuid.uuid4().hex
    return hashlib.sha256(f"{delegate_id}\n{command_id}".encode()).hexdigest()


def _check_answers(vote: Vote, answers: dict[str, Any]) -> dict[str, Any]:
    """Every answer must name a real option; an election ballot marking more names than seats
    is kept (it was cast) and counted void for that question by the tally."""
    clean: dict[str, Any] = {}
    questions = {str(q.id): q for q in vote.questions}
    unknown = [k for k in answers if k not in questions]
    if unknown:
        raise DomainError("bad_ballot", f"选票包含本次表决没有的事项：{', '.join(unknown)}")
    for qid, question in questions.items():
        answer = answers.get(qid)
        if answer is None:
            raise DomainError("bad_ballot", f"请对“{question.text}”作出选择")
        keys = {o.key for o in question.options}
        if question.kind == QuestionKind.ELECTION:
            if not isinstance(answer, list) or not all(isinstance(a, str) and a.strip() for a in answer):
                raise DomainError("bad_ballot", f"“{question.text}”应为所选候选人的列表")
            marked = [a.strip() for a in answer]
            if len(set(marked)) != len(marked):
                raise DomainError("bad_ballot", f"“{question.text}”同一候选人不能选两次")
            strangers = [a for a in marked if a not in keys]
            if strangers and not question.allows_write_in:
                raise DomainError("bad_ballot", f"“{question.text}”不接受另选他人：{'、'.join(strangers)}")
            clean[qid] = marked
        else:
            if answer not in keys:
                raise DomainError("bad_ballot", f"“{question.text}”的选项“{answer}”无效")
            clean[qid] = answer
    return clean


def cast_ballot(ctx: Context, congress_id: int, vote_id: int, answers: dict[str, Any] | None = None,
                sealed: dict[str, Any] | None = None) -> dict[str, Any]:
    """One ballot per delegate per vote (the database enforces it); durable before the reply.
    A named vote takes `answers`; a secret vote takes `sealed`, the ballot encrypted on the phone."""
    outcome = cast_ballots([BallotRequest(ctx, congress_id, vote_id, answers, sealed)])[0]
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def cast_ballot_many(calls: list[tuple[Context, int, dict[str, Any]]]) -> list[dict[str, Any] | DomainError]:
    """cast_ballot's Command.run_many: a run of ballots in one group commit goes set-wise (cast_ballots)."""
    return cast_ballots([BallotRequest(ctx, congress_id, args["vote_id"], args.get("answers"), args.get("sealed"))
                         for ctx, congress_id, args in calls])


@dataclass(frozen=True, slots=True)
class BallotRequest:
    """One delegate's cast_ballot, with the context (actor, time, command id) it runs in."""

    ctx: Context
    congress_id: int
    vote_id: int
    answers: dict[str, Any] | None
    sealed: dict[str, Any] | None = None


_INSERT_CAST = sa.insert(BallotCast.__table__)
_INSERT_BALLOT = sa.insert(Ballot.__table__)
_INSERT_EVENT = sa.insert(Event.__table__)
_INSERT_SEALED = sa.insert(SealedBallot.__table__)


def _sealed_of(request: BallotRequest, vote: Vote) -> CheckedBallot:
    """The checked sealed ballot: as checked in the proof pool if made under this vote's key."""
    prepared = request.ctx.prepared
    if isinstance(prepared, tuple) and vote.ceremony is not None and prepared[0] == vote.ceremony.public_key:
        outcome = prepared[1]
        if isinstance(outcome, DomainError):
            raise outcome
        if isinstance(outcome, str) and isinstance(request.sealed, dict) and outcome == ballot_hash(request.sealed):
            return CheckedBallot(outcome, {}, request.sealed)
    if request.answers is not None:
        raise DomainError("bad_ballot", "无记名投票的选择须在手机上加密后提交，服务器不接收明文选择")
    return check_sealed(vote, request.sealed)


def cast_ballots(requests: list[BallotRequest]) -> list[dict[str, Any] | DomainError]:
    """cast_ballot for many requests of one transaction, in their order: the same checks, rows, events
    and replies as one at a time, with one read of the delegates and one INSERT per table for all.

    Each request gets its reply or its refusal. A delegate's second request in the list is refused
    as "already voted", or for a changeable vote changes the ballot of the first. A ballot that the
    database refuses (the unique (vote_id, delegate_id): another worker recorded one meanwhile) raises
    IntegrityError for the whole list; the caller then goes one by one.
    """
    outcomes: list[dict[str, Any] | DomainError] = []
    accepted: list[tuple[int, BallotRequest, Vote]] = []
    votes: dict[int, Vote | DomainError] = {}  # checked open once per vote, not once per ballot
    for request in requests:
        try:
            request.ctx.actor.require(Permission.CAST_BALLOT)
            if request.vote_id not in votes:
                try:
                    votes[request.vote_id] = _open_vote(request.ctx, request.congress_id, request.vote_id)
                except DomainError as error:
                    votes[request.vote_id] = error
            vote = votes[request.vote_id]
            if isinstance(vote, ArrivedLate):
                outcomes.append(late_outcome(request, vote))
                continue
            if isinstance(vote, DomainError):
                raise vote
            if vote.congress_id != request.congress_id:
                raise DomainError("not_found", f"找不到表决（编号 {request.vote_id}）")
            accepted.append((len(outcomes), request, vote))
            outcomes.append(DomainError("internal_error", "未处理"))  # replaced below
        except DomainError as error:
            outcomes.append(error)
    if not accepted:
        return outcomes

    session = requests[0].ctx.session
    connection = session.connection()
    delegate_ids = {r.ctx.actor.delegate_id for _i, r, _v in accepted}
    is_here = sa.select(Attendance.id).where(Attendance.delegate_id == Delegate.id,
                                             Attendance.checked_out_at.is_(None)).exists()
    delegates = {row.id: row for row in connection.execute(
        sa.select(Delegate.id, Delegate.congress_id, Delegate.group_id, Delegate.is_active, Delegate.delegate_type,
                  is_here.label("is_here")).where(Delegate.id.in_(delegate_ids)))}
    vote_ids = {v.id for _i, _r, v in accepted}
    cast = {(v, d) for v, d in connection.execute(sa.select(BallotCast.vote_id, BallotCast.delegate_id).where(
        BallotCast.vote_id.in_(vote_ids), BallotCast.delegate_id.in_(delegate_ids)))}

    new_casts: list[dict[str, Any]] = []
    new_ballots: dict[tuple[int, int], dict[str, Any]] = {}  # (vote, delegate) -> the row to insert
    new_sealed: list[dict[str, Any]] = []
    sealed_hashes: dict[int, set[str]] = {}
    sealed_voters: set[tuple[int, int]] = set()
    recorded: list[tuple[int, BallotRequest, dict[str, Any], int]] = []
    for index, request, vote in accepted:
        ctx = request.ctx
        try:
            delegate = delegates.get(ctx.actor.delegate_id)
            if delegate is None:
                raise DomainError("not_found", f"找不到代表（编号 {ctx.actor.delegate_id}）")
            if delegate.congress_id != request.congress_id or not delegate.is_active:
                raise DomainError("other_congress", "您不是本次职代会的代表")
            if delegate.delegate_type != VOTING_TYPE:
                # Fix: the actor's is_voting is read once at sign-in / connect; a roster re-import may
                # have made the delegate 列席 or 特邀 since. The stored delegate type decides.
                raise DomainError("not_voting_delegate", "只有正式代表可以表决、提出或附议提案")
            if vote.group_modes.get(str(delegate.group_id)) == GroupMode.HAND_COUNT:
                raise DomainError("group_hand_counted", "本代表团(组)本次表决采用现场计票，请在现场表决")
            if not delegate.is_here:
                raise DomainError("not_checked_in", "请先签到再投票")
            if vote.is_secret:
                checked = _sealed_of(request, vote)
                clean = {}
            else:
                if request.sealed is not None or not isinstance(request.answers, dict):
                    raise DomainError("bad_ballot", "记名投票请直接提交所选项（answers），不需要加密")
                clean = _check_answers(vote, request.answers)
            key = (vote.id, delegate.id)
            is_change = key in cast or key in new_ballots or key in sealed_voters
            if is_change and not vote.is_changeable:
                raise DomainError("already_voted", "您已在本次表决中投票，不能重复投票")
        except DomainError as error:
            outcomes[index] = error
            continue
        if key in new_ballots:  # changed again before it was written: the row to insert changes
            new_ballots[key].update(answers=clean, updated_at=ctx.now)
            receipt = new_ballots[key]["receipt"]
        elif is_change:
            ballot = session.scalar(sa.select(Ballot).where(Ballot.vote_id == vote.id,
                                                            Ballot.delegate_id == delegate.id))
            assert ballot is not None  # changeable votes are named, so the ballot carries its voter
            ballot.answers, ballot.updated_at = clean, ctx.now
            receipt = ballot.receipt
        elif vote.is_secret:
            # Within a batch a set; against earlier batches the unique (vote_id, hash) refuses the
            # INSERT and the batch is run one by one, where this query names the duplicate.
            if checked.hash in sealed_hashes.setdefault(vote.id, set()) or (len(requests) == 1 and ctx.session.scalar(
                    sa.select(SealedBallot.id).where(SealedBallot.vote_id == vote.id, SealedBallot.hash == checked.hash))):
                outcomes[index] = DomainError("duplicate_ballot", "这张加密选票与已收到的一张完全相同，不能重复提交")
                continue
            sealed_hashes[vote.id].add(checked.hash)
            sealed_voters.add(key)
            receipt = short_receipt(checked.hash)
            new_casts.append({"vote_id": vote.id, "delegate_id": delegate.id, "group_id": delegate.group_id,
                              "request_id": request_key(delegate.id, ctx.command_id), "cast_at": ctx.now})
            # Ciphertexts and proofs only: no voter, no time, a random key (docs/secrecy.md).
            new_sealed.append({"id": uuid.uuid4(), "vote_id": vote.id, "group_id": delegate.group_id,
                               "hash": checked.hash, "content": checked.content})
        else:
            receipt = new_receipt()
            new_casts.append({"vote_id": vote.id, "delegate_id": delegate.id, "group_id": delegate.group_id,
                              "request_id": request_key(delegate.id, ctx.command_id), "cast_at": ctx.now})
            new_ballots[key] = {"id": uuid.uuid4(), "vote_id": vote.id, "group_id": delegate.group_id,
                                "delegate_id": delegate.id, "answers": clean, "receipt": receipt,
                                "updated_at": ctx.now}
        mine = {"vote_id": vote.id, "at": ctx.now.isoformat(), "is_change": is_change}
        outcome = {**mine, "recorded": True, "receipt": receipt, "is_secret_vote": vote.is_secret}
        if vote.is_secret:
            outcome["ballot_hash"] = checked.hash
        outcomes[index] = outcome
        recorded.append((index, request, mine, delegate.id))

    # Plain INSERTs of all rows at once; the unique (vote_id, delegate_id) refuses a second ballot.
    if new_casts:
        connection.execute(_INSERT_CAST, new_casts)
        if new_ballots:
            connection.execute(_INSERT_BALLOT, list(new_ballots.values()))
        if new_sealed:
            # Storage order may follow arrival (rowid, ctid, xmin): harmless, a sealed ballot reads as
            # nothing without the trustees, and they decrypt only sums (docs/secrecy.md).
            connection.execute(_INSERT_SEALED, new_sealed)
    session.flush()  # the changed ballots, if any
    _emit_recorded(recorded)
    return outcomes


def _emit_recorded(recorded: list[tuple[int, BallotRequest, dict[str, Any], int]]) -> None:
    """A `ballot.recorded` event for each ballot, in order: the events Context.emit appends, without a
    statement per ballot. Per congress the first goes through Context.emit (it takes the congress row's
    lock until commit and chains to the log); the others take their seqs with one UPDATE and chain on
    from it (congress.records.chain), so seqs stay gap-free and the hash chain unbroken."""
    by_congress: dict[int, list[tuple[int, BallotRequest, dict[str, Any], int]]] = {}
    for item in recorded:
        by_congress.setdefault(item[1].congress_id, []).append(item)
    for congress_id, items in by_congress.items():
        _index, first, mine, delegate_id = items[0]
        event = first.ctx.emit(congress_id, "ballot.recorded", mine, Audience.DELEGATE, delegate_id)
        rest = items[1:]
        if not rest:
            continue
        session = first.ctx.session
        last = take_seqs(session, congress_id, len(rest))
        assert last is not None  # the congress row exists: Context.emit above found it
        seq = last - len(rest)
        assert event.hash is not None  # Context.emit stores the hash it chained
        digest: str = event.hash
        rows = []
        for _index, request, mine, delegate_id in rest:
            seq += 1
            stored, digest = chain_link(digest, seq, "ballot.recorded", mine)
            row = {"congress_id": congress_id, "seq": seq, "type": "ballot.recorded", "payload": stored,
                   "audience": Audience.DELEGATE.value, "audience_id": delegate_id, "created_at": request.ctx.now,
                   "hash": digest}
            rows.append(row)
            request.ctx.events.append(Event(**row))  # for publishing after commit; written below
        session.connection().execute(_INSERT_EVENT, rows)


def stored_ballot_reply(reply: dict[str, Any]) -> dict[str, Any]:
    """What a resend gets back: the first reply. A sealed ballot's receipt is the hash of ciphertexts,
    which says nothing of the choice, so it is kept (the delegate can look it up again)."""
    return reply



def named_ballots(ctx: Context, congress_id: int, vote_id: int) -> dict[str, Any]:
    """Who voted what in a named (记名) vote: staff, or everyone when the vote says so once published."""
    vote = ctx.find(Vote, vote_id, congress_id, f"找不到表决（编号 {vote_id}）")
    if vote.is_secret:
        raise DomainError("secret_vote", "无记名投票不记录投票人与选择的对应关系")
    public = vote.shows_voters_publicly and vote.status == VoteStatus.PUBLISHED
    if not public:
        ctx.actor.require(Permission.READ_STAFF_VIEWS)
    rows = ctx.session.execute(sa.select(Delegate.employee_id, Delegate.name, Group.name, Ballot.answers)
                               .join(Delegate, Ballot.delegate_id == Delegate.id)
                               .join(Group, Ballot.group_id == Group.id)
                               .where(Ballot.vote_id == vote.id).order_by(Group.position, Delegate.employee_id))
    return {"vote_id": vote.id, "ballots": [{"employee_id": e, "name": n, "group": g, "answers": a}
                                            for e, n, g, a in rows]}


_PAIR = Obj((Key("c", str, "hex"), Key("s", str, "hex")), "one pair of a proof (congress/sealed/proofs.py)")
SEALED_BALLOT = Obj((
    Key("vote_id", int),
    Key("questions", ListOf(Obj((
        Key("question_id", int, "in the vote's order"),
        Key("choices", ListOf(Obj((Key("alpha", str), Key("beta", str)))), "one ciphertext per option (hex points)"),
        Key("individual_proofs", ListOf(ListOf(_PAIR)), "per option: that its mark is 0 or 1"),
        Key("overall_proof", ListOf(_PAIR), "that the marks add up to what the question allows"))))),
), "无记名投票：在手机上加密的选票（docs/secrecy.md, A ballot）; exactly these keys")
_COUNTS = Key("counts", MapOf("option key (yes/no/abstain, a candidate, a grade)", int), "each option's count")
GROUP_COUNT_QUESTIONS = MapOf("question id", Obj((
    _COUNTS,
    Key("issued", int, "paper: ballots issued", False), Key("returned", int, "paper: returned", False),
    Key("valid", int, "paper: valid", False), Key("void", int, "paper: void", False))),
    "事项编号 → 计票数字: every question of the vote; a show of hands gives `counts` only")

COMMANDS: tuple[Command, ...] = (
    Command("cast_ballot", cast_ballot, (
        Param("vote_id", int),
        Param("answers", dict, False, doc="记名投票：事项编号 → 选项",
              shape=MapOf("question id", None, "yes/no: `yes`/`no`/`abstain`; election: a list of candidate names "
                                               "(more names than seats makes it void); rating: a scale label")),
        Param("sealed", dict, False, doc="无记名投票：在手机上加密的选票（docs/secrecy.md）", shape=SEALED_BALLOT)),
        "投票（同一命令 id 重发只记一次）", stored_reply=stored_ballot_reply, prepare=prepare_ballot,
        prepare_from_cache=prepare_from_cache, check=check_prepared, run_many=cast_ballot_many,
        on_duplicate=("already_voted", "您已在本次表决中投票，不能重复投票"),
        result=Obj((Key("vote_id", int), Key("recorded", bool, "false: arrived after the close, not counted"),
                    Key("receipt", str, "XXXX-XXXX-XXXX; a sealed ballot's: the start of its hash", False),
                    Key("is_change", bool, "it replaced the delegate's earlier ballot", False),
                    Key("at", str, "ISO 8601", False), Key("is_secret_vote", bool),
                    Key("ballot_hash", str, "a sealed ballot's SHA-256", False),
                    Key("late", bool, "true when not recorded", False),
                    Key("code", str, "`arrived_after_close` when not recorded", False),
                    Key("words", str, "why, when not recorded", False)),
                   "`answers` for a named vote, `sealed` for a secret one; a voting delegate, checked in, whose "
                   "group votes online; nothing is stored on a refusal"),
        errors=("already_voted", "bad_ballot", "duplicate_ballot", "group_hand_counted", "internal_error",
                "no_trustee_key", "not_checked_in", "not_found", "sealed_ballot_required", "vote_not_open"),
        permissions=(Permission.CAST_BALLOT,)),
    Command("enter_group_count", enter_group_count, (
        Param("vote_id", int), Param("group_id", int), Param("method", str, doc="show_of_hands / paper"),
        Param("present", int, doc="本组实到"),
        Param("questions", dict, doc="事项编号 → 计票数字", shape=GROUP_COUNT_QUESTIONS),
        Param("scrutineer", str, doc="本组监票人")),
        "报送本组现场计票",
        result=Obj((Key("vote_id", int), Key("group_id", int), Key("group", str), Key("method", str),
                    Key("figures", Obj((Key("present", int), Key("questions", GROUP_COUNT_QUESTIONS),
                                        Key("is_void_round", bool)))),
                    Key("scrutineer", str), Key("entered_by", str), Key("words", ListOf(str), "per question")),
                   "the group's hand count (entered again: replaced)"),
        errors=("bad_field", "group_count_does_not_add_up", "group_count_exceeds_present", "group_votes_online",
                "negative_count", "not_found", "show_of_hands_for_secret", "unknown_count_method", "vote_not_open"),
        permissions=(Permission.ENTER_GROUP_COUNT,)),
    Command("named_ballots", named_ballots, (Param("vote_id", int),), "记名表决的投票明细", writes=False,
            result=Obj((Key("vote_id", int), Key("ballots", ListOf(Obj((
                Key("employee_id", str), Key("name", str), Key("group", str),
                Key("answers", MapOf("question id", None))))))), "who voted what, named votes only"),
            errors=("not_found", "secret_vote"), permissions=(Permission.READ_STAFF_VIEWS,),
            who="everyone, once published, if the vote shows voters publicly"),
)
