"""届 and 次: a term's sessions, their labels, and which proposals are still open. Pure, no I/O.

A union holds one 职代会 a year within a 届 of 3–5 years; each is a session (次) of the term.
Names such as 纸业集团第十届职工代表大会第三次会议 carry both numbers; `parse_congress_name` reads
them (revision 0006 gives the congresses made before it their term this way).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from congress.domain.proposals import ProposalStatus

S = ProposalStatus
DIGITS = "零一二三四五六七八九"
# Open (docs/terms.md): filed and not yet settled — waiting for review, a case in hand (立案, 办理中,
# 已答复, 跟踪落实中). Not open: 已办结 (closed), 不予立案 (rejected), 合并立案 (answered through the
# case it joined, which is carried instead), 转为意见建议 / 转为议案 (left the proposal track), and
# drafts or 团长初审 (never filed).
OPEN_STATUSES = frozenset({S.SUBMITTED, S.REGISTERED, S.ASSIGNED, S.REPLIED, S.FOLLOWING_UP})


def chinese_number(n: int) -> str:
    """1..99 as written in 第十届, 第二十一次."""
    if not 1 <= n <= 99:
        return str(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else DIGITS[tens] + "十")
    return head + (DIGITS[ones] if ones else "")


def parse_number(text: str) -> int | None:
    """第…届/次's number: 三, 十, 十二, 二十, 12. None when it is not one."""
    if text.isdigit():
        return int(text)
    if not text or any(c not in DIGITS + "十" for c in text):
        return None
    if "十" not in text:
        return DIGITS.index(text) if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1:
        return None
    return (DIGITS.index(tens) if tens else 1) * 10 + (DIGITS.index(ones) if ones else 0)


_NAME = re.compile(r"^(?P<term>.*?第(?P<t>[0-9零一二三四五六七八九十]+)届.*?)第(?P<s>[0-9零一二三四五六七八九十]+)次")


@dataclass(frozen=True)
class ParsedName:
    term_name: str
    term_number: int | None
    session_number: int


def parse_congress_name(name: str) -> ParsedName:
    """纸业集团第十届职工代表大会第三次会议 -> (纸业集团第十届职工代表大会, 10, 3); a name without
    both numbers is a term of its own (the name itself) and its first session."""
    match = _NAME.match(name.strip())
    if match:
        term, session = parse_number(match["t"]), parse_number(match["s"])
        if term and session:
            return ParsedName(match["term"], term, session)
    return ParsedName(name.strip(), None, 1)


def session_label(term_number: int | None, session_number: int) -> str:
    """第十届第三次, or 第三次 when the term has no number."""
    head = f"第{chinese_number(term_number)}届" if term_number else ""
    return f"{head}第{chinese_number(session_number)}次"


def next_session_name(name: str, term_number: int | None, session_number: int) -> str:
    """The next session's default name: the previous name with its 第M次 counted on, else 《name》第M+1次会议."""
    following = session_number + 1
    parsed = parse_congress_name(name)
    if parsed.term_number is not None:
        old = f"第{chinese_number(session_number)}次"
        if old in name:
            return name.replace(old, f"第{chinese_number(following)}次", 1)
    return f"{name}（第{chinese_number(following)}次会议）"


def is_open(status: str) -> bool:
    return status in OPEN_STATUSES
