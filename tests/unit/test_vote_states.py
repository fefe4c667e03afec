"""A vote's states and steps (congress.domain.votes.next_status), without a database."""

from __future__ import annotations

import pytest

from congress.domain.errors import DomainError
from congress.domain.kinds import VoteStatus
from congress.domain.votes import TRANSITIONS, VoteStep, next_status

S, V = VoteStatus, VoteStep


@pytest.mark.parametrize(("status", "step", "after"), [
    (S.DRAFT, V.OPEN, S.OPEN),
    (S.OPEN, V.CLOSE, S.CLOSED),
    (S.CLOSED, V.CERTIFY, S.CLOSED),
    (S.CLOSED, V.PUBLISH, S.PUBLISHED),
    (S.DRAFT, V.CANCEL, S.CANCELLED),
    (S.OPEN, V.CANCEL, S.CANCELLED),
    (S.CLOSED, V.REPEAT, S.CLOSED),
    (S.PUBLISHED, V.REPEAT, S.PUBLISHED),
    (S.CANCELLED, V.REPEAT, S.CANCELLED),
])
def test_the_steps_a_vote_may_take(status: VoteStatus, step: VoteStep, after: VoteStatus) -> None:
    assert next_status(status.value, step, "第一项") is after


@pytest.mark.parametrize(("status", "step", "words"), [
    (S.OPEN, V.OPEN, "进行中"),
    (S.DRAFT, V.CLOSE, "草稿"),
    (S.OPEN, V.PUBLISH, "进行中"),  # not before it is closed and certified
    (S.PUBLISHED, V.CLOSE, "已公布"),
    (S.CLOSED, V.CANCEL, "已截止"),  # a counted vote is not cancelled: a repeat round is
    (S.CANCELLED, V.OPEN, "已取消"),
    (S.OPEN, V.REPEAT, "进行中"),
    (S.PUBLISHED, V.CERTIFY, "已公布"),
])
def test_a_step_out_of_turn_names_the_vote_and_its_status(status: VoteStatus, step: VoteStep, words: str) -> None:
    with pytest.raises(DomainError) as refused:
        next_status(status.value, step, "关于食堂改造的决议")
    assert refused.value.code == "bad_vote_state"
    assert refused.value.message == f"表决“关于食堂改造的决议”当前为{words}，不能进行此操作"


def test_every_status_has_a_step_and_every_step_a_status_it_starts_from() -> None:
    assert {status for status, _step in TRANSITIONS} == set(VoteStatus)
    assert {step for _status, step in TRANSITIONS} == set(VoteStep)
