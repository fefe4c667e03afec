"""Casework on both databases: a merge tells both sides; a B reply (正在解决) accepted stays open
until the department reports the result, a final answer accepted closes the case."""

from __future__ import annotations

import pytest

from congress.actions.base import Context
from congress.actions.casework import (
    assign_proposal,
    decide_proposal,
    rate_reply,
    reply_proposal,
)
from congress.actions.proposal_views import (
    department_cases,
    proposal_detail,
    proposal_stats,
)
from congress.actions.proposals import submit_proposal
from congress.auth import delegate_actor, observer_actor
from congress.db.models import Proposal
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
