"""The pure notice rules (congress.domain.notices): which notices an assignment makes and when,
when a reminder no longer applies, the back-off, and what a page shows of an address."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from congress.domain.errors import DomainError
from congress.domain.notices import (
    assignment_notices,
    backoff,
    check_address,
    check_rules,
    decision_notice,
    mask_address,
    rules_of,
    still_applies,
)

NOW = datetime(2027, 3, 1, 1, 0, tzinfo=UTC)


def kinds_and_days(planned):  # type: ignore[no-untyped-def]
    return [(p.kind, p.audience, (p.not_before - NOW) / timedelta(days=1)) for p in planned]


@pytest.mark.parametrize(("days", "expected"), [
    (8, [("assigned", "department", 0), ("due_7", "department", 1), ("due_1", "department", 7),
         ("overdue", "department", 8), ("staff_overdue", "staff", 8)]),
    (3, [("assigned", "department", 0), ("due_1", "department", 2), ("overdue", "department", 3),
         ("staff_overdue", "staff", 3)]),  # 7 days before is already past: no 7-day reminder
    (1, [("assigned", "department", 0), ("overdue", "department", 1), ("staff_overdue", "staff", 1)]),
])
def test_an_assignment_plans_its_notices_by_the_due_date(days, expected):  # type: ignore[no-untyped-def]
    planned = assignment_notices(rules_of(None), number=7, title="夜班热饭", department="人力资源部",
                                 due_at=NOW + timedelta(days=days), now=NOW)
    assert kinds_and_days(planned) == expected


def test_rules_switch_notices_off_and_no_due_date_means_no_reminders():  # type: ignore[no-untyped-def]
    rules = {**rules_of(None), "due_7": False, "staff_overdue": False}
    planned = assignment_notices(rules, number=7, title="夜班热饭", department="人力资源部",
                                 due_at=NOW + timedelta(days=8), now=NOW)
    assert [p.kind for p in planned] == ["assigned", "due_1", "overdue"]
    assert [p.kind for p in assignment_notices(rules_of(None), number=7, title="t", department="d", due_at=None,
                                               now=NOW)] == ["assigned"]
    assert rules_of(None)["vote_opened"] is False  # off by default
    assert [p.kind for p in decision_notice(rules_of(None), number=3, title="t", decision="合并立案", reason=None,
                                            now=NOW)] == ["proposer_merged"]


def test_words_are_chinese_in_beijing_time_and_hold_no_link():  # type: ignore[no-untyped-def]
    [assigned, *_] = assignment_notices(rules_of(None), number=7, title="夜班热饭", department="人力资源部",
                                        due_at=datetime(2027, 3, 9, 10, 0, tzinfo=UTC), now=NOW)
    assert assigned.subject == "【提案交办】第 7 号提案《夜班热饭》"
    assert "2027年03月09日 18:00（北京时间）" in assigned.body


def test_a_reminder_applies_only_while_the_case_waits_with_the_same_due_date():  # type: ignore[no-untyped-def]
    due = NOW + timedelta(days=8)
    assert still_applies("due_7", status="assigned", queued_due=due, current_due=due)
    assert not still_applies("due_7", status="replied", queued_due=due, current_due=due)
    assert not still_applies("overdue", status="closed", queued_due=due, current_due=due)
    assert not still_applies("staff_overdue", status="assigned", queued_due=due, current_due=due + timedelta(days=1))
    assert not still_applies("due_1", status="registered", queued_due=due, current_due=due)  # sent back (退回)
    assert still_applies("assigned", status="replied", queued_due=None, current_due=None)  # not a reminder


def test_back_off_doubles_from_30_seconds_to_at_most_an_hour():  # type: ignore[no-untyped-def]
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4, 5, 10, 20)] == [30, 60, 120, 240, 480, 3600, 3600]


def test_a_webhook_is_shown_by_its_host_and_last_four_characters_only():  # type: ignore[no-untyped-def]
    url = "https://oapi.dingtalk.com/robot/send?access_token=5f1c2e3d4b5a69788796a5b4c3d2e1f0a9b8c7d6"
    assert mask_address("dingtalk", url) == "oapi.dingtalk.com/…c7d6"
    assert mask_address("email", "hr@example.cn") == "hr@example.cn"


def test_bad_rules_and_addresses_are_refused_by_name():  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError, match="未知的通知规则：due_3"):
        check_rules({"due_3": True})
    with pytest.raises(DomainError, match="应为 是/否"):
        check_rules({"due_7": "yes"})
    with pytest.raises(DomainError, match="电子邮件地址不正确"):
        check_address("email", "not an address")
    with pytest.raises(DomainError, match="https://"):
        check_address("feishu", "javascript:alert(1)")
