"""Chinese wording shared by every outcome, so quorum, motions and elections read the same way."""

from __future__ import annotations

import math
from collections.abc import Iterable
from fractions import Fraction

from congress.domain.errors import DomainError

_DIGITS = "零一二三四五六七八九"
_UNITS = ("", "十", "百", "千")


def chinese_number(n: int) -> str:
    """0..9999 in Chinese numerals (十一, 一百零五, 一千零一十); other numbers stay in Arabic digits."""
    if not 0 <= n <= 9999:
        return str(n)
    if n == 0:
        return _DIGITS[0]
    text = str(n)
    parts: list[str] = []
    zero_pending = False
    for i, ch in enumerate(text):
        digit = int(ch)
        if digit == 0:
            zero_pending = True
            continue
        if zero_pending:
            parts.append(_DIGITS[0])  # 一百零五: one 零 stands for any run of zeros inside
            zero_pending = False
        parts.append(_DIGITS[digit] + _UNITS[len(text) - 1 - i])
    words = "".join(parts)
    # 十一 not 一十一: the leading 一 is dropped only for 10..19.
    return words[1:] if 10 <= n <= 19 else words


def fraction_words(fraction: Fraction) -> str:
    """A share of a whole as staff say it: 1/2 半数, 2/3 三分之二, 51/100 百分之五十一, 1 全部."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    if fraction == 1:
        return "全部"
    if fraction == Fraction(1, 2):
        return "半数"
    if fraction.denominator == 100:
        return "百分之" + chinese_number(fraction.numerator)
    return chinese_number(fraction.denominator) + "分之" + chinese_number(fraction.numerator)


def percent_words(share: Fraction) -> str:
    """A share as a percentage with one decimal, rounded half up with exact arithmetic: 2/3 -> 66.7%."""
    tenths = math.floor(share * 1000 + Fraction(1, 2))
    return f"{tenths // 10}.{tenths % 10}%"


def join_names(names: Iterable[str]) -> str:
    return "、".join(names)


def require_non_negative(label: str, value: int) -> None:
    """Counts come from people and forms; a negative one is a typing slip to refuse, not to clamp."""
    if value < 0:
        raise DomainError("negative_count", f"{label}不能为负数（填写的是 {value}）")
