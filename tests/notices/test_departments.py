"""Departments' notices beyond the lead's first round, on both databases, through the real SMTP sink
and robot receiver: helping (协办) departments hear the assignment and the reminders; a 不满意 rating
tells the department(s) the case is back for another round."""

from __future__ import annotations

from datetime import timedelta

import pytest

from congress.actions.accounts import add_department
from congress.actions.casework import assign_proposal, rate_reply, reply_proposal, report_misassigned
from congress.actions.notices import set_notices
from congress.application.auth import delegate_actor
from tests.db.test_casework import as_department, registered
from tests.db.test_proposals import act
from tests.notices.steps import HQ, HQ_MAIL, KINDS, drain, view
from tests.notices.test_delivery import HR, HR_MAIL, T0, UNION_MAIL, channel
from tests.story import SETUP

# ---- 3. helping departments hear too ---------------------------------------------------------------

def test_a_helping_department_hears_the_assignment_and_the_reminders_as_协办(db, story, smtp_sink):  # type: ignore[no-untyped-def]
    act(db, SETUP, add_department, HQ)
    channel(db, story, "department", "email", HR_MAIL)
    channel(db, story, "department", "email", HQ_MAIL, department=HQ)
    channel(db, story, "staff", "email", UNION_MAIL)
    a, b, c = story.voting()[:3]
    p = registered(db, story, a, [b, c])
    act(db, SETUP, assign_proposal, story.congress_id, p["id"], HR, helpers=[HQ],
        due_at=(T0 + timedelta(days=8)).isoformat(), now=T0)
    for day in (0, 1, 7, 8, 9):
        drain(db, T0 + timedelta(days=day, minutes=1))

    helper = smtp_sink.subjects(HQ_MAIL)
    assert [sum(w in s for s in helper) for w in KINDS] == [1, 1, 1, 1] and len(helper) == 4
    assert all("（协办）" in s for s in helper)
    bodies = [m.get_content() for m in smtp_sink.messages if str(m["To"]) == HQ_MAIL]
    assert all(f"协办（主办部门：{HR}）" in body for body in bodies)
    lead = smtp_sink.subjects(HR_MAIL)
    assert len(lead) == 4 and not any("协办" in s for s in lead)
    assert len(smtp_sink.subjects(UNION_MAIL)) == 1  # staff hear of the overdue case once, not per department


def test_a_helping_departments_reminders_stop_when_the_lead_answers(db, story, smtp_sink):  # type: ignore[no-untyped-def]
    act(db, SETUP, add_department, HQ)
    channel(db, story, "department", "email", HQ_MAIL, department=HQ)
    a, b, c = story.voting()[:3]
    p = registered(db, story, a, [b, c])
    act(db, SETUP, assign_proposal, story.congress_id, p["id"], HR, helpers=[HQ],
        due_at=(T0 + timedelta(days=8)).isoformat(), now=T0)
    act(db, as_department(db), reply_proposal, story.congress_id, p["id"], "A", "已在夜班食堂开设热饭窗口，每晚供应。",
        now=T0 + timedelta(hours=1))
    counts = drain(db, T0 + timedelta(days=9))
    assert counts["sent"] == 1 and counts["cancelled"] == 3
    assert [s[:6] for s in smtp_sink.subjects(HQ_MAIL)] == ["【提案交办】"]


# ---- 4. 不满意 opens a new round, and the departments hear it -------------------------------------------

@pytest.mark.parametrize("rule_on", [True, False])
def test_an_unsatisfied_rating_tells_the_departments_to_handle_the_case_again(
        db, story, smtp_sink, robots, rule_on):  # type: ignore[no-untyped-def]
    act(db, SETUP, add_department, HQ)
    channel(db, story, "department", "wecom", robots.url("/wecom/hr?key=k-1"))
    channel(db, story, "department", "email", HQ_MAIL, department=HQ)
    if not rule_on:
        act(db, SETUP, set_notices, story.congress_id, rules={"reopened": False})
    rules = {r["key"]: r for r in view(db, story.congress_id)["rules"]}
    assert rules["reopened"]["on"] is rule_on and "不满意" in rules["reopened"]["words"]
    a, b, c = story.voting()[:3]
    p = registered(db, story, a, [b, c])
    act(db, SETUP, assign_proposal, story.congress_id, p["id"], HR, helpers=[HQ], now=T0)
    act(db, as_department(db), reply_proposal, story.congress_id, p["id"], "C", "受场地所限，明年再考虑开设夜班窗口。",
        now=T0 + timedelta(hours=1))
    drain(db, T0 + timedelta(hours=1))
    act(db, delegate_actor(a), rate_reply, story.congress_id, p["id"], "不满意", "夜班职工仍然吃不上热饭",
        now=T0 + timedelta(hours=2))
    drain(db, T0 + timedelta(hours=2))

    again = [t for t in robots.texts("/wecom") if "【重新办理】" in t]
    helper = [m for m in smtp_sink.messages if "【重新办理】" in str(m["Subject"])]
    if not rule_on:
        assert again == [] and helper == []
        return
    assert len(again) == 1 and "提案人对答复不满意，请再次办理" in again[0] and "第 2 轮" in again[0]
    assert f"/department?congress={story.congress_id}#proposal-{p['id']}" in again[0]
    assert len(helper) == 1 and str(helper[0]["To"]) == HQ_MAIL and "协办" in helper[0].get_content()
    assert "夜班职工仍然吃不上热饭" not in again[0]  # the proposer's words stay on the page, not in a group chat


def test_a_case_reassigned_to_another_department_with_the_same_due_date_stops_the_first_ones_reminders(
        db, story, smtp_sink):  # type: ignore[no-untyped-def]
    act(db, SETUP, add_department, HQ)
    channel(db, story, "department", "email", HR_MAIL)
    channel(db, story, "department", "email", HQ_MAIL, department=HQ)
    a, b, c = story.voting()[:3]
    p = registered(db, story, a, [b, c])
    due = (T0 + timedelta(days=8)).isoformat()
    act(db, SETUP, assign_proposal, story.congress_id, p["id"], HR, due_at=due, now=T0)
    act(db, as_department(db), report_misassigned, story.congress_id, p["id"], "食堂归后勤服务中心管理",
        now=T0 + timedelta(hours=1))
    act(db, SETUP, assign_proposal, story.congress_id, p["id"], HQ, due_at=due, now=T0 + timedelta(hours=2))
    for day in (0, 1, 7, 8):
        drain(db, T0 + timedelta(days=day, minutes=1))
    assert [s[:6] for s in smtp_sink.subjects(HR_MAIL)] == ["【提案交办】"]  # no longer its case: no reminder
    assert len(smtp_sink.subjects(HQ_MAIL)) == 4
