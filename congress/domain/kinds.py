"""The allowed values of kinds and states, in one place, named as in the glossary."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    STAFF = "staff"
    DELEGATE = "delegate"
    DEPARTMENT = "department"
    OBSERVER = "observer"


class Audience(StrEnum):
    """Who may see an event."""

    PUBLIC = "public"
    GROUP = "group"  # that group's members and staff
    STAFF = "staff"
    DELEGATE = "delegate"  # that delegate and staff
    DELEGATES = "delegates"  # every delegate of the congress, and staff (not observers)


VOTING_TYPE = "正式代表"
DELEGATE_TYPES = ("正式代表", "列席代表", "特邀代表")
ROLES = ("一线职工", "专业技术人员", "管理人员", "领导人员")
GENDERS = ("男", "女")


class CongressStatus(StrEnum):
    PREPARING = "preparing"
    IN_SESSION = "in_session"  # from the first current agenda item on


# Congresses a delegate signs in to without naming one: those being prepared or in session (a
# status added later for a finished congress leaves it out).
SIGN_IN_STATUSES = (CongressStatus.PREPARING.value, CongressStatus.IN_SESSION.value)


class AgendaKind(StrEnum):
    REVIEW = "审议"
    APPROVE = "审议通过"
    DECIDE = "审议决定"
    ELECTION = "选举"
    EVALUATION = "民主评议"
    CONFIRM = "确认"
    NAME_LIST = "名单"


class VoteStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class QuestionKind(StrEnum):
    YES_NO = "yes_no"
    ELECTION = "election"
    RATING = "rating"


class GroupMode(StrEnum):
    ONLINE = "online"
    HAND_COUNT = "hand_count"
