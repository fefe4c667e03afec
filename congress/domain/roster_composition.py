"""The statutory composition of a congress's delegates (代表构成), as warnings with the figures: on
the roster as read and on the roster in the database. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from typing import Protocol

from congress.domain.kinds import VOTING_TYPE


class _HasRoleAndType(Protocol):
    # Read-only (properties), so a frozen RosterRow and a Delegate row both fit.
    @property
    def role(self) -> str: ...
    @property
    def delegate_type(self) -> str: ...


def composition_warnings(
    rows: Iterable[_HasRoleAndType],
    *,
    max_managers: Fraction = Fraction(1, 5),
    min_front_line: Fraction = Fraction(1, 2),
    max_non_voting: Fraction = Fraction(1, 5),
) -> list[str]:
    """Statutory composition of the delegates, as warnings with the actual figures.

    管理人员 + 领导人员 at most ``max_managers`` of the 正式代表; 一线职工 at least
    ``min_front_line`` of them; 列席 + 特邀 at most ``max_non_voting`` of the number of 正式代表.
    """
    voting = non_voting = managers = front_line = 0
    for row in rows:
        if row.delegate_type != VOTING_TYPE:
            non_voting += 1
            continue
        voting += 1
        managers += row.role in ("管理人员", "领导人员")
        front_line += row.role == "一线职工"
    if voting == 0:
        return ["名册中没有正式代表"] if non_voting else []
    warnings = []
    share = Fraction(managers, voting)
    if share > max_managers:
        warnings.append(
            f"管理人员和领导人员共 {managers} 人，占正式代表 {voting} 人的 {_percent(share, max_managers)}，"
            f"超过 {_percent(max_managers)}"
        )
    share = Fraction(front_line, voting)
    if share < min_front_line:
        warnings.append(
            f"一线职工 {front_line} 人，占正式代表 {voting} 人的 {_percent(share, min_front_line)}，"
            f"低于 {_percent(min_front_line)}"
        )
    share = Fraction(non_voting, voting)
    if share > max_non_voting:
        warnings.append(
            f"列席代表和特邀代表共 {non_voting} 人，为正式代表 {voting} 人的 {_percent(share, max_non_voting)}，"
            f"超过 {_percent(max_non_voting)}"
        )
    return warnings


def _percent(value: Fraction, avoid: Fraction | None = None) -> str:
    """``value`` as a percentage: "20%" when whole, else one decimal, more when one decimal would
    show exactly ``avoid`` (20.01% must not read as "20.0%, above 20%")."""
    percent = value * 100
    if percent.denominator == 1:
        return f"{percent}%"
    for digits in range(1, 6):
        shown = Fraction(round(percent * 10**digits), 10**digits)
        if avoid is None or shown != avoid * 100:
            break
    return f"{float(shown):.{digits}f}%"
