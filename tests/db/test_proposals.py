"""Proposal rules on both databases: co-signers, the filing window, transitions, merging, rounds."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from congress.actions.base import Context
from congress.actions.casework import assign_proposal, decide_proposal, rate_reply, reply_proposal
from congress.actions.proposals import (
    answer_cosign,
    case_people,
    draft_proposal,
    edit_proposal,
    invite_cosigners,
    pre_review,
    submit_proposal,
)
from congress.actions.setup import set_rules
from congress.application.auth import actor_for_session, delegate_actor, observer_actor
from congress.application.service import system_clock
from congress.db.models import Account, Assignment, Congress, Event, Proposal, Reply, SignInSession
from congress.domain.errors import DomainError
from congress.domain.permissions import Actor
from congress.reads.proposal_views import (
    cosign_invitation,
    proposal_board,
    proposal_detail,
    proposal_stats,
    triage,
)
from congress.reads.suggestions import PreparedSuggestion, prepare_suggestion
from congress.tally.categorise import Suggestion
from tests.story import SETUP, build_story

as_delegate = delegate_actor


def department(session, name: str = "人力资源部") -> Actor:  # type: ignore[no-untyped-def]
    account = session.scalar(sa.select(Account).where(Account.display_name == name))
    actor = actor_for_session(session, SignInSession(role="department", account_id=account.id))
    assert actor is not None
    return actor


@pytest.fixture
def story(db):  # type: ignore[no-untyped-def]
    return build_story(db, with_codes=False)


def act(db, actor, fn, *args, now=None, **kwargs):  # type: ignore[no-untyped-def]
    with db.write() as session:
        return fn(Context(session, actor, now or system_clock()), *args, **kwargs)


def file(db, story, proposer, cosigners, *, accept=True, title="关于夜班食堂供应热饭的建议"):  # type: ignore[no-untyped-def]
    p = act(db, as_delegate(proposer), draft_proposal, story.congress_id, title,
            "夜班职工凌晨下班时食堂已关门，只能吃泡面。", "建议食堂为夜班提供热饭或夜宵窗口。")
    act(db, as_delegate(proposer), invite_cosigners, story.congress_id, p["id"], [c.employee_id for c in cosigners])
    if accept:
        for c in cosigners:
            act(db, as_delegate(c), answer_cosign, story.congress_id, p["id"], True)
    return p


def test_submission_needs_the_congress_number_of_cosigners(db, story):
    proposer, *others = story.voting()[:4]
    p = file(db, story, proposer, others[:1])
    with pytest.raises(DomainError) as refused:
        act(db, as_delegate(proposer), submit_proposal, story.congress_id, p["id"])
    assert refused.value.code == "too_few_cosigners" and "至少 2 名" in refused.value.message
    with pytest.raises(DomainError) as unasked:  # nobody co-signs a draft they were not asked to
        act(db, as_delegate(others[1]), answer_cosign, story.congress_id, p["id"], True)
    assert unasked.value.code == "not_found"
    act(db, as_delegate(proposer), invite_cosigners, story.congress_id, p["id"], [others[1].employee_id])
    act(db, as_delegate(others[1]), answer_cosign, story.congress_id, p["id"], True)
    submitted = act(db, as_delegate(proposer), submit_proposal, story.congress_id, p["id"])
    assert submitted["status"] == "submitted" and submitted["number"] == 1
    assert submitted["suggested_category"] == "生活福利" and 0 < submitted["category_confidence"] <= 1


def test_the_category_suggested_before_the_write_is_used_only_for_the_text_it_was_computed_for(db, story):
    """Command.prepare: the suggestion is computed in a read before the write; if the proposer edited
    the text meanwhile, the write suggests again for the text it submits."""
    proposer, a, b = story.voting()[:3]
    p = file(db, story, proposer, [a, b])
    with db.read() as session:
        prepared = prepare_suggestion(session, as_delegate(proposer), story.congress_id, {"proposal_id": p["id"]})
    assert prepared is not None and prepared.suggestion.category == "生活福利"
    with db.read() as session:  # observers and other congresses get nothing computed for them
        assert prepare_suggestion(session, observer_actor(story.congress_id), story.congress_id,
                                  {"proposal_id": p["id"]}) is None
        assert prepare_suggestion(session, as_delegate(proposer), story.congress_id + 1, {"proposal_id": p["id"]}) is None
    # A suggestion computed for the current text is taken as it is (here one the model would not give) ...
    forced = PreparedSuggestion(prepared.text, Suggestion("安全环保", 0.42))
    with db.write() as session:
        ctx = Context(session, as_delegate(proposer), system_clock(), prepared=forced)
        submitted = submit_proposal(ctx, story.congress_id, p["id"])
    assert (submitted["suggested_category"], submitted["category_confidence"]) == ("安全环保", 0.42)
    # ... one for a text that has changed since is not.
    q = file(db, story, proposer, [a, b])
    with db.read() as session:
        stale = prepare_suggestion(session, as_delegate(proposer), story.congress_id, {"proposal_id": q["id"]})
    act(db, as_delegate(proposer), edit_proposal, story.congress_id, q["id"], "关于增设厂区消防通道和应急照明的建议",
        "二号车间消防通道被货物堵塞，夜间应急照明损坏。", "建议清理消防通道并更换应急照明，定期开展消防安全检查。")
    with db.write() as session:
        ctx = Context(session, as_delegate(proposer), system_clock(), prepared=stale)
        resubmitted = submit_proposal(ctx, story.congress_id, q["id"])
    assert resubmitted["suggested_category"] == "安全环保" != stale.suggestion.category


def test_a_declined_invitation_does_not_count(db, story):
    proposer, a, b = story.voting()[:3]
    p = file(db, story, proposer, [a, b], accept=False)
    act(db, as_delegate(a), answer_cosign, story.congress_id, p["id"], True)
    act(db, as_delegate(b), answer_cosign, story.congress_id, p["id"], False)
    with pytest.raises(DomainError, match="目前 1 名已同意"):
        act(db, as_delegate(proposer), submit_proposal, story.congress_id, p["id"])


def test_only_an_invitee_reads_a_draft_through_its_co_sign_invitation(db, story):
    proposer, invitee, outsider = story.voting()[:3]
    p = file(db, story, proposer, [invitee], accept=False)
    act(db, as_delegate(proposer), edit_proposal, story.congress_id, p["id"], p["title"],
        "改过的案由：夜班职工凌晨下班时食堂已关门。", "改过的建议：开设夜宵窗口。")

    read = act(db, as_delegate(invitee), cosign_invitation, story.congress_id, p["id"])

    assert (read["reason"], read["suggestion"]) == ("改过的案由：夜班职工凌晨下班时食堂已关门。", "改过的建议：开设夜宵窗口。")
    assert (read["title"], read["proposer"], read["my_answer"]) == (p["title"], proposer.name, "invited")
    with db.read() as session:
        department_actor = department(session)
    for who in (as_delegate(outsider), as_delegate(proposer), observer_actor(story.congress_id), SETUP, department_actor):
        with pytest.raises(DomainError) as refused:
            act(db, who, cosign_invitation, story.congress_id, p["id"])
        assert refused.value.code == "not_found"
    with pytest.raises(DomainError):  # the invitation is for this congress's proposal only
        act(db, as_delegate(invitee), cosign_invitation, story.congress_id + 1, p["id"])


def test_non_voting_delegates_can_neither_propose_nor_cosign(db, story):
    guest = next(d for d in story.delegates if not d.is_voting)
    with pytest.raises(DomainError) as refused:
        act(db, as_delegate(guest), draft_proposal, story.congress_id, "标题", "案由", "建议")
    assert refused.value.code == "not_voting_delegate"
    proposer = story.voting()[0]
    p = act(db, as_delegate(proposer), draft_proposal, story.congress_id, "标题", "案由", "建议")
    with pytest.raises(DomainError, match="不是正式代表"):
        act(db, as_delegate(proposer), invite_cosigners, story.congress_id, p["id"], [guest.employee_id])


def test_late_proposal_becomes_between_sessions_or_is_refused_by_setting(db, story):
    proposer, *others = story.voting()[:3]
    with db.write() as session:
        session.get(Congress, story.congress_id).filing_closes_at = system_clock() - timedelta(hours=1)
    p = file(db, story, proposer, others)
    late = act(db, as_delegate(proposer), submit_proposal, story.congress_id, p["id"])
    assert late["is_between_sessions"] is True
    act(db, SETUP, set_rules, story.congress_id, {"late_proposals": "refuse"})
    q = file(db, story, proposer, others, title="第二件")
    with pytest.raises(DomainError) as refused:
        act(db, as_delegate(proposer), submit_proposal, story.congress_id, q["id"])
    assert refused.value.code == "filing_closed"


def test_leader_pre_review_comes_before_the_committee(db, story):
    proposer, *others = story.voting(story.voting()[0].group_id)[:3]
    act(db, SETUP, set_rules, story.congress_id, {"leader_pre_review_groups": [proposer.group_id]})
    p = file(db, story, proposer, others)
    held = act(db, as_delegate(proposer), submit_proposal, story.congress_id, p["id"])
    assert held["status"] == "pre_review" and held["number"] is None
    leader = story.leader(proposer.group_id)
    with pytest.raises(DomainError) as refused:  # someone else's leader cannot pass it, nor see it is there
        other_leader = next(d for d in story.delegates if d.is_group_leader and d.group_id != proposer.group_id)
        act(db, as_delegate(other_leader), pre_review, story.congress_id, p["id"], True)
    assert refused.value.code == "not_found"
    with pytest.raises(DomainError, match="须写明意见"):
        act(db, as_delegate(leader), pre_review, story.congress_id, p["id"], False)
    act(db, as_delegate(leader), pre_review, story.congress_id, p["id"], True)
    with db.read() as session:
        assert session.get(Proposal, p["id"]).status == "submitted"
        # Before submission only the group's leader hears of it (and the proposer of the outcome),
        # not the whole group: a draft is nobody else's business
        told = {(e.type, e.audience, e.audience_id) for e in session.scalars(sa.select(Event).where(
            Event.type.in_(("proposal.pre_review_requested", "proposal.pre_reviewed"))))}
    assert told == {("proposal.pre_review_requested", "delegate", leader.id),
                    ("proposal.pre_reviewed", "delegate", leader.id), ("proposal.pre_reviewed", "delegate", proposer.id)}


def test_invalid_transitions_are_refused_with_the_current_state_in_words(db, story):
    proposer, *others = story.voting()[:3]
    p = file(db, story, proposer, others)
    with pytest.raises(DomainError) as refused:  # a draft is not the committee's yet: staff do not reach it
        act(db, SETUP, assign_proposal, story.congress_id, p["id"], "人力资源部")
    assert refused.value.code == "not_found"
    act(db, as_delegate(proposer), submit_proposal, story.congress_id, p["id"])
    with pytest.raises(DomainError) as refused:  # nor can a proposal be assigned before 立案
        act(db, SETUP, assign_proposal, story.congress_id, p["id"], "人力资源部")
    assert refused.value.code == "bad_proposal_state" and "待审查" in refused.value.message
    with pytest.raises(DomainError, match="必须写明理由"):
        act(db, SETUP, decide_proposal, story.congress_id, p["id"], "不予立案")
    with db.write() as session:
        ctx = Context(session, SETUP, system_clock())
        decide_proposal(ctx, story.congress_id, p["id"], "不予立案", reason="不属于职代会提案范围")
        public = next(e.payload for e in ctx.events if e.type == "proposal.decided" and e.audience == "public")
    # Everyone sees why (the decision's reason), not the proposal's own text (its 案由 is also `reason`).
    assert public["reason"] == "不属于职代会提案范围" and "suggestion" not in public
    with pytest.raises(DomainError, match="不予立案"):
        act(db, SETUP, decide_proposal, story.congress_id, p["id"], "立案")


def test_merge_keeps_every_proposer_and_cosigner_credited_and_told(db, story):
    group = story.voting()[0].group_id
    a, b, c, d, e, f = story.voting(group)[:6]
    original = file(db, story, a, [b, c])
    duplicate = file(db, story, d, [e, f], title="给夜班弄点夜宵")
    for p, who in ((original, a), (duplicate, d)):
        act(db, as_delegate(who), submit_proposal, story.congress_id, p["id"])
    act(db, SETUP, decide_proposal, story.congress_id, original["id"], "立案")
    act(db, SETUP, decide_proposal, story.congress_id, duplicate["id"], "合并立案", merge_into_id=original["id"])
    with db.read() as session:
        people = case_people(session, session.get(Proposal, original["id"]))
        assert set(people) == {x.id for x in (a, b, c, d, e, f)}
    act(db, SETUP, assign_proposal, story.congress_id, original["id"], "人力资源部")
    with db.write() as session:
        ctx = Context(session, department(session), system_clock())
        reply_proposal(ctx, story.congress_id, original["id"], "A", "已在夜班时段开设热饭窗口，供应到凌晨两点。")
        told = {e.audience_id for e in ctx.events if e.type == "proposal.reply_told"}
    assert told == {x.id for x in (a, b, c, d, e, f)}  # the merged proposer and co-signers hear too
    with db.read() as session:
        detail = proposal_detail(Context(session, observer_actor(story.congress_id), system_clock()),
                                 story.congress_id, original["id"])
    assert [m["proposer"] for m in detail["merged"]] == [d.name]


def test_dissatisfied_rating_opens_a_new_round_and_keeps_the_old(db, story):
    proposer, *others = story.voting()[:3]
    p = file(db, story, proposer, others)
    act(db, as_delegate(proposer), submit_proposal, story.congress_id, p["id"])
    act(db, SETUP, decide_proposal, story.congress_id, p["id"], "立案")
    act(db, SETUP, assign_proposal, story.congress_id, p["id"], "人力资源部",
        due_at=(system_clock() + timedelta(days=10)).isoformat())
    with db.write() as session:
        reply_proposal(Context(session, department(session), system_clock()), story.congress_id, p["id"], "C",
                       "受条件限制，暂时无法实施，待条件具备后安排。")
    with pytest.raises(DomainError, match="写明原因"):
        act(db, as_delegate(proposer), rate_reply, story.congress_id, p["id"], "不满意")
    with pytest.raises(DomainError) as refused:  # only the proposer rates
        act(db, as_delegate(others[0]), rate_reply, story.congress_id, p["id"], "满意")
    assert refused.value.code == "not_yours"
    act(db, as_delegate(proposer), rate_reply, story.congress_id, p["id"], "不满意", "没有解决实际问题")
    with db.read() as session:
        assert session.get(Proposal, p["id"]).status == "assigned"
        assert session.scalars(sa.select(Assignment.round).where(Assignment.proposal_id == p["id"])
                               .order_by(Assignment.round)).all() == [1, 2]
    with db.write() as session:
        reply_proposal(Context(session, department(session), system_clock()), story.congress_id, p["id"], "A",
                       "第二轮：已协调资金，本月完成改造。")
    act(db, as_delegate(proposer), rate_reply, story.congress_id, p["id"], "满意")
    with db.read() as session:
        replies = session.scalars(sa.select(Reply).where(Reply.proposal_id == p["id"]).order_by(Reply.round)).all()
        assert [(r.round, r.reply_class) for r in replies] == [(1, "C"), (2, "A")]
        assert session.get(Proposal, p["id"]).status == "closed"


def test_a_department_replies_only_to_its_own_cases(db, story):
    proposer, *others = story.voting()[:3]
    p = file(db, story, proposer, others)
    act(db, as_delegate(proposer), submit_proposal, story.congress_id, p["id"])
    act(db, SETUP, decide_proposal, story.congress_id, p["id"], "立案")
    from congress.actions.accounts import add_department

    act(db, SETUP, add_department, "安全环保部")
    act(db, SETUP, assign_proposal, story.congress_id, p["id"], "安全环保部")
    with db.write() as session, pytest.raises(DomainError) as refused:
        reply_proposal(Context(session, department(session, "人力资源部"), system_clock()), story.congress_id,
                       p["id"], "A", "这不是我们的案子但我们想答复。")
    assert refused.value.code == "not_assigned"


def test_board_shows_names_only_and_no_drafts_and_stats_add_up(db, story):
    proposer, *others = story.voting()[:3]
    draft = file(db, story, proposer, others, accept=False, title="草稿提案")
    p = file(db, story, proposer, others)
    act(db, as_delegate(proposer), submit_proposal, story.congress_id, p["id"])
    act(db, SETUP, decide_proposal, story.congress_id, p["id"], "立案")
    with db.read() as session:
        board = proposal_board(Context(session, observer_actor(story.congress_id), system_clock()),
                               story.congress_id, query="热饭")
        stats = proposal_stats(Context(session, observer_actor(story.congress_id), system_clock()), story.congress_id)
        with pytest.raises(DomainError):
            proposal_detail(Context(session, observer_actor(story.congress_id), system_clock()),
                            story.congress_id, draft["id"])
        queue = triage(Context(session, SETUP, system_clock()), story.congress_id, "registered")
    assert [e["id"] for e in board["proposals"]] == [p["id"]]
    entry = board["proposals"][0]
    assert entry["proposer"] == proposer.name and "employee_id" not in str(entry) and "invitations" not in entry
    assert stats["total"] == 1 and stats["cases"] == 1 and stats["answered_rate"] == 0
    assert sum(c["count"] for c in stats["cells"]) == stats["total"]
    assert queue["proposals"][0]["suggested_category"]


def test_triage_shows_beside_each_proposal_the_ones_most_like_it_and_flags_a_reworded_duplicate(db, story):
    """The review queue, read in one pass: each proposal lists the others most like it, never
    itself; the same request reworded is flagged as a likely duplicate (a 合并立案 candidate),
    an unrelated one is not."""
    texts = {
        "night": ("关于夜班食堂供应热饭的建议", "夜班职工凌晨下班时食堂已关门，只能吃泡面。", "建议食堂为夜班提供热饭或夜宵窗口。"),
        "reworded": ("夜班职工吃不上热饭", "上大夜班的同事半夜下班时饭堂早已关门，只能泡方便面充饥。",
                     "希望饭堂开设夜班窗口，供应热饭和宵夜。"),
        "parking": ("关于增加办公楼停车位的建议", "办公楼停车位不够，职工上班经常找不到车位，还被贴条罚款。",
                    "建议在院内空地增设停车位，或与周边停车场协商包月。"),
    }
    people = story.voting()[:3]
    ids = {}
    for n, (key, (title, reason, suggestion)) in enumerate(texts.items()):
        proposer, *cosigners = people[n:] + people[:n]
        p = act(db, as_delegate(proposer), draft_proposal, story.congress_id, title, reason, suggestion)
        act(db, as_delegate(proposer), invite_cosigners, story.congress_id, p["id"], [c.employee_id for c in cosigners])
        for c in cosigners:
            act(db, as_delegate(c), answer_cosign, story.congress_id, p["id"], True)
        act(db, as_delegate(proposer), submit_proposal, story.congress_id, p["id"])
        ids[key] = p["id"]
    with db.read() as session:
        queue = {e["id"]: e["similar"] for e in triage(Context(session, SETUP, system_clock()), story.congress_id)["proposals"]}
    assert set(queue) == set(ids.values())
    for pid, similar in queue.items():
        assert pid not in [s["id"] for s in similar]
        assert len(similar) == 2
    night, reworded, parking = queue[ids["night"]], queue[ids["reworded"]], queue[ids["parking"]]
    assert night[0]["id"] == ids["reworded"] and night[0]["is_likely_duplicate"]
    assert reworded[0]["id"] == ids["night"] and reworded[0]["is_likely_duplicate"]
    assert not any(s["is_likely_duplicate"] for s in parking)
    assert night[0]["score"] > night[1]["score"]


def test_the_board_observers_open_is_current_after_every_step_and_not_read_again_while_unchanged(db, story):
    """Thousands of observers open the board; each read of an unchanged board costs one query (its
    version), and every step of a case shows at once on the next read."""
    from sqlalchemy import event

    proposer, *others = story.voting()[:3]
    observer = observer_actor(story.congress_id)

    def board() -> list[dict]:
        with db.read() as session:
            return proposal_board(Context(session, observer, system_clock()), story.congress_id, limit=2000)["proposals"]

    def entry() -> dict:
        (only,) = board()
        return only

    assert board() == []
    p = file(db, story, proposer, others)
    assert board() == []  # a draft is not on the board
    act(db, as_delegate(proposer), submit_proposal, story.congress_id, p["id"])
    assert entry()["status"] == "submitted"
    statements: list[str] = []
    event.listen(db.read_engine, "before_cursor_execute",
                 lambda *a: statements.append(a[2]) if a[2].lstrip().startswith("SELECT") else None)
    for _ in range(3):
        assert entry()["status"] == "submitted"
    assert len(statements) == 3, statements  # the version, once per read
    act(db, SETUP, decide_proposal, story.congress_id, p["id"], "立案", category="生活福利")
    assert (entry()["status"], entry()["category"]) == ("registered", "生活福利")
    act(db, SETUP, assign_proposal, story.congress_id, p["id"], "人力资源部")
    assert entry()["status"] == "assigned" and "人力资源部" in str(entry())
    with db.write() as session:
        reply_proposal(Context(session, department(session), system_clock()), story.congress_id, p["id"], "A",
                       "已在夜班时段开设热饭窗口。")
    assert entry()["reply"]["text"] == "已在夜班时段开设热饭窗口。"
    act(db, as_delegate(proposer), rate_reply, story.congress_id, p["id"], "满意")
    assert (entry()["status"], entry()["rating"]) == ("closed", "满意")
    # A search is read from the database every time, and finds the same proposal.
    with db.read() as session:
        found = proposal_board(Context(session, observer, system_clock()), story.congress_id, query="热饭")
    assert [e["id"] for e in found["proposals"]] == [p["id"]]


def test_board_lines_and_the_review_queue_read_for_many_proposals_say_what_each_read_alone_says(db, story):
    """The board and staff's queue read their proposals together; each line must be what that
    proposal's own read gives: a draft, a submitted one, one merged into another, one answered
    twice (dissatisfied, then satisfied) and rated."""
    from congress.reads.proposal_views import board_entries
    from congress.reads.proposals import proposal_json, proposals_json

    voting = story.voting()
    file(db, story, voting[0], voting[1:3], title="一件草稿")
    plain, merged, answered = (file(db, story, voting[3 * i], voting[3 * i + 1:3 * i + 3], title=f"提案 {i}")
                               for i in (1, 2, 3))
    for p, who in ((plain, voting[3]), (merged, voting[6]), (answered, voting[9])):
        act(db, as_delegate(who), submit_proposal, story.congress_id, p["id"])
    act(db, SETUP, decide_proposal, story.congress_id, answered["id"], "立案")
    act(db, SETUP, decide_proposal, story.congress_id, merged["id"], "合并立案", merge_into_id=answered["id"])
    act(db, SETUP, assign_proposal, story.congress_id, answered["id"], "人力资源部")
    for reply_class, text, rating in (("C", "受条件限制，暂时无法实施。", "不满意"), ("A", "第二轮：已完成改造。", "满意")):
        with db.write() as session:
            reply_proposal(Context(session, department(session), system_clock()), story.congress_id, answered["id"],
                           reply_class, text)
        act(db, as_delegate(voting[9]), rate_reply, story.congress_id, answered["id"], rating,
            "没有解决实际问题" if rating == "不满意" else None)
    with db.read() as session:
        everything = list(session.scalars(sa.select(Proposal).order_by(Proposal.id)))
        together = board_entries(session, everything)
        alone = [board_entries(session, [p])[0] for p in everything]
        private_together = proposals_json(session, everything, private=True)
        private_alone = [proposal_json(session, p, private=True) for p in everything]
    assert together == alone and private_together == private_alone
    line = together[[p.id for p in everything].index(answered["id"])]
    assert (line["reply"]["text"], line["rating"], line["lead_department"]) == ("第二轮：已完成改造。", "满意", "人力资源部")
    assert together[[p.id for p in everything].index(merged["id"])]["merged_into_id"] == answered["id"]


def test_a_suggestion_carries_the_words_it_rests_on_to_staff(db, story):
    """Staff see why a category was suggested: the triage entry and the staff event name the words
    of the proposal that weighed most for it (依据：食堂、热饭 …), and only words it contains."""
    proposer, a, b = story.voting()[:3]
    p = file(db, story, proposer, [a, b])
    act(db, as_delegate(proposer), submit_proposal, story.congress_id, p["id"])
    with db.read() as session:
        entry = triage(Context(session, SETUP, system_clock()), story.congress_id)["proposals"][0]
        event = session.scalar(sa.select(Event).where(Event.type == "proposal.category_suggested"))
    assert entry["suggested_category"] == "生活福利"
    reasons = entry["category_reasons"]
    assert 1 <= len(reasons) <= 3 and "食堂" in reasons
    text = "关于夜班食堂供应热饭的建议夜班职工凌晨下班时食堂已关门，只能吃泡面。建议食堂为夜班提供热饭或夜宵窗口。"
    assert all(word in text for word in reasons)
    assert event.payload["reasons"] == reasons


def test_a_confirmed_category_reaches_later_suggestions_while_the_model_before_keeps_answering(db, story, monkeypatch):
    """立案 with a category teaches this site's categoriser.  Training on the built-in proposals takes
    about a second, so the next model trains in a thread: the suggestion asked for meanwhile comes at
    once from the model before, and the one asked for after it has trained leans to staff's choice."""
    from congress.reads import suggestions

    proposer, a, b = story.voting()[:3]
    p = file(db, story, proposer, [a, b])  # a night canteen: the model says 生活福利
    act(db, as_delegate(proposer), submit_proposal, story.congress_id, p["id"])
    text = "关于夜班食堂供应热饭的建议\n夜班职工凌晨下班时食堂已关门，只能吃泡面。\n建议食堂为夜班提供热饭或夜宵窗口。"

    def confidence(model, category):  # type: ignore[no-untyped-def]
        return {s.category: s.confidence for s in model.suggest(text)}[category]

    with db.read() as session:
        before = suggestions._categoriser(session)
    assert before.suggest(text)[0].category == "生活福利"
    monkeypatch.setattr(suggestions, "RETRAIN_SECONDS", 0.0)
    act(db, SETUP, decide_proposal, story.congress_id, p["id"], "立案", category="职工权益")  # staff's rule here
    with db.read() as session:
        meanwhile = suggestions._categoriser(session)
        training = suggestions._trained(session).retraining
    assert meanwhile is before and training is not None  # answered by the old model, the new one training
    training.join(timeout=60)
    assert not training.is_alive()
    with db.read() as session:
        after = suggestions._categoriser(session)
        assert suggestions._trained(session).retraining is None  # nothing new confirmed: no more training
    assert after is not before
    assert confidence(after, "职工权益") > confidence(before, "职工权益")
