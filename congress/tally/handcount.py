"""Checking a group leader's hand count (分组计票) before it joins the congress-wide tally.

Entry mistakes are refused with a DomainError so the leader can correct them. A paper round with
more ballots returned than issued is not a typing slip but a fact: the round is void and is
reported as such (no exception), so a new round can be held and the record keeps what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from congress.domain.errors import DomainError
from congress.tally.counting import GroupTally
from congress.tally.motion import option_label
from congress.tally.words import require_non_negative


class CountMethod(StrEnum):
    SHOW_OF_HANDS = "show_of_hands"  # 举手表决
    PAPER = "paper"  # 纸质选票

    @property
    def label(self) -> str:
        return "举手表决" if self is CountMethod.SHOW_OF_HANDS else "纸质选票"


@dataclass(frozen=True, slots=True)
class GroupCountCheck:
    is_void_round: bool
    words: str


def _exceeds(what: str, value: int, checked_in_voting: int) -> DomainError:
    return DomainError(
        "group_count_exceeds_present",
        f"{what} {value}，超过本组已签到的正式代表 {checked_in_voting} 人，请核对后重新填写",
    )


def _does_not_add_up(message: str) -> DomainError:
    return DomainError("group_count_does_not_add_up", message + "，请核对后重新填写")


def validate_group_count(
    entry: GroupTally,
    checked_in_voting: int,
    is_secret: bool,
    method: CountMethod | str,
    seats: int | None = None,
) -> GroupCountCheck:
    """Check a group's hand count against the group's checked-in voting delegates.

    `seats` marks an election question (a ballot may mark up to `seats` names, so per-candidate
    counts need not add up to the valid ballots); leave it None for yes/no and rating questions,
    where every valid ballot carries exactly one choice. For a show of hands build the entry with
    `GroupTally.show_of_hands`.
    """
    try:
        method = CountMethod(method)
    except ValueError:
        raise DomainError(
            "unknown_count_method", f"计票方式只能是举手表决或纸质选票，收到：{method}"
        ) from None
    require_non_negative("本组已签到的正式代表人数", checked_in_voting)
    if is_secret and method is CountMethod.SHOW_OF_HANDS:
        raise DomainError(
            "show_of_hands_for_secret", "本事项为无记名投票，不能以举手表决计票，请改用纸质选票"
        )

    if entry.present > checked_in_voting:
        raise _exceeds("填写的实到人数", entry.present, checked_in_voting)
    if entry.issued > entry.present:
        raise DomainError(
            "group_count_exceeds_present",
            f"发出选票 {entry.issued} 张，多于实到的 {entry.present} 人，请核对后重新填写",
        )
    if method is CountMethod.PAPER and entry.returned > entry.issued:
        return GroupCountCheck(
            is_void_round=True,
            words=f"收回选票 {entry.returned} 张，多于发出的 {entry.issued} 张，本轮表决无效，需重新投票",
        )
    for option, count in entry.counts.items():
        if count > checked_in_voting:
            raise _exceeds(f"“{option_label(option)}”票数", count, checked_in_voting)

    if method is CountMethod.SHOW_OF_HANDS:
        if (entry.issued, entry.returned, entry.valid, entry.void) != (entry.present,) * 3 + (0,):
            raise _does_not_add_up("举手表决不发选票：发出、收回、有效人数应等于实到人数，无效应为 0")
    elif entry.valid + entry.void != entry.returned:
        raise _does_not_add_up(
            f"有效票 {entry.valid} 张与无效票 {entry.void} 张合计 {entry.valid + entry.void} 张，"
            f"与收回的 {entry.returned} 张不符"
        )

    counted = sum(entry.counts.values())
    base = "实到人数" if method is CountMethod.SHOW_OF_HANDS else "有效票数"
    if seats is None:
        if counted != entry.valid:
            raise _does_not_add_up(f"各选项合计 {counted} 票，与{base} {entry.valid} 不符")
    else:
        for candidate, count in entry.counts.items():
            if count > entry.valid:
                raise _does_not_add_up(f"候选人 {candidate} 得 {count} 票，多于{base} {entry.valid}")
        if counted > entry.valid * seats:
            raise _does_not_add_up(
                f"候选人得票合计 {counted} 票，多于{base} {entry.valid} × 应选 {seats} 名 = {entry.valid * seats}"
            )

    if method is CountMethod.SHOW_OF_HANDS:
        words = f"举手表决：实到 {entry.present} 人，合计 {counted} 票，核对无误"
    else:
        words = (
            f"纸质选票：实到 {entry.present} 人，发出 {entry.issued} 张，收回 {entry.returned} 张，"
            f"有效 {entry.valid} 张，无效 {entry.void} 张，核对无误"
        )
    return GroupCountCheck(is_void_round=False, words=words)
