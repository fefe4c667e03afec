"""What the proposer's rating does to a case, by reply class: a pure rule, table-driven."""

from __future__ import annotations

import pytest

from congress.domain.errors import DomainError
from congress.domain.proposals import (
    RATINGS,
    REPLY_CLASSES,
    ProposalStatus,
    Verb,
    next_status,
    rating_verb,
)

S = ProposalStatus

# reply class, rating -> the case's status after the rating
AFTER_RATING = {
    ("A", "满意"): S.CLOSED, ("A", "基本满意"): S.CLOSED, ("A", "不满意"): S.ASSIGNED,
    ("B", "满意"): S.FOLLOWING_UP, ("B", "基本满意"): S.FOLLOWING_UP, ("B", "不满意"): S.ASSIGNED,
    ("C", "满意"): S.CLOSED, ("C", "基本满意"): S.CLOSED, ("C", "不满意"): S.ASSIGNED,
    ("D", "满意"): S.CLOSED, ("D", "基本满意"): S.CLOSED, ("D", "不满意"): S.ASSIGNED,
}


def test_the_table_covers_every_reply_class_and_every_rating():
    assert set(AFTER_RATING) == {(c, r) for c in REPLY_CLASSES for r in RATINGS}


@pytest.mark.parametrize(("reply_class", "rating", "after"), [(c, r, s) for (c, r), s in AFTER_RATING.items()])
def test_a_rating_closes_a_final_answer_keeps_a_b_reply_open_and_reopens_on_dissatisfaction(reply_class, rating, after):
    assert next_status(S.REPLIED, rating_verb(reply_class, rating)) is after


def test_a_case_kept_open_after_a_b_reply_is_closed_by_the_departments_report_once_accepted():
    status = next_status(S.REPLIED, rating_verb("B", "基本满意"))  # the plan is accepted
    assert status is S.FOLLOWING_UP and S.FOLLOWING_UP.label == "跟踪落实中"
    status = next_status(status, Verb.REPLY)  # the department reports the result, class A
    assert status is S.REPLIED
    assert next_status(status, rating_verb("A", "满意")) is S.CLOSED


@pytest.mark.parametrize(("verb", "status"), [(Verb.SATISFIED, S.FOLLOWING_UP), (Verb.FOLLOW_UP, S.ASSIGNED),
                                              (Verb.MISASSIGNED, S.FOLLOWING_UP)])
def test_a_case_following_up_is_neither_rated_nor_returned_before_the_department_reports(verb, status):
    with pytest.raises(DomainError) as refused:
        next_status(status, verb)
    assert refused.value.code == "bad_proposal_state"


@pytest.mark.parametrize(("reply_class", "rating"), [("E", "满意"), ("A", "非常满意"), ("", "")])
def test_an_unknown_class_or_rating_is_refused(reply_class, rating):
    with pytest.raises(DomainError) as refused:
        rating_verb(reply_class, rating)
    assert refused.value.code == "bad_field"
