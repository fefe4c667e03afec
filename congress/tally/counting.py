"""Counting by group (表决分组投): per-group figures for each question and the congress-wide sum.

One GroupTally is one group's figures for one question: in 分项表决 a ballot can be void for one
item and valid for the next, so valid/void are per question, never per paper.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeGuard

from congress.domain.errors import DomainError
from congress.domain.kinds import QuestionKind  # the one definition (tally may import domain)
from congress.tally.election import ballot_is_valid
from congress.tally.motion import YesNo
from congress.tally.rating import DEFAULT_SCALE
from congress.tally.words import require_non_negative

Answer = str | Sequence[str]  # a chosen option, or the candidates marked on an election question


@dataclass(frozen=True, slots=True)
class Question:
    """One item of a vote. `options` are the candidates (election) or the scale (rating); yes/no
    questions always offer 赞成/反对/弃权 and a rating defaults to 称职/基本称职/不称职."""

    question_id: str
    kind: QuestionKind = QuestionKind.YES_NO
    options: tuple[str, ...] = ()
    seats: int = 1
    allow_write_ins: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", QuestionKind(self.kind))
        options = tuple(self.options)
        if self.kind is QuestionKind.YES_NO:
            options = tuple(option.value for option in YesNo)
        elif self.kind is QuestionKind.RATING and not options:
            options = DEFAULT_SCALE
        object.__setattr__(self, "options", options)
        if len(set(options)) != len(options):
            raise DomainError("invalid_question", f"事项 {self.question_id} 的选项或候选人有重复")
        if self.kind is QuestionKind.ELECTION and self.seats < 1:
            raise DomainError("invalid_seats", f"应选名额至少为 1（填写的是 {self.seats}）")

    def is_valid_answer(self, answer: Answer | None) -> TypeGuard[Answer]:  # valid: never None
        if answer is None:  # the delegate left this item blank: a blank item is void, not 弃权
            return False
        if self.kind is QuestionKind.ELECTION:
            return ballot_is_valid(answer, self.seats, self.options, self.allow_write_ins)
        return isinstance(answer, str) and answer in self.options


@dataclass(frozen=True, slots=True)
class CastBallot:
    """One delegate's online ballot: the group it counts in and its answer per question id."""

    group_id: str
    answers: Mapping[str, Answer]


@dataclass(frozen=True, slots=True)
class GroupRoll:
    eligible: int  # 应到: the group's voting delegates
    present: int  # 实到: of those, checked in

    def __post_init__(self) -> None:
        require_non_negative("应到人数", self.eligible)
        require_non_negative("实到人数", self.present)
        if self.present > self.eligible:
            raise DomainError("count_exceeds_total", f"实到 {self.present} 人，多于应到的 {self.eligible} 人")


_FIGURE_LABELS = {
    "eligible": "应到人数",
    "present": "实到人数",
    "issued": "发出选票数",
    "returned": "收回选票数",
    "valid": "有效票数",
    "void": "无效票数",
}


@dataclass(frozen=True, slots=True)
class GroupTally:
    """A group's figures for one question. `counts` is option (or candidate) -> votes."""

    group_id: str
    eligible: int
    present: int
    issued: int
    returned: int
    valid: int
    void: int
    counts: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, label in _FIGURE_LABELS.items():
            require_non_negative(label, getattr(self, name))
        for option, count in self.counts.items():
            require_non_negative(f"“{option}”票数", count)
        object.__setattr__(self, "counts", dict(self.counts))  # own copy: the caller's dict may change

    @property
    def cast(self) -> int:
        """Delegates who took part in the vote (ballots returned, void ones included)."""
        return self.returned

    @property
    def not_voting(self) -> int:
        return self.eligible - self.returned

    @classmethod
    def show_of_hands(
        cls, group_id: str, eligible: int, present: int, counts: Mapping[str, int]
    ) -> GroupTally:
        """No papers in a show of hands: everyone present counts as issued, returned and valid."""
        return cls(group_id, eligible, present, present, present, present, 0, counts)


@dataclass(frozen=True, slots=True)
class Tally:
    """The sum over groups; every figure equals the sum of the groups' figures."""

    eligible: int
    present: int
    issued: int
    returned: int
    valid: int
    void: int
    counts: Mapping[str, int]
    groups: tuple[GroupTally, ...]

    @property
    def cast(self) -> int:
        return self.returned

    @property
    def not_voting(self) -> int:
        return self.eligible - self.returned


def combine(groups: Iterable[GroupTally]) -> Tally:
    groups = tuple(groups)
    seen: set[str] = set()
    for group in groups:
        if group.group_id in seen:  # counting one group twice is the classic hand-count slip
            raise DomainError("duplicate_group", f"代表团（组）{group.group_id} 的计票重复提交")
        seen.add(group.group_id)
    counts: dict[str, int] = {}
    for group in groups:
        for option, count in group.counts.items():
            counts[option] = counts.get(option, 0) + count
    totals = {name: sum(getattr(group, name) for group in groups) for name in _FIGURE_LABELS}
    return Tally(**totals, counts=counts, groups=groups)


def count_ballots(
    ballots: Iterable[CastBallot],
    questions: Sequence[Question],
    rolls: Mapping[str, GroupRoll],
) -> dict[str, tuple[GroupTally, ...]]:
    """Online ballots -> for each question id, one GroupTally per group of `rolls` (in its order).

    Every ballot returned is issued, valid or void per question; a question missing from a ballot
    is void on it. Delegates who did not vote show as `not_voting` (eligible - returned).
    """
    by_id = {question.question_id: question for question in questions}
    if len(by_id) != len(questions):
        raise DomainError("invalid_question", "同一次表决中事项编号重复")
    returned = dict.fromkeys(rolls, 0)
    valid = {q: dict.fromkeys(rolls, 0) for q in by_id}
    counts: dict[str, dict[str, dict[str, int]]] = {
        q: {g: dict.fromkeys(question.options, 0) for g in rolls} for q, question in by_id.items()
    }

    for ballot in ballots:
        if ballot.group_id not in rolls:
            raise DomainError("unknown_group", f"选票所属代表团（组）{ballot.group_id} 不在本次表决的名单中")
        unknown = [q for q in ballot.answers if q not in by_id]
        if unknown:
            raise DomainError("unknown_question", f"选票包含本次表决没有的事项：{unknown}")
        returned[ballot.group_id] += 1
        for q, question in by_id.items():
            answer = ballot.answers.get(q)
            if not question.is_valid_answer(answer):
                continue
            valid[q][ballot.group_id] += 1
            group_counts = counts[q][ballot.group_id]
            chosen = [answer] if isinstance(answer, str) else list(answer)
            for option in chosen:
                group_counts[option] = group_counts.get(option, 0) + 1  # write-ins appear as they come

    for group_id, roll in rolls.items():
        if returned[group_id] > roll.present:
            # Online, a ballot is issued to each checked-in voting delegate; more means a caller bug.
            raise DomainError(
                "ballots_exceed_present",
                f"代表团（组）{group_id} 收到 {returned[group_id]} 张选票，多于已签到的正式代表 {roll.present} 人",
            )
    return {
        q: tuple(
            GroupTally(
                group_id=group_id,
                eligible=roll.eligible,
                present=roll.present,
                issued=roll.present,
                returned=returned[group_id],
                valid=valid[q][group_id],
                void=returned[group_id] - valid[q][group_id],
                counts=counts[q][group_id],
            )
            for group_id, roll in rolls.items()
        )
        for q in by_id
    }
