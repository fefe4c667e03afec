"""Who may see which event (congress.domain.watching.may_see), for each role, without a server."""

from __future__ import annotations

import pytest

from congress.domain.kinds import Audience, Role
from congress.domain.watching import may_see

# A delegate of group 7 with id 3
DELEGATE = {"group_id": 7, "delegate_id": 3}


@pytest.mark.parametrize(("role", "who", "audience", "audience_id", "expected"), [
    (Role.OBSERVER, {}, Audience.PUBLIC, None, True),
    (Role.OBSERVER, {}, Audience.DELEGATES, None, False),
    (Role.OBSERVER, {}, Audience.GROUP, 7, False),
    (Role.OBSERVER, {}, Audience.STAFF, None, False),
    (Role.DEPARTMENT, {}, Audience.PUBLIC, None, True),
    (Role.DEPARTMENT, {}, Audience.DELEGATES, None, False),
    (Role.STAFF, {}, Audience.GROUP, 7, True),
    (Role.STAFF, {}, Audience.DELEGATE, 3, True),
    (Role.STAFF, {}, Audience.STAFF, None, True),
    (Role.DELEGATE, DELEGATE, Audience.GROUP, 7, True),
    (Role.DELEGATE, DELEGATE, Audience.GROUP, 8, False),  # another group's room
    (Role.DELEGATE, DELEGATE, Audience.DELEGATE, 3, True),
    (Role.DELEGATE, DELEGATE, Audience.DELEGATE, 4, False),  # another delegate's receipt
    (Role.DELEGATE, DELEGATE, Audience.DELEGATES, None, True),
    (Role.DELEGATE, DELEGATE, Audience.STAFF, None, False),
])
def test_who_sees_an_event(role: Role, who: dict[str, int], audience: Audience, audience_id: int | None,
                           expected: bool) -> None:
    assert may_see(role, audience, audience_id, **who) is expected


def test_stored_audience_strings_are_read_alike() -> None:
    """Events carry their audience as text (the event table's column): the rule reads it the same."""
    assert may_see(Role.DELEGATE, "group", 7, group_id=7, delegate_id=3)
    assert not may_see(Role.OBSERVER, "delegates", None)
