"""Election questions (选举): valid ballots, who is elected, and the seats left for another round.

Ties for the last seat are never broken here (not by name, not by order of entry): the tied
candidates are reported and their seats stay open, because the law leaves that to a new vote.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from congress.domain.errors import DomainError
from congress.tally.rules import Rule
from congress.tally.words import join_names, require_non_negative


class ElectionKind(StrEnum):
    EQUAL = "equal"  # 等额: as many candidates as seats
    COMPETITIVE = "competitive"  # 差额: more candidates than seats

    @property
    def label(self) -> str:
        return "等额" if self is ElectionKind.EQUAL else "差额"


def election_kind(candidate_count: int, seats: int) -> ElectionKind:
    if seats < 1:
        raise DomainError("invalid_seats", f"应选名额至少为 1（填写的是 {seats}）")
    if candidate_count < seats:
        raise DomainError("too_few_candidates", f"候选人 {candidate_count} 名，少于应选的 {seats} 名")
    return ElectionKind.EQUAL if candidate_count == seats else ElectionKind.COMPETITIVE


def ballot_is_valid(
    marked: Sequence[str],
    seats: int,
    candidates: Collection[str] | None = None,
    allow_write_ins: bool = False,
) -> bool:
    """Marking more names than seats voids the ballot; an empty ballot is valid and marks nobody.

    A name marked twice or a blank write-in also voids it. With `candidates` given, a name outside
    the list is accepted only as a write-in (另选他人) when the question allows write-ins.
    """
    if isinstance(marked, str):  # a bare string would be read as one mark per character
        return False
    if len(marked) > seats or len(set(marked)) != len(marked):
        return False
    if any(not isinstance(name, str) or not name.strip() for name in marked):
        return False
    if candidates is not None and not allow_write_ins:
        return all(name in candidates for name in marked)
    return True


class CandidateResult(NamedTuple):
    candidate: str
    votes: int
    passed_threshold: bool
    elected: bool


@dataclass(frozen=True, slots=True)
class ElectionOutcome:
    elected: list[str]
    tied_for_last: list[str]
    unfilled_seats: int
    per_candidate: list[CandidateResult]  # most votes first; equal votes keep the input order
    words: str


def elect(
    candidate_votes: Mapping[str, int],
    seats: int,
    rule: Rule,
    basis_count: int,
    names: Mapping[str, str] | None = None,
) -> ElectionOutcome:
    """Elect up to `seats` candidates whose votes reach the rule's threshold of `basis_count`.

    `basis_count` is the count the rule's basis names (e.g. all voting delegates for the default
    rule); it has no default because guessing it would silently lower the threshold.
    `candidate_votes` may include write-ins. `names` maps candidate ids to display names for the words.
    """
    if seats < 1:
        raise DomainError("invalid_seats", f"应选名额至少为 1（填写的是 {seats}）")
    for candidate, votes in candidate_votes.items():
        require_non_negative(f"候选人 {candidate} 的得票", votes)
    required = rule.required(basis_count)

    ranked = sorted(candidate_votes.items(), key=lambda item: -item[1])  # stable: ties keep input order
    passers = [(c, v) for c, v in ranked if v >= required]
    if len(passers) <= seats:
        elected = [c for c, _ in passers]
        tied: list[str] = []
    else:
        last_votes = passers[seats - 1][1]
        if passers[seats][1] < last_votes:
            elected = [c for c, _ in passers[:seats]]
            tied = []
        else:
            # The tie straddles the last seat: elect those above it, report the tie, keep its seats open.
            elected = [c for c, v in passers if v > last_votes]
            tied = [c for c, v in passers if v == last_votes]
    unfilled = seats - len(elected)

    elected_set = set(elected)
    per_candidate = [CandidateResult(c, v, v >= required, c in elected_set) for c, v in ranked]
    words = _election_words(dict(ranked), seats, rule, basis_count, elected, tied, unfilled, names or {})
    return ElectionOutcome(
        elected=elected, tied_for_last=tied, unfilled_seats=unfilled, per_candidate=per_candidate, words=words
    )


def _election_words(
    votes: Mapping[str, int],
    seats: int,
    rule: Rule,
    basis_count: int,
    elected: list[str],
    tied: list[str],
    unfilled: int,
    names: Mapping[str, str],
) -> str:
    def name(candidate: str) -> str:
        return names.get(candidate, candidate)

    parts = [f"应选 {seats} 名，得票须{rule.measure_words(basis_count, reached=True)}"]
    if elected:
        listed = join_names(f"{name(c)} {votes[c]} 票" for c in elected)
        parts.append(f"当选 {len(elected)} 名：{listed}")
    else:
        parts.append("无人当选")
    if tied:
        tied_seats = seats - len(elected)
        parts.append(
            f"{join_names(name(c) for c in tied)} 各得 {votes[tied[0]]} 票，"
            f"并列争最后 {tied_seats} 个名额，均未当选"
        )
    if unfilled:
        parts.append(f"空缺 {unfilled} 名，需另行投票选举")
    return "；".join(parts)
