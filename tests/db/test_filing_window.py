"""The filing window (提案征集) on both databases: staff set it, a late proposal follows the rule
`late_proposals`, nobody else may set it, bad input names its field and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from congress.actions.base import Context
from congress.actions.proposals import answer_cosign, draft_proposal, invite_cosigners, submit_proposal
from congress.actions.setup import set_filing_window, set_rules
from congress.application.auth import delegate_actor, observer_actor
from congress.db.models import Congress, Event
from congress.domain.errors import DomainError
from congress.reads.snapshot import build_snapshot
from tests.story import SETUP, build_story

NOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def story(db):  # type: ignore[no-untyped-def]
    return build_story(db, with_codes=False)


def act(db, actor, fn, *args, now=NOW, **kwargs):  # type: ignore[no-untyped-def]
    with db.write() as session:
        return fn(Context(session, actor, now), *args, **kwargs)


def window(db, congress_id):  # type: ignore[no-untyped-def]
    with db.read() as session:
        congress = session.get(Congress, congress_id)
        return congress.filing_opens_at, congress.filing_closes_at


def file_and_submit(db, story, title, now):  # type: ignore[no-untyped-def]
    proposer, *others = story.voting()[:3]
    p = act(db, delegate_actor(proposer), draft_proposal, story.congress_id, title,
            "夜班职工凌晨下班时食堂已关门。", "建议食堂为夜班提供热饭窗口。", now=now)
    act(db, delegate_actor(proposer), invite_cosigners, story.congress_id, p["id"],
        [c.employee_id for c in others], now=now)
    for c in others:
        act(db, delegate_actor(c), answer_cosign, story.congress_id, p["id"], True, now=now)
    return act(db, delegate_actor(proposer), submit_proposal, story.congress_id, p["id"], now=now)


def test_staff_set_the_window_and_a_late_proposal_follows_the_rule(db, story):
    opens, closes = "2027-03-01T08:00:00+08:00", "2027-03-15T18:00:00+08:00"
    reply = act(db, SETUP, set_filing_window, story.congress_id, opens, closes)
    # the same instants, in the UTC every snapshot gives them in (pages show them in Beijing time)
    assert reply == {"opens_at": "2027-03-01T00:00:00+00:00", "closes_at": "2027-03-15T10:00:00+00:00"}
    stored = window(db, story.congress_id)
    assert [t.astimezone(UTC) for t in stored] == [datetime(2027, 3, 1, 0, 0, tzinfo=UTC),
                                                    datetime(2027, 3, 15, 10, 0, tzinfo=UTC)]
    with db.read() as session:  # the public event, and the snapshot anyone (an observer too) gets
        event = session.scalars(sa.select(Event).where(Event.congress_id == story.congress_id)
                                .order_by(Event.seq.desc())).first()
        assert (event.type, event.audience, event.payload) == ("proposals.filing_window_set", "public", reply)
        seen = build_snapshot(session, story.congress_id, observer_actor(story.congress_id))["congress"]["filing"]
    assert [datetime.fromisoformat(seen["opens_at"]), datetime.fromisoformat(seen["closes_at"])] == \
        [datetime(2027, 3, 1, 0, 0, tzinfo=UTC), datetime(2027, 3, 15, 10, 0, tzinfo=UTC)]
    assert seen == reply  # word for word: a page that applied the event holds what a reload shows

    inside = file_and_submit(db, story, "窗口内的提案", NOW)
    assert inside["status"] == "submitted" and inside["is_between_sessions"] is False
    after = NOW + timedelta(days=6)  # 3 月 16 日: closed; the default rule makes it a 平时提案
    late = file_and_submit(db, story, "截止后的提案", after)
    assert late["status"] == "submitted" and late["is_between_sessions"] is True
    act(db, SETUP, set_rules, story.congress_id, {"late_proposals": "refuse"})
    with pytest.raises(DomainError) as refused:
        file_and_submit(db, story, "截止后被拒的提案", after)
    assert refused.value.code == "filing_closed"
    with pytest.raises(DomainError) as early:  # before it opens: nobody submits
        file_and_submit(db, story, "开始前的提案", datetime(2027, 2, 28, 23, 0, tzinfo=UTC))
    assert early.value.code == "filing_not_open"

    cleared = act(db, SETUP, set_filing_window, story.congress_id, None, "")  # both ends open again
    assert cleared == {"opens_at": None, "closes_at": None} and window(db, story.congress_id) == (None, None)


def test_delegates_and_observers_cannot_set_it(db, story):
    act(db, SETUP, set_filing_window, story.congress_id, None, "2027-03-15T18:00:00+08:00")
    before = window(db, story.congress_id)
    for actor, code in ((delegate_actor(story.voting()[0]), "forbidden"), (observer_actor(story.congress_id), "read_only")):
        with pytest.raises(DomainError) as refused:
            act(db, actor, set_filing_window, story.congress_id, "2027-04-01T08:00:00+08:00", None)
        assert refused.value.code == code
        assert window(db, story.congress_id) == before


BAD = [
    ("2027-03-15", None, "opens_at"),  # no zone
    ("not a time", None, "opens_at"),
    (None, "15/03/2027 18:00", "closes_at"),
    ("2027-03-15T18:00:00+08:00", "2027-03-15T18:00:00+08:00", "closes_at"),  # closes must be after opens
    ("2027-03-15T18:00:00+08:00", "2027-03-01T08:00:00+08:00", "closes_at"),
]


def test_bad_input_names_the_field_and_changes_nothing(db, story):
    act(db, SETUP, set_filing_window, story.congress_id, "2027-03-01T08:00:00+08:00", None)
    before = window(db, story.congress_id)
    with db.read() as session:
        last_seq = session.get(Congress, story.congress_id).last_seq
    for opens, closes, field in BAD:
        with pytest.raises(DomainError) as refused:
            act(db, SETUP, set_filing_window, story.congress_id, opens, closes)
        assert refused.value.code == "bad_field" and field in refused.value.message, (opens, closes)
        assert window(db, story.congress_id) == before
        with db.read() as session:
            assert session.get(Congress, story.congress_id).last_seq == last_seq


def test_the_cli_sets_the_window_and_says_what_it_set(db, story, capsys):
    from congress.cli import main

    argv = ["--database-url", db.url, "proposals", "window", "--congress", str(story.congress_id)]
    assert main([*argv, "--opens", "2027-03-01T08:00+08:00", "--closes", "2027-03-15T18:00+08:00"]) == 0
    assert capsys.readouterr().out.strip() == \
        f"提案征集：开始 2027-03-01T08:00:00+08:00，截止 2027-03-15T18:00:00+08:00（职代会 {story.congress_id}）"
    assert [t.astimezone(UTC) for t in window(db, story.congress_id)] == \
        [datetime(2027, 3, 1, 0, 0, tzinfo=UTC), datetime(2027, 3, 15, 10, 0, tzinfo=UTC)]
    assert main([*argv, "--opens", "2027-03-20T08:00+08:00", "--closes", "2027-03-15T18:00+08:00"]) == 1
    assert "closes_at" in capsys.readouterr().err  # refused, naming the field, and nothing changed
    assert [t.astimezone(UTC) for t in window(db, story.congress_id)] == \
        [datetime(2027, 3, 1, 0, 0, tzinfo=UTC), datetime(2027, 3, 15, 10, 0, tzinfo=UTC)]
    assert main([*argv, "--closes", ""]) == 0 and "开始 不限，截止 不限" in capsys.readouterr().out
    assert window(db, story.congress_id) == (None, None)
