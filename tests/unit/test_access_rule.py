"""The rule every command and open connection obeys (congress.domain.access): a sign-in acts only while
its session is alive and the person's current rows grant exactly what it acts as."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from congress.domain.access import (
    ACCESS_CHANGED,
    SESSION_ENDED,
    Grant,
    SessionState,
    access_error,
    access_refusal,
    deactivation_refusal,
)

NOW = datetime(2026, 3, 20, 1, 30, tzinfo=UTC)
ALIVE = SessionState(revoked_at=None, expires_at=NOW + timedelta(hours=12))
LEADER = Grant("delegate", congress_id=1, delegate_id=7, group_id=6, is_group_leader=True, is_voting=True)
STAFF = Grant("staff", account_id=3)


def test_an_alive_session_with_unchanged_rows_acts() -> None:
    assert access_refusal(LEADER, ALIVE, LEADER, NOW) is None
    assert access_refusal(STAFF, ALIVE, STAFF, NOW) is None


def test_a_revoked_expired_or_missing_session_has_ended() -> None:
    assert access_refusal(LEADER, replace(ALIVE, revoked_at=NOW), LEADER, NOW) == SESSION_ENDED
    assert access_refusal(LEADER, replace(ALIVE, expires_at=NOW), LEADER, NOW) == SESSION_ENDED  # at the instant
    assert access_refusal(LEADER, None, LEADER, NOW) == SESSION_ENDED


def test_a_deactivated_account_or_a_delegate_off_the_roster_has_ended() -> None:
    assert access_refusal(STAFF, ALIVE, None, NOW) == SESSION_ENDED
    assert access_refusal(LEADER, ALIVE, None, NOW) == SESSION_ENDED


def test_every_part_that_a_permission_depends_on_counts_as_a_change() -> None:
    for changed in (replace(LEADER, is_group_leader=False), replace(LEADER, group_id=2),
                    replace(LEADER, is_voting=False), replace(LEADER, congress_id=2)):
        assert access_refusal(LEADER, ALIVE, changed, NOW) == ACCESS_CHANGED, changed
    assert access_refusal(STAFF, ALIVE, replace(STAFF, role="department"), NOW) == ACCESS_CHANGED
    department = Grant("department", account_id=4, department_id=1)
    assert access_refusal(department, ALIVE, replace(department, department_id=2), NOW) == ACCESS_CHANGED


def test_the_errors_say_what_to_do_in_chinese() -> None:
    ended, changed = access_error(SESSION_ENDED), access_error(ACCESS_CHANGED)
    assert ended.code == "session_ended" and "重新登录" in ended.message
    assert changed.code == "access_changed" and "重新连接" in changed.message


def test_the_last_active_staff_account_is_never_deactivated() -> None:
    refusal = deactivation_refusal("staff", True, other_active_staff=0)
    assert refusal is not None and refusal.code == "last_staff" and "唯一" in refusal.message
    assert deactivation_refusal("staff", True, other_active_staff=1) is None
    assert deactivation_refusal("department", True, other_active_staff=0) is None
    assert deactivation_refusal("staff", False, other_active_staff=0) is None  # already inactive: nothing lost
