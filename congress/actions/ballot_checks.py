"""A secret ballot's proofs checked before the write: what the check needs of the vote, read once per
vote (Command.prepare, prepare_from_cache), and the pure check run in the Service's proof pool
(Command.check). cast_ballot (congress.actions.ballots) stores what passed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from congress.db.models import Vote
from congress.domain.errors import DomainError
from congress.domain.kinds import VoteStatus
from congress.sealed.ballot import BallotError, CheckedBallot, SealedQuestion, check_ballot
from congress.sealed.group import read_point


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

