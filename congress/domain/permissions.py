"""Permissions are data: one map from role to the actions it may take. Checked inside every action."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from congress.domain.errors import DomainError
from congress.domain.kinds import Role


class Permission(StrEnum):
    MANAGE_CONGRESS = "manage_congress"
    IMPORT_ROSTER = "import_roster"
    MANAGE_ACCOUNTS = "manage_accounts"
    MANAGE_AGENDA = "manage_agenda"
    CHECK_IN_SELF = "check_in_self"
    CHECK_IN_AT_DESK = "check_in_at_desk"
    RUN_VOTE = "run_vote"  # create, open, close, certify, publish, cancel
    CAST_BALLOT = "cast_ballot"
    ENTER_GROUP_COUNT = "enter_group_count"  # staff, or the leader of that group
    FILE_PROPOSAL = "file_proposal"
    COSIGN_PROPOSAL = "cosign_proposal"
    REVIEW_PROPOSAL = "review_proposal"  # decide, categorise, merge, assign, award
    PRE_REVIEW_PROPOSAL = "pre_review_proposal"  # 团长初审, the group's leader
    REPLY_PROPOSAL = "reply_proposal"
    RATE_REPLY = "rate_reply"
    POST_MESSAGE = "post_message"
    MODERATE_ROOM = "moderate_room"  # staff, or the leader of that group
    SUBMIT_GROUP_OPINION = "submit_group_opinion"  # the leader of that group
    REQUEST_TO_SPEAK = "request_to_speak"
    MANAGE_SPEAKERS = "manage_speakers"
    MANAGE_DOCUMENTS = "manage_documents"
    READ_STAFF_VIEWS = "read_staff_views"
    NAME_TRUSTEES = "name_trustees"  # staff name the scrutineers who make the key of secret votes
    ACT_AS_TRUSTEE = "act_as_trustee"  # a delegate named trustee: post key messages, decrypt tallies


# Permissions a delegate holds only as leader of their own group
LEADER_ONLY = frozenset({
    Permission.ENTER_GROUP_COUNT,
    Permission.PRE_REVIEW_PROPOSAL,
    Permission.MODERATE_ROOM,
    Permission.SUBMIT_GROUP_OPINION,
})
# Permissions a delegate holds only when voting (正式代表): vote, propose, co-sign
VOTING_ONLY = frozenset({
    Permission.CAST_BALLOT,
    Permission.FILE_PROPOSAL,
    Permission.COSIGN_PROPOSAL,
})

GRANTS: dict[Role, frozenset[Permission]] = {
    Role.STAFF: frozenset(Permission) - {
        Permission.CHECK_IN_SELF,
        Permission.CAST_BALLOT,
        Permission.FILE_PROPOSAL,
        Permission.COSIGN_PROPOSAL,
        Permission.REPLY_PROPOSAL,
        Permission.RATE_REPLY,
        Permission.REQUEST_TO_SPEAK,
        Permission.SUBMIT_GROUP_OPINION,
        Permission.PRE_REVIEW_PROPOSAL,
        Permission.ACT_AS_TRUSTEE,  # staff never hold a share of the trustees' key
    },
    Role.DELEGATE: frozenset({
        Permission.CHECK_IN_SELF,
        Permission.CAST_BALLOT,
        Permission.ENTER_GROUP_COUNT,
        Permission.FILE_PROPOSAL,
        Permission.COSIGN_PROPOSAL,
        Permission.PRE_REVIEW_PROPOSAL,
        Permission.RATE_REPLY,
        Permission.POST_MESSAGE,
        Permission.MODERATE_ROOM,
        Permission.SUBMIT_GROUP_OPINION,
        Permission.REQUEST_TO_SPEAK,
        Permission.ACT_AS_TRUSTEE,  # only where the delegate is a named trustee (actions.trustees)
    }),
    Role.DEPARTMENT: frozenset({Permission.REPLY_PROPOSAL}),
    Role.OBSERVER: frozenset(),  # observers change nothing
}


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting. Built from a session (or a watch link) by the interface, passed to every action."""

    role: Role
    name: str
    congress_id: int | None = None
    account_id: int | None = None
    delegate_id: int | None = None
    group_id: int | None = None
    department_id: int | None = None
    is_group_leader: bool = False
    is_voting: bool = False
    # The sign-in session it acts under: every command re-checks that it still grants this actor
    # (congress.application.access). None for actors without one: the system, the CLI, the demo, tests.
    session_id: int | None = None

    @property
    def principal(self) -> str:
        """A stable key for idempotent commands: who sent it."""
        if self.role is Role.DELEGATE:
            return f"delegate:{self.delegate_id}"
        if self.role is Role.OBSERVER:
            return "observer"
        return f"account:{self.account_id}"

    def may(self, permission: Permission, *, group_id: int | None = None) -> bool:
        if permission not in GRANTS[self.role]:
            return False
        if self.role is not Role.DELEGATE:
            return True
        if permission in VOTING_ONLY and not self.is_voting:
            return False
        if permission in LEADER_ONLY and not self.is_group_leader:
            return False
        # A delegate acts only for their own group
        return group_id is None or group_id == self.group_id

    def require_congress(self, congress_id: int | None) -> None:
        """A delegate (a group leader too) acts and reads only in the congress whose roster they are
        on; staff and departments serve every congress, an observer watches the one they opened.
        Checked before anything is looked up, so it says nothing about the other congress."""
        if self.role is Role.DELEGATE and congress_id != self.congress_id:
            raise DomainError("other_congress", "您不是本次职代会的代表")

    def require(self, permission: Permission, *, group_id: int | None = None) -> None:
        if self.may(permission, group_id=group_id):
            return
        if self.role is Role.OBSERVER:
            raise DomainError("read_only", "观众（云听会）只能观看，不能进行任何操作")
        if self.role is Role.DELEGATE and permission in VOTING_ONLY and not self.is_voting:
            raise DomainError("not_voting_delegate", "只有正式代表可以表决、提出或附议提案")
        if self.role is Role.DELEGATE and group_id is not None and group_id != self.group_id:
            raise DomainError("other_group", "不能代替其他代表团(组)操作")
        if self.role is Role.DELEGATE and permission in LEADER_ONLY:
            raise DomainError("not_group_leader", "只有本代表团(组)的团(组)长可以进行此操作")
        raise DomainError("forbidden", f"无权进行此操作（{permission.value}）")
