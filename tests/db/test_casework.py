"""Casework on both databases: a merge tells both sides; a B reply (正在解决) accepted stays open
until the department reports the result; departments chosen from a list, a missing one added by
staff with its sign-in; similarity in words."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from congress.actions.base import Context
from congress.actions.casework import (
    assign_proposal,
    decide_proposal,
    rate_reply,
    reply_proposal,
)
from congress.actions.departments import create_department, list_departments
from congress.actions.proposal_views import (
    department_cases,
    proposal_detail,
    proposal_stats,
    triage,
)
from congress.actions.proposals import submit_proposal
from congress.auth import delegate_actor, observer_actor
from congress.db.models import Account, Department, Proposal
from congress.domain.errors import DomainError
from congress.service import system_clock
from tests.db.test_proposals import act, department, file
from tests.story import SETUP, build_story

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
    assert [(c["status"], c["status_label"], c["is_lead"]) for c in cases] == [("following_up", "跟踪落实中", True)]
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
