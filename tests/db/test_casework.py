"""A B reply (正在解决) accepted stays open until the department reports the result; a final answer
accepted closes the case. On both databases."""

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
