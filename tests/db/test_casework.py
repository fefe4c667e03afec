"""Casework on both databases: a merge tells both sides, a B reply accepted stays open until the
department reports, a department's cases each listed once and its page's congress, departments
chosen from a list (and added by staff), staff reading the group rooms, similarity in words."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from congress.actions.accounts import add_department
from congress.actions.agenda import set_current_item
from congress.actions.base import Context
from congress.actions.casework import (
    assign_proposal,
    decide_proposal,
    rate_reply,
    reply_proposal,
    report_misassigned,
)
from congress.actions.departments import create_department, list_departments
from congress.actions.proposals import submit_proposal
from congress.actions.rooms import group_rooms, hide_message, post_message
from congress.actions.setup import create_congress
from congress.application.auth import delegate_actor, observer_actor
from congress.application.service import system_clock
from congress.db.models import Account, Department, Proposal
from congress.domain.errors import DomainError
from congress.reads.proposal_views import (
    department_cases,
    department_congresses,
    proposal_detail,
    proposal_stats,
    triage,
)
from tests.db.test_proposals import act, department, file
from tests.story import GROUPS, SETUP, build_story

as_delegate = delegate_actor
HR = "人力资源部"


@pytest.fixture
def story(db):  # type: ignore[no-untyped-def]
    return build_story(db, with_codes=False)


def registered(db, story, proposer, cosigners, title="关于夜班食堂供应热饭的建议"):  # type: ignore[no-untyped-def]
    p = file(db, story, proposer, cosigners, title=title)
    act(db, as_delegate(proposer), submit_proposal, story.congress_id, p["id"])
    act(db, SETUP, decide_proposal, story.congress_id, p["id"], "立案")
    return p


def as_department(db, name=HR):  # type: ignore[no-untyped-def]
    with db.read() as session:
        return department(session, name)


# ---- a merge tells both sides --------------------------------------------------------------------

def test_a_merge_tells_the_proposer_and_co_signers_of_both_proposals(db, story):
    group = story.voting()[0].group_id
    a, b, c, d, e, f, g, h, i = story.voting(group)[:9]
    original = registered(db, story, a, [b, c])
    duplicate = file(db, story, d, [e, f], title="给夜班弄点夜宵")
    act(db, as_delegate(d), submit_proposal, story.congress_id, duplicate["id"])

    with db.write() as session:
        ctx = Context(session, SETUP, system_clock())
        decide_proposal(ctx, story.congress_id, duplicate["id"], "合并立案", merge_into_id=original["id"])
        told = [(e.type, e.audience, e.audience_id, e.payload) for e in ctx.events if e.type.endswith("_told")]

    decision_told = {who for type_, _aud, who, _p in told if type_ == "proposal.decision_told"}
    merge_told = {who: payload for type_, aud, who, payload in told if type_ == "proposal.merge_told"}
    assert decision_told == {d.id, e.id, f.id}  # the merged proposal's side, as before
    assert set(merge_told) == {a.id, b.id, c.id}  # the case it joined: new
    assert all(aud == "delegate" for _t, aud, _w, _p in told)
    payload = merge_told[a.id]
    assert (payload["proposal_id"], payload["title"], payload["merged_id"], payload["merged_title"]) == (
        original["id"], original["title"], duplicate["id"], "给夜班弄点夜宵")
    assert "id" not in payload  # a note, not a proposal: the delegate page leaves it to the public event

    # A third proposal merged later: everyone already credited on the case hears of it.
    third = file(db, story, g, [h, i], title="夜班食堂应供应热饭")
    act(db, as_delegate(g), submit_proposal, story.congress_id, third["id"])
    with db.write() as session:
        ctx = Context(session, SETUP, system_clock())
        decide_proposal(ctx, story.congress_id, third["id"], "合并立案", merge_into_id=original["id"])
        merge_told_again = {e.audience_id for e in ctx.events if e.type == "proposal.merge_told"}
    assert merge_told_again == {a.id, b.id, c.id, d.id, e.id, f.id}


# ---- a B reply accepted stays open (跟踪落实) --------------------------------------------------------

def test_a_b_reply_rated_basically_satisfied_stays_open_until_the_department_reports_the_result(db, story):
    proposer, *others = story.voting()[:3]
    p = registered(db, story, proposer, others)
    act(db, SETUP, assign_proposal, story.congress_id, p["id"], HR)
    act(db, as_department(db), reply_proposal, story.congress_id, p["id"], "B",
        "已列入今年食堂改造计划，夜班窗口预计十月开放。")
    act(db, as_delegate(proposer), rate_reply, story.congress_id, p["id"], "基本满意")

    with db.read() as session:
        assert session.get(Proposal, p["id"]).status == "following_up"
        cases = department_cases(Context(session, as_department(db), system_clock()), story.congress_id)["cases"]
        stats = proposal_stats(Context(session, observer_actor(story.congress_id), system_clock()), story.congress_id)
    assert [(c["status"], c["status_label"], c["is_current"], c["is_lead"]) for c in cases] == [
        ("following_up", "跟踪落实中", True, True)]
    assert (stats["cases"], stats["answered"], stats["ratings"]) == (1, 1, {"基本满意": 1})
    with pytest.raises(DomainError) as refused:  # nothing to rate until the department reports
        act(db, as_delegate(proposer), rate_reply, story.congress_id, p["id"], "满意")
    assert refused.value.code == "bad_proposal_state"

    # The department reports the result in the same round; the proposer rates it; now it closes.
    act(db, as_department(db), reply_proposal, story.congress_id, p["id"], "A",
        "夜班窗口已于十月一日开放，供应热饭至凌晨两点。")
    act(db, as_delegate(proposer), rate_reply, story.congress_id, p["id"], "满意")
    with db.read() as session:
        detail = proposal_detail(Context(session, observer_actor(story.congress_id), system_clock()),
                                 story.congress_id, p["id"])
    assert detail["status"] == "closed"
    assert [(r["round"], r["reply_class"], [x["rating"] for x in r["ratings"]]) for r in detail["rounds"]] == [
        (1, "B", ["基本满意"]), (1, "A", ["满意"])]


@pytest.mark.parametrize("reply_class", ["A", "C", "D"])
def test_a_final_answer_rated_basically_satisfied_closes_the_case(db, story, reply_class):
    proposer, *others = story.voting()[:3]
    p = registered(db, story, proposer, others)
    act(db, SETUP, assign_proposal, story.congress_id, p["id"], HR)
    act(db, as_department(db), reply_proposal, story.congress_id, p["id"], reply_class,
        "经研究答复如下：已作说明，请提案人知悉。")
    act(db, as_delegate(proposer), rate_reply, story.congress_id, p["id"], "基本满意")
    with db.read() as session:
        assert session.get(Proposal, p["id"]).status == "closed"


# ---- a department's cases and the congress its page opens ----------------------------------------

def test_a_case_reopened_by_dissatisfaction_is_listed_once_in_its_current_round(db, story):
    proposer, *others = story.voting()[:3]
    p = registered(db, story, proposer, others)
    act(db, SETUP, add_department, "财务部")
    act(db, SETUP, assign_proposal, story.congress_id, p["id"], HR, helpers=["财务部"],
        due_at=(system_clock() + timedelta(days=10)).isoformat())
    act(db, as_department(db), reply_proposal, story.congress_id, p["id"], "C", "受条件限制，暂时无法实施，待条件具备后安排。")
    act(db, as_delegate(proposer), rate_reply, story.congress_id, p["id"], "不满意", "没有解决实际问题")

    with db.read() as session:
        lead = department_cases(Context(session, as_department(db), system_clock()), story.congress_id)["cases"]
        helper = department_cases(Context(session, as_department(db, "财务部"), system_clock()),
                                  story.congress_id)["cases"]
    assert [(c["id"], c["round"], c["status"], c["is_lead"], c["is_current"]) for c in lead] == [
        (p["id"], 2, "assigned", True, True)]
    assert [(c["id"], c["round"], c["is_lead"], c["is_current"]) for c in helper] == [(p["id"], 2, False, True)]


def test_a_case_the_department_returned_and_staff_handed_elsewhere_is_no_longer_its_current_case(db, story):
    proposer, *others = story.voting()[:3]
    p = registered(db, story, proposer, others)
    act(db, SETUP, add_department, "安全环保部")
    act(db, SETUP, assign_proposal, story.congress_id, p["id"], HR)
    act(db, as_department(db), report_misassigned, story.congress_id, p["id"], "属于安全环保部职责")
    act(db, SETUP, assign_proposal, story.congress_id, p["id"], "安全环保部")
    with db.read() as session:
        old = department_cases(Context(session, as_department(db), system_clock()), story.congress_id)["cases"]
        new = department_cases(Context(session, as_department(db, "安全环保部"), system_clock()),
                               story.congress_id)["cases"]
    assert [(c["round"], c["is_current"]) for c in old] == [(1, False)]
    assert [(c["round"], c["is_current"]) for c in new] == [(2, True)]


def test_the_department_page_opens_the_congress_holding_its_open_cases_not_the_newest(db, story):
    proposer, *others = story.voting()[:3]
    p = registered(db, story, proposer, others)
    act(db, SETUP, assign_proposal, story.congress_id, p["id"], HR)
    with db.write() as session:  # next year's congress, being prepared: listed first, holds nothing of HR
        newer = create_congress(Context(session, SETUP, system_clock()), "第十届职代会第四次会议", ["主会场"]).id
    assert newer > story.congress_id

    with db.read() as session:
        found = department_congresses(Context(session, as_department(db), system_clock()), newer)
        with pytest.raises(DomainError) as refused:
            department_congresses(Context(session, SETUP, system_clock()), newer)
    assert found == {"congresses": [{"congress_id": story.congress_id, "name": "第十届职代会第三次会议", "cases": 1,
                                     "open_cases": 1}], "open_congress_id": story.congress_id}
    assert refused.value.code == "forbidden"

    # Once replied and closed, it is still the congress holding the department's cases.
    act(db, as_department(db), reply_proposal, story.congress_id, p["id"], "A", "已在夜班时段开设热饭窗口，供应到凌晨两点。")
    act(db, as_delegate(proposer), rate_reply, story.congress_id, p["id"], "满意")
    with db.read() as session:
        found = department_congresses(Context(session, as_department(db), system_clock()), newer)
    assert found["open_congress_id"] == story.congress_id and found["congresses"][0]["open_cases"] == 0


# ---- departments chosen from a list, added by staff ----------------------------------------------

def test_staff_choose_departments_from_the_list_and_add_a_missing_one_with_its_sign_in(db, story):
    proposer, *others = story.voting()[:3]
    p = registered(db, story, proposer, others)
    with db.write() as session:
        ctx = Context(session, SETUP, system_clock())
        added = create_department(ctx, story.congress_id, "  后勤 服务中心 ")
        events = [(e.type, e.audience, e.payload) for e in ctx.events]
    assert (added["name"], added["login"]) == ("后勤 服务中心", "后勤 服务中心") and len(added["password"]) >= 10
    assert events == [("department.added", "staff", {"id": added["id"], "name": "后勤 服务中心"})]
    with db.read() as session:
        listed = list_departments(Context(session, SETUP, system_clock()), story.congress_id)["departments"]
        account = session.scalar(sa.select(Account).where(Account.login == "后勤 服务中心"))
    assert [(d["name"], d["can_sign_in"]) for d in listed] == sorted([(HR, True), ("后勤 服务中心", True)])
    assert account is not None and account.kind == "department" and account.department_id == added["id"]

    with pytest.raises(DomainError) as refused:
        act(db, SETUP, create_department, story.congress_id, HR)
    assert refused.value.code == "department_exists"
    with pytest.raises(DomainError) as refused:
        act(db, SETUP, assign_proposal, story.congress_id, p["id"], HR, helpers=[HR])
    assert refused.value.code == "bad_field" and "主办部门" in refused.value.message
    with pytest.raises(DomainError) as refused:  # a typo still cannot reach a case
        act(db, SETUP, assign_proposal, story.congress_id, p["id"], "人力资源")
    assert refused.value.code == "not_found" and "从承办部门列表中选择" in refused.value.message

    assigned = act(db, SETUP, assign_proposal, story.congress_id, p["id"], HR, helpers=["后勤 服务中心"])
    assert (assigned["lead_department"], assigned["helper_departments"]) == (HR, ["后勤 服务中心"])


def test_only_staff_list_or_add_departments(db, story):
    delegate = story.voting()[0]
    for who in (as_delegate(delegate), observer_actor(story.congress_id), as_department(db)):
        for fn, args in ((list_departments, ()), (create_department, ("新部门",))):
            with pytest.raises(DomainError) as refused:
                act(db, who, fn, story.congress_id, *args)
            assert refused.value.code in ("forbidden", "read_only")
    with db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Department)) == 1


# ---- staff read the group rooms ------------------------------------------------------------------

def test_staff_read_every_groups_room_for_the_current_item_and_no_one_else_reads_them_this_way(db, story):
    report, motion = story.agenda[0]["id"], story.agenda[1]["id"]
    groups = sorted({d.group_id for d in story.voting()})
    first, second = story.voting(groups[0])[0], story.voting(groups[1])[0]
    leader = story.leader(groups[0])
    act(db, SETUP, set_current_item, story.congress_id, report)
    act(db, as_delegate(first), post_message, story.congress_id, "报告里的安全投入数字需要说明。", agenda_item_id=report)
    rude = act(db, as_delegate(first), post_message, story.congress_id, "不相干的广告", agenda_item_id=report)
    act(db, as_delegate(second), post_message, story.congress_id, "同意报告。", agenda_item_id=report)
    act(db, as_delegate(second), post_message, story.congress_id, "薪酬方案的问题。", agenda_item_id=motion)
    act(db, as_delegate(leader), hide_message, story.congress_id, rude["id"], "与议题无关")

    with db.read() as session:
        now = group_rooms(Context(session, SETUP, system_clock()), story.congress_id)
        other = group_rooms(Context(session, SETUP, system_clock()), story.congress_id, agenda_item_id=motion)
    assert now["agenda_item"] == {"id": report, "title": "审议公司工作报告"}
    rooms = {g["group_id"]: g["messages"] for g in now["groups"]}
    assert len(now["groups"]) == len(GROUPS)  # every group, with or without messages
    assert [m.get("text") for m in rooms[groups[0]]] == ["报告里的安全投入数字需要说明。", None]
    assert (rooms[groups[0]][1]["is_hidden"], rooms[groups[0]][1]["hidden_reason"]) == (True, "与议题无关")
    assert [m["text"] for m in rooms[groups[1]]] == ["同意报告。"]
    assert [m["text"] for g in other["groups"] for m in g["messages"]] == ["薪酬方案的问题。"]

    for who in (as_delegate(first), as_delegate(leader), observer_actor(story.congress_id), as_department(db)):
        with pytest.raises(DomainError) as refused:
            act(db, who, group_rooms, story.congress_id)
        assert refused.value.code in ("forbidden", "read_only")
    with pytest.raises(DomainError) as refused:
        act(db, SETUP, group_rooms, story.congress_id, agenda_item_id=999_999)
    assert refused.value.code == "not_found"


# ---- similarity in words -------------------------------------------------------------------------

def test_the_review_queue_gives_each_similar_proposal_in_words_and_as_a_share_of_the_duplicate_threshold(db, story):
    group = story.voting()[0].group_id
    a, b, c, d, e, f = story.voting(group)[:6]
    original = registered(db, story, a, [b, c])
    duplicate = file(db, story, d, [e, f], title="给夜班弄点夜宵")
    act(db, as_delegate(d), submit_proposal, story.congress_id, duplicate["id"])
    with db.read() as session:
        queue = triage(Context(session, SETUP, system_clock()), story.congress_id)
    assert queue["duplicate_threshold"] == 10.0
    hit = next(s for s in queue["proposals"][0]["similar"] if s["id"] == original["id"])
    assert hit["level"] == ("duplicate" if hit["is_likely_duplicate"] else hit["level"])
    assert hit["level"] in ("duplicate", "close") and 0.7 <= hit["share"] <= 1.0
    for s in queue["proposals"][0]["similar"]:
        assert s["level"] in ("duplicate", "close", "some", "faint") and 0 <= s["share"] <= 1
