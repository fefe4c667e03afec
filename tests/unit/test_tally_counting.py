"""Counting by group, online ballots, and checking a leader's hand count."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from congress.domain.errors import DomainError
from congress.tally import (
    CastBallot,
    GroupRoll,
    GroupTally,
    Question,
    QuestionKind,
    combine,
    count_ballots,
    decide_motion,
    validate_group_count,
)

FIGURES = ("eligible", "present", "issued", "returned", "valid", "void")


@st.composite
def group_tallies(draw: st.DrawFn, group_id: str) -> GroupTally:
    eligible = draw(st.integers(0, 60))
    present = draw(st.integers(0, eligible))
    returned = draw(st.integers(0, present))
    valid = draw(st.integers(0, returned))
    yes = draw(st.integers(0, valid))
    no = draw(st.integers(0, valid - yes))
    return GroupTally(
        group_id,
        eligible,
        present,
        present,
        returned,
        valid,
        returned - valid,
        {"yes": yes, "no": no, "abstain": valid - yes - no},
    )


groups_strategy = st.integers(0, 7).flatmap(lambda n: st.tuples(*(group_tallies(f"g{i}") for i in range(n))))


@given(groups_strategy)
def test_totals_equal_the_sum_of_the_groups(groups: tuple[GroupTally, ...]) -> None:
    tally = combine(groups)
    for figure in FIGURES:
        assert getattr(tally, figure) == sum(getattr(g, figure) for g in groups)
    for option in ("yes", "no", "abstain"):
        assert tally.counts.get(option, 0) == sum(g.counts[option] for g in groups)
    assert tally.not_voting == sum(g.not_voting for g in groups)
    assert tally.groups == groups


def test_combined_tally_feeds_the_motion_decision() -> None:
    tally = combine(
        [
            GroupTally("长沙", 100, 90, 90, 88, 86, 2, {"yes": 80, "no": 4, "abstain": 2}),
            GroupTally.show_of_hands("岳阳", 50, 45, {"yes": 40, "no": 3, "abstain": 2}),
        ]
    )
    outcome = decide_motion(tally.counts, voting_total=tally.eligible, present=tally.present, cast=tally.cast)
    assert (outcome.yes, outcome.basis_count, outcome.required, outcome.passed) == (120, 150, 76, True)


def test_a_group_counted_twice_is_refused() -> None:
    group = GroupTally("长沙", 10, 10, 10, 10, 10, 0, {"yes": 10})
    with pytest.raises(DomainError) as caught:
        combine([group, group])
    assert caught.value.code == "duplicate_group"


def test_group_tally_keeps_its_own_copy_of_counts() -> None:
    counts = {"yes": 3}
    group = GroupTally("g", 5, 5, 5, 3, 3, 0, counts)
    counts["yes"] = 99
    assert group.counts == {"yes": 3}


# ---------------------------------------------------------------- online ballots

MOTION = Question("q1")
ELECTION = Question("q2", QuestionKind.ELECTION, options=("c1", "c2", "c3"), seats=2)
RATING = Question("q3", QuestionKind.RATING)
ROLLS = {"长沙": GroupRoll(eligible=5, present=4), "宁波": GroupRoll(eligible=3, present=3)}


def test_count_ballots_per_question_and_group() -> None:
    ballots = [
        CastBallot("长沙", {"q1": "yes", "q2": ["c1", "c2"], "q3": "称职"}),
        CastBallot("长沙", {"q1": "no", "q2": ["c1", "c2", "c3"], "q3": "基本称职"}),  # q2 overmarked
        CastBallot("长沙", {"q1": "maybe", "q2": []}),  # q1 bad option, q2 empty but valid, q3 blank
        CastBallot("宁波", {"q1": "abstain", "q2": ["c3"], "q3": "称职"}),
    ]
    result = count_ballots(ballots, [MOTION, ELECTION, RATING], ROLLS)

    changsha_q1, ningbo_q1 = result["q1"]
    assert (changsha_q1.group_id, changsha_q1.returned, changsha_q1.valid, changsha_q1.void) == (
        "长沙",
        3,
        2,
        1,
    )
    assert changsha_q1.counts == {"yes": 1, "no": 1, "abstain": 0}
    assert changsha_q1.not_voting == 2  # 5 eligible, 3 voted (one of the 4 present did not)
    assert ningbo_q1.counts == {"yes": 0, "no": 0, "abstain": 1} and ningbo_q1.not_voting == 2

    changsha_q2 = result["q2"][0]
    assert (changsha_q2.valid, changsha_q2.void) == (2, 1)
    assert changsha_q2.counts == {"c1": 1, "c2": 1, "c3": 0}

    changsha_q3 = result["q3"][0]
    assert (changsha_q3.valid, changsha_q3.void) == (2, 1)
    assert changsha_q3.counts == {"称职": 1, "基本称职": 1, "不称职": 0}


def test_groups_without_ballots_show_everyone_not_voting() -> None:
    result = count_ballots([], [MOTION], ROLLS)
    assert [g.not_voting for g in result["q1"]] == [5, 3]


def test_write_ins_are_counted_where_allowed() -> None:
    question = Question("q", QuestionKind.ELECTION, options=("c1",), seats=2, allow_write_ins=True)
    (group,) = count_ballots([CastBallot("g", {"q": ["c1", "王五"]})], [question], {"g": GroupRoll(1, 1)})[
        "q"
    ]
    assert group.counts == {"c1": 1, "王五": 1}


@pytest.mark.parametrize(
    ("ballots", "code"),
    [
        ([CastBallot("温州", {"q1": "yes"})], "unknown_group"),
        ([CastBallot("宁波", {"q9": "yes"})], "unknown_question"),
        ([CastBallot("宁波", {"q1": "yes"})] * 4, "ballots_exceed_present"),
    ],
)
def test_malformed_online_ballots_are_refused(ballots: list[CastBallot], code: str) -> None:
    with pytest.raises(DomainError) as caught:
        count_ballots(ballots, [MOTION], ROLLS)
    assert caught.value.code == code


answers = st.fixed_dictionaries(
    {},
    optional={
        "q1": st.sampled_from(["yes", "no", "abstain", "bogus"]),
        "q2": st.lists(st.sampled_from(["c1", "c2", "c3"]), max_size=4),
    },
)


@given(st.lists(st.tuples(st.sampled_from(["长沙", "宁波"]), answers), max_size=7))
def test_every_returned_ballot_is_valid_or_void_on_each_question(
    drawn: list[tuple[str, dict[str, object]]],
) -> None:
    rolls = {"长沙": GroupRoll(10, 8), "宁波": GroupRoll(10, 8)}
    ballots = [CastBallot(g, a) for g, a in drawn]  # type: ignore[arg-type]
    result = count_ballots(ballots, [MOTION, ELECTION], rolls)
    for group in result["q1"]:
        assert group.valid + group.void == group.returned == sum(1 for g, _ in drawn if g == group.group_id)
        assert sum(group.counts.values()) == group.valid
        assert group.not_voting == group.eligible - group.returned
    for group in result["q2"]:
        assert group.valid + group.void == group.returned
        assert sum(group.counts.values()) <= group.valid * ELECTION.seats
    assert combine(result["q1"]).returned == len(ballots)


# ---------------------------------------------------------------- hand counts


def paper(
    present: int = 30,
    issued: int = 30,
    returned: int = 30,
    valid: int = 29,
    void: int = 1,
    counts: dict[str, int] | None = None,
) -> GroupTally:
    return GroupTally(
        "怀化",
        32,
        present,
        issued,
        returned,
        valid,
        void,
        counts if counts is not None else {"yes": 25, "no": 3, "abstain": 1},
    )


def test_a_consistent_paper_count_is_accepted() -> None:
    check = validate_group_count(paper(), checked_in_voting=30, is_secret=True, method="paper")
    assert not check.is_void_round
    assert check.words == "纸质选票：实到 30 人，发出 30 张，收回 30 张，有效 29 张，无效 1 张，核对无误"


def test_a_consistent_show_of_hands_is_accepted() -> None:
    entry = GroupTally.show_of_hands("益阳", 30, 28, {"yes": 26, "no": 1, "abstain": 1})
    check = validate_group_count(entry, checked_in_voting=28, is_secret=False, method="show_of_hands")
    assert not check.is_void_round


@pytest.mark.parametrize(
    ("entry", "checked_in", "method", "code"),
    [
        (paper(present=31, issued=30), 30, "paper", "group_count_exceeds_present"),
        (paper(issued=31, returned=30), 31, "paper", "group_count_exceeds_present"),
        (paper(valid=28, void=1), 30, "paper", "group_count_does_not_add_up"),
        (paper(counts={"yes": 25, "no": 3}), 30, "paper", "group_count_does_not_add_up"),
        (
            GroupTally.show_of_hands("永州", 30, 28, {"yes": 20, "no": 5}),
            28,
            "show_of_hands",
            "group_count_does_not_add_up",
        ),
        (
            GroupTally("永州", 30, 28, 0, 0, 0, 0, {"yes": 28}),
            28,
            "show_of_hands",
            "group_count_does_not_add_up",
        ),
        (paper(), 30, "by_acclamation", "unknown_count_method"),
    ],
)
def test_wrong_hand_counts_are_refused(entry: GroupTally, checked_in: int, method: str, code: str) -> None:
    with pytest.raises(DomainError) as caught:
        validate_group_count(entry, checked_in, is_secret=False, method=method)
    assert caught.value.code == code
    assert caught.value.message  # a message staff can read


def test_hand_count_above_present_is_refused() -> None:
    entry = GroupTally.show_of_hands("长沙", 40, 36, {"yes": 30, "no": 4, "abstain": 2})
    with pytest.raises(DomainError) as caught:
        validate_group_count(entry, checked_in_voting=35, is_secret=False, method="show_of_hands")
    assert caught.value.code == "group_count_exceeds_present"
    assert "超过本组已签到的正式代表 35 人" in caught.value.message


def test_show_of_hands_for_a_secret_question_is_refused() -> None:
    entry = GroupTally.show_of_hands("长沙", 40, 30, {"yes": 30})
    with pytest.raises(DomainError) as caught:
        validate_group_count(entry, checked_in_voting=30, is_secret=True, method="show_of_hands")
    assert caught.value.code == "show_of_hands_for_secret"


def test_negative_hand_count_is_refused() -> None:
    with pytest.raises(DomainError) as caught:
        paper(counts={"yes": -1, "no": 30})
    assert caught.value.code == "negative_count"


def test_more_ballots_returned_than_issued_is_a_void_round() -> None:
    check = validate_group_count(
        paper(returned=31, valid=30, void=1), checked_in_voting=30, is_secret=True, method="paper"
    )
    assert check.is_void_round
    assert check.words == "收回选票 31 张，多于发出的 30 张，本轮表决无效，需重新投票"


@pytest.mark.parametrize(
    ("counts", "ok"),
    [
        ({"c1": 29, "c2": 28, "c3": 1}, True),  # 58 marks on 29 valid ballots of two names each
        ({"c1": 30, "c2": 1}, False),  # one candidate above the valid ballots
        ({"c1": 29, "c2": 29, "c3": 1}, False),  # 59 marks cannot fit on 29 ballots of two names
    ],
)
def test_election_hand_counts_may_exceed_valid_ballots_in_total_but_not_per_candidate(
    counts: dict[str, int], ok: bool
) -> None:
    entry = paper(counts=counts)  # 29 valid ballots
    if ok:
        assert not validate_group_count(entry, 30, is_secret=True, method="paper", seats=2).is_void_round
    else:
        with pytest.raises(DomainError):
            validate_group_count(entry, 30, is_secret=True, method="paper", seats=2)


@given(entry=group_tallies("g"), checked_in=st.integers(0, 60))
def test_an_accepted_hand_count_never_exceeds_the_checked_in_delegates(
    entry: GroupTally, checked_in: int
) -> None:
    try:
        check = validate_group_count(entry, checked_in, is_secret=True, method="paper")
    except DomainError as error:
        assert error.code in {"group_count_exceeds_present", "group_count_does_not_add_up"}
        return
    assert not check.is_void_round
    assert entry.present <= checked_in
    assert max([entry.returned, *entry.counts.values()]) <= checked_in
