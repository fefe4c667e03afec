"""Quorum and ratification thresholds, in exact fractions and in the words staff read out.

"At least 2/3" (inclusive) and "more than half" (strict) differ by one vote exactly at the
boundary, so every threshold is a Fraction and every minimum is an integer computed from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from congress.domain.errors import DomainError
from congress.tally.words import fraction_words, require_non_negative

QUORUM_FRACTION = Fraction(2, 3)


class Basis(StrEnum):
    """Whose number a threshold is a share of."""

    ALL_VOTING = "all_voting"  # statutory default: all voting delegates, present or not
    PRESENT = "present"
    CAST = "cast"  # delegates who took part in this vote (ballots returned, void ones included)

    @property
    def label(self) -> str:
        return _BASIS_LABELS[self]


_BASIS_LABELS = {
    Basis.ALL_VOTING: "全体职工代表",
    Basis.PRESENT: "实到代表",
    Basis.CAST: "参加表决的代表",
}


def as_threshold(value: Fraction | int | str, strict: bool) -> Fraction:
    """Accept Fraction, int or "2/3" from configuration; refuse floats, whose 2/3 is not 2/3."""
    if isinstance(value, float) or not isinstance(value, Fraction | int | str):
        raise TypeError(f"threshold must be a Fraction, int or str like '2/3', not {type(value).__name__}")
    try:
        fraction = Fraction(value)
    except ValueError:
        raise DomainError("invalid_threshold", f"比例“{value}”无法识别，请填写如 1/2、2/3 的分数") from None
    if not 0 < fraction <= 1:
        raise DomainError("invalid_threshold", f"比例 {fraction} 必须大于 0 且不超过 1")
    if strict and fraction == 1:
        raise DomainError("invalid_threshold", "“超过全部”无法达到，请改用“达到全部”")
    return fraction


def minimum_count(fraction: Fraction, total: int, strict: bool) -> int:
    """The smallest integer n with n > fraction*total (strict) or n >= fraction*total."""
    product = fraction * total
    return math.floor(product) + 1 if strict else math.ceil(product)


def _verb(strict: bool) -> str:
    return "超过" if strict else "达到"


# ---------------------------------------------------------------- quorum


@dataclass(frozen=True, slots=True)
class QuorumResult:
    present: int
    required: int
    met: bool
    words: str


def quorum_required(voting_total: int, fraction: Fraction = QUORUM_FRACTION, inclusive: bool = True) -> int:
    """Minimum number of voting delegates present for the congress to be quorate."""
    require_non_negative("应到人数", voting_total)
    fraction = as_threshold(fraction, strict=not inclusive)
    return minimum_count(fraction, voting_total, strict=not inclusive)


def check_quorum(
    present: int,
    voting_total: int,
    fraction: Fraction = QUORUM_FRACTION,
    inclusive: bool = True,
) -> QuorumResult:
    require_non_negative("实到人数", present)
    require_non_negative("应到人数", voting_total)
    if present > voting_total:
        raise DomainError("count_exceeds_total", f"实到 {present} 人，多于应到的 {voting_total} 人")
    fraction = as_threshold(fraction, strict=not inclusive)
    required = quorum_required(voting_total, fraction, inclusive)
    met = present >= required
    verb = _verb(strict=not inclusive)
    head = f"实到 {present} 人，"
    share = f"应到 {voting_total} 人的{fraction_words(fraction)}（{required} 人）"
    words = head + verb + share + "，符合法定人数" if met else head + "未" + verb + share
    return QuorumResult(present=present, required=required, met=met, words=words)


# ---------------------------------------------------------------- ratification


@dataclass(frozen=True, slots=True)
class Rule:
    """How many yes votes (or votes for a candidate) a question needs, e.g. more than half of all voting.

    `threshold` also accepts "1/2" or an int from configuration; it is stored as a Fraction.
    """

    basis: Basis = Basis.ALL_VOTING
    threshold: Fraction = Fraction(1, 2)
    strict: bool = True

    def __post_init__(self) -> None:
        # Frozen: normalise through object.__setattr__ so configuration strings become exact values.
        object.__setattr__(self, "basis", Basis(self.basis))
        object.__setattr__(self, "threshold", as_threshold(self.threshold, self.strict))

    def required(self, basis_count: int) -> int:
        """Minimal yes count. Never below 1: no motion passes and nobody is elected without a vote."""
        require_non_negative(self.basis.label + "人数", basis_count)
        return max(1, minimum_count(self.threshold, basis_count, self.strict))

    def basis_count(self, voting_total: int, present: int, cast: int) -> int:
        return {Basis.ALL_VOTING: voting_total, Basis.PRESENT: present, Basis.CAST: cast}[self.basis]

    def describe(self, subject: str = "赞成票") -> str:
        """The rule as staff state it: 赞成票超过全体职工代表的半数."""
        return f"{subject}{_verb(self.strict)}{self.basis.label}的{fraction_words(self.threshold)}"

    def measure_words(self, basis_count: int, reached: bool, unit: str = "票") -> str:
        """The middle of an outcome sentence: 未超过全体职工代表 295 人的半数（148 票）."""
        negation = "" if reached else "未"
        return (
            f"{negation}{_verb(self.strict)}{self.basis.label} {basis_count} 人的"
            f"{fraction_words(self.threshold)}（{self.required(basis_count)} {unit}）"
        )


DEFAULT_RULE = Rule()
