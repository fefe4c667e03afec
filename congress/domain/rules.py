"""A congress's configurable rules, with the statutory defaults."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from fractions import Fraction
from typing import Any

from congress.domain.errors import DomainError


def parse_fraction(text: str, field: str, path: str | None = None) -> Fraction:
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError) as exc:
        raise DomainError("bad_field", f"{field} 应为分数，例如 2/3", params={"field": path or field}) from exc
    if not 0 < value <= 1:
        raise DomainError("bad_field", f"{field} 应在 0 和 1 之间", params={"field": path or field})
    return value


@dataclass(frozen=True, slots=True)
class CongressRules:
    quorum: str = "2/3"  # of all voting delegates
    quorum_inclusive: bool = True  # "at least" (True) or "more than" (False)
    cosigners_required: int = 2
    late_proposals: str = "between_sessions"  # between_sessions | refuse
    leader_pre_review_groups: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        parse_fraction(self.quorum, "quorum", "rules.quorum")
        if not 0 <= self.cosigners_required <= 20:
            raise DomainError("bad_field", "附议人数应在 0–20 之间", params={"field": "rules.cosigners_required"})
        if self.late_proposals not in ("between_sessions", "refuse"):
            raise DomainError("bad_field", "late_proposals 应为 between_sessions 或 refuse",
                              params={"field": "rules.late_proposals"})

    @property
    def quorum_fraction(self) -> Fraction:
        return Fraction(self.quorum)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["leader_pre_review_groups"] = list(self.leader_pre_review_groups)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CongressRules:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise DomainError("bad_field", f"未知的规则：{', '.join(unknown)}",
                              params={"field": f"rules.{unknown[0]}"})
        clean = dict(data)
        if "leader_pre_review_groups" in clean:
            clean["leader_pre_review_groups"] = tuple(clean["leader_pre_review_groups"])
        try:
            return cls(**clean)
        except TypeError as exc:
            raise DomainError("bad_field", f"规则格式不对：{exc}", params={"field": "rules"}) from exc
