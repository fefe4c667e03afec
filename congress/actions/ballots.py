"""Casting a ballot and entering a group's hand count (分组计票); live progress of a vote."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.actions.base import Context
from congress.actions.results import group_rolls
from congress.commands import Command, Param, register
from congress.db.models import (
    Attendance,
    Ballot,
    BallotCast,
    Congress,
    Delegate,
    Event,
    Group,
    GroupCount,
    SealedBallot,
    Vote,
)
from congress.domain.errors import DomainError
from congress.domain.kinds import VOTING_TYPE, Audience, GroupMode, QuestionKind, VoteStatus
from congress.domain.time import BEIJING
from congress.permissions import Permission
from congress.records.chain import as_stored, event_hash
from congress.sealed.ballot import (
    BallotError,
    CheckedBallot,
    SealedQuestion,
    ballot_hash,
    check_ballot,
    short_receipt,
)
from congress.sealed.group import read_point
from congress.tally import GroupTally, validate_group_count

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


@dataclass(frozen=True, slots=True)
class BallotRequest:
    """One delegate's cast_ballot, with the context (actor, time, command id) it runs in."""

    ctx: Context
    congress_id: int
    vote_id: int
    answers: dict[str, Any] | None
    sealed: dict[str, Any] | None = None


def sealed_questions(vote: Vote) -> list[SealedQuestion]:
    return [SealedQuestion.of(q.id, q.kind, len(q.options), q.seats) for q in vote.questions]


def vote_key(vote: Vote) -> bytes:
    if vote.ceremony is None or vote.ceremony.public_key is None:
        raise DomainError("no_trustee_key", f"表决“{vote.title}”没有监票人密钥，不能接受无记名选票")
    return read_point(vote.ceremony.public_key, "监票人公钥")


def check_sealed(vote: Vote, sealed: Any) -> CheckedBallot:
    """Every proof of a sealed ballot, or a refusal saying what is wrong; nothing is stored before."""
    if not isinstance(sealed, dict):
        raise DomainError("sealed_ballot_required", "无记名投票须提交在手机上加密的选票（sealed）")
    try:
        return check_ballot(vote.id, vote_key(vote), sealed_questions(vote), sealed)
    except BallotError as error:
        raise DomainError("bad_ballot", f"选票未被接受：{error}") from None


@dataclass(frozen=True, slots=True)
class SealedCheck:
    """What checking a sealed ballot needs, read before the write; picklable for the proof pool."""

    vote_id: int
    public_key: str
    questions: tuple[SealedQuestion, ...]
    sealed: Any


def prepare_ballot(session: Session, actor: Any, congress_id: int | None, args: dict[str, Any]) -> Any:
    """A sealed ballot's proofs are checked before the write (a few ms each, in the Service's process
    pool: `check_prepared`), so the group commit only stores it. The write checks that the vote and its
    key are still the ones the ballot was checked against.

    What a check needs of an open vote (its key and questions) never changes once the vote is open,
    so it is read once per vote into the caller's cache (`session.info["prepare_cache"]`): a burst
    of 3,000 ballots spent most of its time reading the same vote 3,000 times."""
    sealed = args.get("sealed")
    if sealed is None:
        return None
    cache: dict[Any, Any] = session.info.get("prepare_cache", {})
    key = ("sealing", args["vote_id"])
    if key not in cache:
        vote = session.get(Vote, args["vote_id"])
        if vote is None or not vote.is_secret or vote.ceremony is None or not vote.ceremony.public_key \
                or vote.status != VoteStatus.OPEN:
            return None
        cache[key] = (vote.ceremony.public_key, tuple(sealed_questions(vote)))
    public_key, questions = cache[key]
    return SealedCheck(args["vote_id"], public_key, questions, sealed)


def prepare_from_cache(cache: dict[Any, Any], args: dict[str, Any]) -> Any:
    """prepare_ballot without a thread or a database session, once the vote is in the cache."""
    cached = cache.get(("sealing", args.get("vote_id")))
    if cached is None or args.get("sealed") is None:
        return None
    return SealedCheck(args["vote_id"], cached[0], cached[1], args["sealed"])


