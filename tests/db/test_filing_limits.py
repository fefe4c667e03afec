"""What one delegate may pile up when filing (issue 18, point 7), on SQLite and PostgreSQL: at most 20
open drafts, 5 attachments per proposal, 100 MB of attachments in all. Each refusal names its
limit and writes nothing. The numbers are those stated in docs/proposals.md."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from congress.actions.attachments import attach_file
from congress.actions.base import Context
from congress.actions.proposals import draft_proposal, submit_proposal
from congress.actions.setup import set_rules
from congress.application.auth import delegate_actor
from congress.application.service import system_clock
from congress.db.models import Congress, Proposal, ProposalAttachment
from congress.domain.errors import DomainError
from tests.story import SETUP, build_story

MB = 1024 * 1024
OPEN_DRAFTS = 20
PER_DELEGATE = 100 * MB
FILE = b"%PDF-1.4\n" + b"\0" * (10 * MB - 9)  # exactly 10 MB: the largest file allowed


@pytest.fixture
def story(db):  # type: ignore[no-untyped-def]
    return build_story(db, with_codes=False)


def act(db, actor, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    with db.write() as session:
        return fn(Context(session, actor, system_clock()), *args, **kwargs)


def draft(db, story, proposer, n: int) -> dict:  # type: ignore[no-untyped-def, type-arg]
    return act(db, delegate_actor(proposer), draft_proposal, story.congress_id, f"关于第 {n} 件小事的建议",
               "案由：食堂窗口太少。", "建议：多开一个窗口。")


def counts(db, story) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """(proposals, attachment bytes, the congress's last seq): what a refusal must leave alone."""
    with db.read() as session:
        return (session.scalar(sa.select(sa.func.count()).select_from(Proposal)) or 0,
                int(session.scalar(sa.select(sa.func.coalesce(sa.func.sum(sa.func.length(ProposalAttachment.content)), 0)))
                    or 0),
                session.scalar(sa.select(Congress.last_seq).where(Congress.id == story.congress_id)) or 0)


def test_the_21st_open_draft_is_refused_and_a_submitted_one_makes_room(db, story):
    proposer, other = story.voting()[:2]
    drafts = [draft(db, story, proposer, n) for n in range(1, OPEN_DRAFTS + 1)]
    before = counts(db, story)
    with pytest.raises(DomainError) as refused:
        draft(db, story, proposer, OPEN_DRAFTS + 1)
    assert refused.value.code == "draft_limit" and f"{OPEN_DRAFTS} 份" in refused.value.message
    assert counts(db, story) == before  # no row, no event
    draft(db, story, other, 1)  # the cap is per delegate: others file as before

    with db.write() as session:
        set_rules(Context(session, SETUP, system_clock()), story.congress_id, {"cosigners_required": 0})
    act(db, delegate_actor(proposer), submit_proposal, story.congress_id, drafts[0]["id"])
    assert draft(db, story, proposer, OPEN_DRAFTS + 1)["status"] == "draft"  # 20 open drafts again


def test_attachments_stop_at_100_mb_per_delegate_and_5_per_proposal(db, story):
    proposer, other = story.voting()[:2]
    me = delegate_actor(proposer)
    first, second, third = (draft(db, story, proposer, n) for n in (1, 2, 3))
    for proposal in (first, second):
        for i in range(5):
            act(db, me, attach_file, story.congress_id, proposal["id"], f"图{i}.pdf", FILE)
    with pytest.raises(DomainError) as sixth:
        act(db, me, attach_file, story.congress_id, first["id"], "第六个.pdf", b"%PDF-1.4 small")
    assert sixth.value.code == "bad_file" and "最多 5 个附件" in sixth.value.message

    before = counts(db, story)
    assert before[1] == PER_DELEGATE  # exactly the cap is allowed
    with pytest.raises(DomainError) as over:
        act(db, me, attach_file, story.congress_id, third["id"], "再一个.pdf", b"%PDF-1.4 one more byte")
    assert over.value.code == "attachment_quota" and "100 MB" in over.value.message
    assert counts(db, story) == before  # nothing half-written

    theirs = draft(db, story, other, 1)  # another delegate's files are theirs to count
    act(db, delegate_actor(other), attach_file, story.congress_id, theirs["id"], "图.pdf", b"%PDF-1.4 small")
