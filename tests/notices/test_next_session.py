"""Notices across the sessions of a 届, on both databases, through the real SMTP sink and robot
receiver: the next session keeps its notice rules and channels; a carried case's reminders move to
its new copy (each kind still sent once, linking to the new session)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from congress.actions.base import Context
from congress.actions.casework import assign_proposal
from congress.actions.notices import set_notices
from congress.actions.terms import carry_over_proposals, start_next_session
from congress.db.models import Notice, NoticeChannel, Proposal
from tests.db.test_casework import registered
from tests.db.test_proposals import act
from tests.notices.conftest import SECRET
from tests.notices.steps import KINDS, drain, links, view
from tests.notices.test_delivery import HR, HR_MAIL, T0, UNION_MAIL, channel, statuses
from tests.story import SETUP

# ---- 1. the next session keeps its rules and channels ------------------------------------------

def test_the_next_session_keeps_the_notice_rules_and_channels_and_shows_no_key(db, story, smtp_sink, robots):  # type: ignore[no-untyped-def]
    act(db, SETUP, set_notices, story.congress_id, rules={"due_1": False, "vote_opened": True})
    channel(db, story, "department", "wecom", robots.url("/wecom/hr?key=k-secret-1234"))
    channel(db, story, "department", "email", HR_MAIL)
    channel(db, story, "staff", "dingtalk", robots.url("/dingtalk/signed?access_token=t-secret-5678"), secret=SECRET)
    before = view(db, story.congress_id)

    with db.write() as session:
        ctx = Context(session, SETUP, T0)
        result = start_next_session(ctx, story.congress_id)
        events = [(e.type, e.payload) for e in ctx.events]
    new_id = result["id"]
    after = view(db, new_id)

    assert after["rules"] == before["rules"]  # due_1 off, vote_opened on, as staff set them
    strip = lambda cs: [{k: v for k, v in c.items() if k != "id"} for c in cs]  # noqa: E731
    assert strip(after["channels"]) == strip(before["channels"])  # masked alike, the 钉钉 one still signed
    assert [c["department"] for c in after["channels"]] == [HR, HR, None]
    assert result["notice_channels"] == 3
    shown = repr((result, events, after))
    assert "k-secret" not in shown and "t-secret" not in shown and SECRET not in shown
    with db.read() as session:  # the key and the secret stay in the database, where the sender reads them
        rows = lambda cid: [(c.audience, c.department_id, c.kind, c.address, c.secret) for c in session.scalars(  # noqa: E731
            sa.select(NoticeChannel).where(NoticeChannel.congress_id == cid).order_by(NoticeChannel.id))]
        assert rows(new_id) == rows(story.congress_id)

    # and they work: an assignment in the new session reaches the department's robot, linking to it
    a, b, c = story.voting()[:3]
    registered(db, story, a, [b, c])
    with db.write() as session:
        carried = carry_over_proposals(Context(session, SETUP, T0), new_id)["carried"][0]
        new_p = session.scalar(sa.select(Proposal.id).where(Proposal.congress_id == new_id,
                                                            Proposal.number == carried["number"]))
    act(db, SETUP, assign_proposal, new_id, new_p, HR, now=T0)
    assert drain(db, T0)["sent"] == 2  # the e-mail and the robot
    assert f"/department?congress={new_id}#proposal-{new_p}" in robots.texts("/wecom")[0]


# ---- 2. a carried case's reminders move with it --------------------------------------------------

DAY_OF = {"due_7": 1, "due_1": 7, "overdue": 8, "staff_overdue": 8}  # each reminder's day, due on day 8


@pytest.mark.parametrize("carry_day", [0.5, 3, 8.5])
def test_a_carried_case_gets_its_reminders_once_linking_to_the_new_session(
        db, story, smtp_sink, carry_day):  # type: ignore[no-untyped-def]
    channel(db, story, "department", "email", HR_MAIL)
    channel(db, story, "staff", "email", UNION_MAIL)
    a, b, c = story.voting()[:3]
    p = registered(db, story, a, [b, c])
    act(db, SETUP, assign_proposal, story.congress_id, p["id"], HR, due_at=(T0 + timedelta(days=8)).isoformat(), now=T0)
    drain(db, T0)  # the assignment notice
    for day in (1, 7, 8):  # what falls due before the carry-over is sent by the old copy
        if day < carry_day:
            drain(db, T0 + timedelta(days=day, minutes=1))

    at = T0 + timedelta(days=carry_day)
    with db.write() as session:
        ctx = Context(session, SETUP, at)
        new_id = start_next_session(ctx, story.congress_id)["id"]
    with db.write() as session:
        carry_over_proposals(Context(session, SETUP, at), new_id)
        new_p = session.scalar(sa.select(Proposal.id).where(Proposal.congress_id == new_id))
        old_rows = session.execute(sa.select(Notice.kind, Notice.status, Notice.last_error).where(
            Notice.proposal_id == p["id"]).order_by(Notice.id)).all()
    moved = [k for k, s, _e in old_rows if s == "cancelled"]
    assert moved == [k for k, day in DAY_OF.items() if day > carry_day]  # 8.5: none (overdue sent, not again)
    assert all("已转入下次会议" in e for _k, s, e in old_rows if s == "cancelled")
    assert "assigned" not in statuses(db, new_id)  # the department already knows the case: no new 交办
    assert sorted(statuses(db, new_id)) == sorted(moved)

    for day in (1, 7, 8, 9):
        drain(db, T0 + timedelta(days=day, minutes=1))
    subjects = smtp_sink.subjects(HR_MAIL)
    assert [sum(w in s for s in subjects) for w in KINDS] == [1, 1, 1, 1] and len(subjects) == 4
    assert len(smtp_sink.subjects(UNION_MAIL)) == 1  # staff's overdue notice, once
    sent = links(smtp_sink, HR_MAIL)
    for subject, link in sent.items():
        day = 0 if "【提案交办】" in subject else 1 if "7 天" in subject else 7 if "1 天" in subject else 8
        came_after = day > carry_day
        want = (f"/department?congress={new_id}#proposal-{new_p}" if came_after
                else f"/department?congress={story.congress_id}#proposal-{p['id']}")
        assert link.endswith(want), (subject, link)
    staff_page = new_id if carry_day < 8 else story.congress_id
    assert links(smtp_sink, UNION_MAIL).popitem()[1].endswith(f"/staff?congress={staff_page}")
