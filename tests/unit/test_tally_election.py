"""Election questions: ballot validity, threshold, ranking, and ties reported rather than broken."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from congress.domain.errors import DomainError
from congress.tally import Basis, ElectionKind, Rule, ballot_is_valid, elect, election_kind

CANDIDATES = ("c1", "c2", "c3", "c4")


@pytest.mark.parametrize(
    ("marked", "seats", "valid"),
    [
        ([], 2, True),  # an empty ballot is valid and marks nobody
        (["c1"], 2, True),
        (["c1", "c2"], 2, True),
        (["c1", "c2", "c3"], 2, False),  # more marks than seats voids the ballot
        (["c1", "c1"], 2, False),  # the same name twice
        (["  "], 2, False),  # a blank write-in
    ],
)
def test_ballot_validity(marked: list[str], seats: int, valid: bool) -> None:
    assert ballot_is_valid(marked, seats) is valid


def test_an_election_ballot_with_more_marks_than_seats_is_void() -> None:
    assert not ballot_is_valid(["c1", "c2", "c3", "c4"], seats=3, candidates=CANDIDATES)


@given(st.lists(st.sampled_from(CANDIDATES), unique=True), st.integers(1, 4))
def test_ballot_is_valid_iff_marks_do_not_exceed_seats(marked: list[str], seats: int) -> None:
    assert ballot_is_valid(marked, seats, CANDIDATES) == (len(marked) <= seats)


def test_write_in_counts_only_where_allowed() -> None:
    assert not ballot_is_valid(["c1", "王五"], 2, CANDIDATES)
    assert ballot_is_valid(["c1", "王五"], 2, CANDIDATES, allow_write_ins=True)


@pytest.mark.parametrize(
    ("candidates", "seats", "kind"),
    [(3, 3, ElectionKind.EQUAL), (5, 3, ElectionKind.COMPETITIVE)],
)
def test_election_kind_from_candidates_and_seats(candidates: int, seats: int, kind: ElectionKind) -> None:
    assert election_kind(candidates, seats) is kind


def test_fewer_candidates_than_seats_is_refused() -> None:
    with pytest.raises(DomainError) as caught:
        election_kind(2, 3)
    assert caught.value.code == "too_few_candidates"


def test_top_candidates_above_the_threshold_are_elected() -> None:
    outcome = elect({"a": 200, "b": 180, "c": 170, "d": 100}, seats=2, rule=Rule(), basis_count=295)
    assert outcome.elected == ["a", "b"]
    assert outcome.tied_for_last == [] and outcome.unfilled_seats == 0
    assert [(r.candidate, r.passed_threshold, r.elected) for r in outcome.per_candidate] == [
        ("a", True, True),
        ("b", True, True),
        ("c", True, False),
        ("d", False, False),
    ]


def test_ties_for_the_last_seat_are_reported_not_broken() -> None:
    outcome = elect(
        {"a": 200, "b": 180, "c": 150, "d": 150, "e": 100},
        seats=3,
        rule=Rule(),
        basis_count=295,
        names={"a": "张三", "b": "李四", "c": "王五", "d": "赵六"},
    )
    assert outcome.elected == ["a", "b"]
    assert outcome.tied_for_last == ["c", "d"]
    assert outcome.unfilled_seats == 1
    assert outcome.words == (
        "应选 3 名，得票须超过全体职工代表 295 人的半数（148 票）；当选 2 名：张三 200 票、李四 180 票；"
        "王五、赵六 各得 150 票，并列争最后 1 个名额，均未当选；空缺 1 名，需另行投票选举"
    )


def test_a_tie_inside_the_seats_elects_everyone_tied() -> None:
    outcome = elect({"a": 200, "b": 200, "c": 150}, seats=2, rule=Rule(), basis_count=295)
    assert outcome.elected == ["a", "b"] and outcome.tied_for_last == []


def test_seats_stay_open_when_too_few_reach_the_threshold() -> None:
    outcome = elect({"a": 200, "b": 147, "c": 120}, seats=2, rule=Rule(), basis_count=295)
    assert outcome.elected == ["a"]
    assert outcome.unfilled_seats == 1
    assert outcome.words.endswith("空缺 1 名，需另行投票选举")


def test_candidates_below_the_threshold_are_never_tied_for_last() -> None:
    outcome = elect({"a": 200, "b": 100, "c": 100}, seats=2, rule=Rule(), basis_count=295)
    assert outcome.elected == ["a"] and outcome.tied_for_last == [] and outcome.unfilled_seats == 1


def test_election_rule_of_cast_ballots() -> None:
    outcome = elect({"a": 60, "b": 40}, seats=1, rule=Rule(Basis.CAST, Fraction(1, 2)), basis_count=100)
    assert outcome.elected == ["a"]
    assert "超过参加表决的代表 100 人的半数（51 票）" in outcome.words


votes = st.dictionaries(st.sampled_from([f"c{i}" for i in range(8)]), st.integers(0, 300), min_size=1)


@given(votes=votes, seats=st.integers(1, 5), basis_count=st.integers(0, 300))
def test_election_invariants(votes: dict[str, int], seats: int, basis_count: int) -> None:
    outcome = elect(votes, seats, rule=Rule(), basis_count=basis_count)
    required = Rule().required(basis_count)

    assert len(outcome.elected) + outcome.unfilled_seats == seats
    assert len(outcome.elected) <= seats
    assert all(votes[c] >= required for c in outcome.elected + outcome.tied_for_last)
    # Nobody left out has as many votes as someone elected: ties are never broken silently.
    left_out = [c for c in votes if c not in outcome.elected and votes[c] >= required]
    assert all(votes[o] < votes[e] for o in left_out for e in outcome.elected)
    if outcome.tied_for_last:
        assert len(outcome.tied_for_last) >= 2
        assert len({votes[c] for c in outcome.tied_for_last}) == 1
        assert len(outcome.elected) + len(outcome.tied_for_last) > seats
    assert {r.candidate for r in outcome.per_candidate} == set(votes)
    assert [r.votes for r in outcome.per_candidate] == sorted(votes.values(), reverse=True)
