"""Yes/no questions (表决事项): 赞成 / 反对 / 弃权 and whether the motion passed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from congress.domain.errors import DomainError
from congress.tally.rules import DEFAULT_RULE, Rule
from congress.tally.words import require_non_negative


class YesNo(StrEnum):
    YES = "yes"
    NO = "no"
    ABSTAIN = "abstain"

    @property
    def label(self) -> str:
        return _YES_NO_LABELS[self]


_YES_NO_LABELS = {YesNo.YES: "赞成", YesNo.NO: "反对", YesNo.ABSTAIN: "弃权"}


def option_label(option: str) -> str:
    """赞成/反对/弃权 for the yes/no codes; any other option (a candidate, a rating) as it is."""
    return YesNo(option).label if option in _YES_NO_LABELS else option


@dataclass(frozen=True, slots=True)
class OptionCounts:
    """Valid votes on one yes/no question."""

    yes: int = 0
    no: int = 0
    abstain: int = 0

    def __post_init__(self) -> None:
        for option in YesNo:
            require_non_negative(option.label + "票数", getattr(self, option.value))

    @property
    def total(self) -> int:
        return self.yes + self.no + self.abstain

    @classmethod
    def from_mapping(cls, counts: Mapping[str, int]) -> OptionCounts:
        """From a tally's counts keyed "yes"/"no"/"abstain" (missing keys are zero)."""
        unknown = set(counts) - {option.value for option in YesNo}
        if unknown:
            raise DomainError(
                "unknown_option", f"表决选项只有赞成、反对、弃权，收到未知选项：{sorted(unknown)}"
            )
        return cls(**{str(option): count for option, count in counts.items()})


@dataclass(frozen=True, slots=True)
class MotionOutcome:
    passed: bool
    yes: int
    basis_count: int
    required: int
    words: str


def decide_motion(
    counts: OptionCounts | Mapping[str, int],
    rule: Rule = DEFAULT_RULE,
    *,
    voting_total: int,
    present: int,
    cast: int,
) -> MotionOutcome:
    """Passed iff yes >= rule.required(basis); `cast` counts ballots returned, void ones included."""
    if not isinstance(counts, OptionCounts):
        counts = OptionCounts.from_mapping(counts)
    for label, value in (("应到人数", voting_total), ("实到人数", present), ("参加表决人数", cast)):
        require_non_negative(label, value)
    # Each figure is a subset of the next; a breach means the caller mixed up two rounds or groups.
    if present > voting_total:
        raise DomainError("count_exceeds_total", f"实到 {present} 人，多于全体职工代表 {voting_total} 人")
    if cast > present:
        raise DomainError("count_exceeds_total", f"参加表决 {cast} 人，多于实到 {present} 人")
    if counts.total > cast:
        raise DomainError(
            "count_exceeds_total", f"赞成、反对、弃权合计 {counts.total} 票，多于参加表决的 {cast} 人"
        )

    basis_count = rule.basis_count(voting_total, present, cast)
    required = rule.required(basis_count)
    passed = counts.yes >= required
    words = (
        f"赞成 {counts.yes} 票，{rule.measure_words(basis_count, passed)}，{'通过' if passed else '未通过'}"
    )
    return MotionOutcome(
        passed=passed, yes=counts.yes, basis_count=basis_count, required=required, words=words
    )
