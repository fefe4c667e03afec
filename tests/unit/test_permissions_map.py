"""The permission map (congress.domain.permissions.GRANTS) as data: every permission belongs to someone,
observers hold nothing, and a delegate's leader-only and voting-only permissions are refused with
the code that tells them why."""

from __future__ import annotations

import pytest

from congress.application.auth import observer_actor
from congress.domain.errors import DomainError
from congress.domain.kinds import Role
from congress.domain.permissions import GRANTS, LEADER_ONLY, VOTING_ONLY, Actor, Permission

OWN_GROUP, OTHER_GROUP = 1, 2


def test_every_role_has_an_entry_in_the_map():
    assert set(GRANTS) == set(Role)


@pytest.mark.parametrize("permission", list(Permission))
def test_every_permission_is_granted_to_staff_a_delegate_or_a_department(permission):
    assert permission in GRANTS[Role.STAFF] | GRANTS[Role.DELEGATE] | GRANTS[Role.DEPARTMENT]


def test_observers_hold_no_permission_at_all():
    observer = observer_actor(congress_id=1)

    assert GRANTS[Role.OBSERVER] == frozenset()
    assert [p for p in Permission if observer.may(p) or observer.may(p, group_id=OWN_GROUP)] == []


@pytest.mark.parametrize("permission", list(Permission))
def test_observer_is_refused_every_permission_as_read_only(permission):
    with pytest.raises(DomainError) as refused:
        observer_actor(congress_id=1).require(permission)
    assert refused.value.code == "read_only"


def test_leader_only_and_voting_only_permissions_are_delegate_permissions():
    assert LEADER_ONLY <= GRANTS[Role.DELEGATE]
    assert VOTING_ONLY <= GRANTS[Role.DELEGATE]


def delegate(*, is_leader: bool = False, is_voting: bool = True) -> Actor:
    return Actor(role=Role.DELEGATE, name="代表", congress_id=1, delegate_id=7, group_id=OWN_GROUP,
                 is_group_leader=is_leader, is_voting=is_voting)


@pytest.mark.parametrize(("actor", "permission", "group_id", "code"), [
    (delegate(is_leader=True), Permission.ENTER_GROUP_COUNT, OWN_GROUP, None),
    (delegate(is_leader=True), Permission.ENTER_GROUP_COUNT, OTHER_GROUP, "other_group"),
    (delegate(), Permission.ENTER_GROUP_COUNT, OWN_GROUP, "not_group_leader"),
    (delegate(), Permission.SUBMIT_GROUP_OPINION, OWN_GROUP, "not_group_leader"),
    (delegate(), Permission.CAST_BALLOT, None, None),
    (delegate(is_voting=False), Permission.CAST_BALLOT, None, "not_voting_delegate"),
    (delegate(is_voting=False), Permission.FILE_PROPOSAL, None, "not_voting_delegate"),
    (delegate(is_voting=False), Permission.CHECK_IN_SELF, None, None),
    (delegate(is_leader=True), Permission.RUN_VOTE, None, "forbidden"),
    (delegate(is_leader=True), Permission.CHECK_IN_AT_DESK, None, "forbidden"),
    (Actor(role=Role.STAFF, name="工作人员", account_id=1), Permission.ENTER_GROUP_COUNT, OTHER_GROUP, None),
    (Actor(role=Role.STAFF, name="工作人员", account_id=1), Permission.CAST_BALLOT, None, "forbidden"),
    (Actor(role=Role.DEPARTMENT, name="人力资源部", account_id=2, department_id=1), Permission.REPLY_PROPOSAL,
     None, None),
    (Actor(role=Role.DEPARTMENT, name="人力资源部", account_id=2, department_id=1), Permission.REVIEW_PROPOSAL,
     None, "forbidden"),
])
def test_require_refuses_with_the_code_that_says_why(actor, permission, group_id, code):
    if code is None:
        actor.require(permission, group_id=group_id)
        assert actor.may(permission, group_id=group_id)
        return
    assert not actor.may(permission, group_id=group_id)
    with pytest.raises(DomainError) as refused:
        actor.require(permission, group_id=group_id)
    assert refused.value.code == code