def check_prepared(prepared: Any) -> Any:
    """(public key, the ballot's hash or a DomainError): pure, run in a worker process. Only the hash
    comes back (the writer has the ballot, and hashes it again to be sure it is this one)."""
    if not isinstance(prepared, SealedCheck):
        return prepared
    try:
        key = read_point(prepared.public_key, "监票人公钥")
        return (prepared.public_key, check_ballot(prepared.vote_id, key, list(prepared.questions), prepared.sealed).hash)
    except BallotError as error:
        return (prepared.public_key, DomainError("bad_ballot", f"选票未被接受：{error}"))
    except Exception:  # not a sealed ballot at all: the write refuses it with the right words
        return None


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
        seq = session.execute(sa.update(Congress).where(Congress.id == congress_id)
                              .values(last_seq=Congress.last_seq + len(rest))
                              .returning(Congress.last_seq)).scalar_one() - len(rest)
        assert event.hash is not None  # Context.emit stores the hash it chained
        digest: str = event.hash
        rows = []
        for _index, request, mine, delegate_id in rest:
            seq += 1
            stored = as_stored(mine)
            digest = event_hash(digest, seq, "ballot.recorded", stored)
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
        raise DomainError("bad_field", "请填写本组监票人")
    name, eligible, checked_in = group_rolls(ctx.session, vote)[group_id]
    is_void_round, words = False, []
    figures: dict[str, Any] = {"present": present, "questions": {}}
    for question in vote.questions:
        qid = str(question.id)
        spec = questions.get(qid)
        if not isinstance(spec, dict) or not isinstance(spec.get("counts"), dict):
            raise DomainError("bad_field", f"缺少“{question.text}”的计票数字")
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
        raise DomainError("bad_field", f"“{what}”应为不小于 0 的整数")
    return value


def vote_progress(session: Session, congress_id: int) -> list[dict[str, Any]]:
    """Ballots in against eligible, per group, for every open vote: counts, never choices."""
    votes = list(session.scalars(sa.select(Vote).where(Vote.congress_id == congress_id,
                                                       Vote.status == VoteStatus.OPEN)))
    progress = []
    for vote in votes:
        rolls = group_rolls(session, vote)
        cast = dict(session.execute(sa.select(BallotCast.group_id, sa.func.count()).where(
            BallotCast.vote_id == vote.id).group_by(BallotCast.group_id)).all())
        reported = set(session.scalars(sa.select(GroupCount.group_id).where(GroupCount.vote_id == vote.id)))
        groups: list[dict[str, Any]] = [{"group_id": g, "name": name, "eligible": eligible, "present": present, "cast": cast.get(g, 0),
                   "mode": vote.group_modes.get(str(g), GroupMode.ONLINE), "reported": g in reported}
                  for g, (name, eligible, present) in rolls.items()]
        progress.append({"vote_id": vote.id, "cast": sum(cast.values()),
                         "present": sum(g["present"] for g in groups),
                         "eligible": sum(g["eligible"] for g in groups), "groups": groups})
    return progress


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


register(
    Command("cast_ballot", cast_ballot, (
        Param("vote_id", int), Param("answers", dict, False, doc="记名投票：事项编号 → 选项"),
        Param("sealed", dict, False, doc="无记名投票：在手机上加密的选票（docs/secrecy.md）")),
        "投票（同一命令 id 重发只记一次）", stored_reply=stored_ballot_reply, prepare=prepare_ballot,
        prepare_from_cache=prepare_from_cache, check=check_prepared),
    Command("enter_group_count", enter_group_count, (
        Param("vote_id", int), Param("group_id", int), Param("method", str, doc="show_of_hands / paper"),
        Param("present", int), Param("questions", dict, doc="事项编号 → 计票数字"), Param("scrutineer", str)),
        "报送本组现场计票"),
    Command("named_ballots", named_ballots, (Param("vote_id", int),), "记名表决的投票明细", writes=False),
)
