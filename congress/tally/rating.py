"""Rating questions (民主评议): counts per scale option and their shares, exact."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from congress.domain.errors import DomainError
from congress.tally.words import percent_words, require_non_negative

DEFAULT_SCALE: tuple[str, ...] = ("称职", "基本称职", "不称职")


@dataclass(frozen=True, slots=True)
class RatingLine:
    option: str
    count: int
    share: Fraction  # of the valid ratings; 0 when there are none


@dataclass(frozen=True, slots=True)
class RatingOutcome:
    total: int
    lines: tuple[RatingLine, ...]  # in scale order
    words: str

    def share(self, option: str) -> Fraction:
        for line in self.lines:
            if line.option == option:
                return line.share
        raise KeyError(option)


def summarise_rating(counts: Mapping[str, int], scale: Sequence[str] = DEFAULT_SCALE) -> RatingOutcome:
    """Options missing from `counts` count zero; an option outside the scale is refused."""
    if len(set(scale)) != len(scale) or not scale:
        raise DomainError("invalid_scale", f"评议档次不能为空或重复：{list(scale)}")
    unknown = [option for option in counts if option not in scale]
    if unknown:
        raise DomainError("unknown_option", f"评议档次只有{'、'.join(scale)}，收到未知档次：{unknown}")
    for option, count in counts.items():
        require_non_negative(f"“{option}”票数", count)

    total = sum(counts.values())
    lines = tuple(
        RatingLine(
            option, counts.get(option, 0), Fraction(counts.get(option, 0), total) if total else Fraction(0)
        )
        for option in scale
    )
    if total:
        listed = "，".join(f"{line.option} {line.count} 票（{percent_words(line.share)}）" for line in lines)
        words = f"有效评议票 {total} 张：{listed}"
    else:
        words = "尚无有效评议票"
    return RatingOutcome(total=total, lines=lines, words=words)
