"""A vote's states and the steps between them (表决的状态), as a pure rule: the steps staff take
(open, close, certify, publish, cancel, repeat) and the status each one leaves the vote in.

Draft → open → closed → published; a draft or open vote can be cancelled. Certifying (总监票人确认)
and starting a repeat round leave the status as it was: certify only marks the count, and a repeat
is a new vote beside the old one. Whether a step may go ahead for other reasons (quorum, hand
counts reported, the trustees' decryption) is the action's business (congress.actions.votes).
"""

from __future__ import annotations

from enum import StrEnum

from congress.domain.errors import DomainError
from congress.domain.kinds import VoteStatus

STATUS_LABELS = {VoteStatus.DRAFT: "草稿", VoteStatus.OPEN: "进行中", VoteStatus.CLOSED: "已截止",
                 VoteStatus.PUBLISHED: "已公布", VoteStatus.CANCELLED: "已取消"}


class VoteStep(StrEnum):
    """What staff do to a vote (each is a command of congress.actions.votes)."""

    OPEN = "open"
    CLOSE = "close"
    CERTIFY = "certify"
    PUBLISH = "publish"
    CANCEL = "cancel"
    REPEAT = "repeat"


S, V = VoteStatus, VoteStep
TRANSITIONS: dict[tuple[VoteStatus, VoteStep], VoteStatus] = {
    (S.DRAFT, V.OPEN): S.OPEN,
    (S.OPEN, V.CLOSE): S.CLOSED,
    (S.CLOSED, V.CERTIFY): S.CLOSED,
    (S.CLOSED, V.PUBLISH): S.PUBLISHED,
    (S.DRAFT, V.CANCEL): S.CANCELLED,
    (S.OPEN, V.CANCEL): S.CANCELLED,
    (S.CLOSED, V.REPEAT): S.CLOSED,
    (S.PUBLISHED, V.REPEAT): S.PUBLISHED,
    (S.CANCELLED, V.REPEAT): S.CANCELLED,
}


def next_status(status: str, step: VoteStep, title: str) -> VoteStatus:
    """The vote's status after `step`, or a DomainError (bad_vote_state) naming the vote and its status."""
    current = VoteStatus(status)
    after = TRANSITIONS.get((current, step))
    if after is None:
        raise DomainError("bad_vote_state", f"表决“{title}”当前为{STATUS_LABELS[current]}，不能进行此操作")
    return after
