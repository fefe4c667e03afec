"""Quorum, ratification rules, yes/no outcomes, ratings and the Chinese words they are stated in."""

from __future__ import annotations

import pickle
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from congress.domain.errors import DomainError
from congress.tally import (
    Basis,
    OptionCounts,
    Rule,
    check_quorum,
    chinese_number,
    decide_motion,
    fraction_words,
    percent_words,
    quorum_required,
    summarise_rating,
)

thresholds = st.fractions(min_value=Fraction(1, 20), max_value=Fraction(19, 20), max_denominator=20)
rules = st.builds(Rule, basis=st.sampled_from(Basis), threshold=thresholds, strict=st.booleans())


# ---------------------------------------------------------------- quorum


def test_197_of_295_is_quorum_and_196_is_not() -> None:
    assert quorum_required(295) == 197
    assert check_quorum(197, 295).met
    assert not check_quorum(196, 295).met


@pytest.mark.parametrize(
    ("present", "words"),
    [
        (180, "实到 180 人，未达到应到 295 人的三分之二（197 人）"),
        (250, "实到 250 人，达到应到 295 人的三分之二（197 人），符合法定人数"),
    ],
)
def test_quorum_words_state_present_total_and_required(present: int, words: str) -> None:
    assert check_quorum(present, 295).words == words


@pytest.mark.parametrize(
    ("total", "fraction", "inclusive", "required"),
    [
        (295, Fraction(2, 3), True, 197),
        (300, Fraction(2, 3), True, 200),  # exactly 2/3 is "at least 2/3"
        (300, Fraction(2, 3), False, 201),  # but not "more than 2/3"
        (295, Fraction(1, 2), False, 148),
        (296, Fraction(1, 2), False, 149),
        (296, Fraction(1, 2), True, 148),
        (0, Fraction(2, 3), True, 0),
        (4, Fraction(3, 4), True, 3),
        (5, Fraction(1), True, 5),
    ],
)
def test_quorum_required_table(total: int, fraction: Fraction, inclusive: bool, required: int) -> None:
    assert quorum_required(total, fraction, inclusive) == required


def test_strict_quorum_words_say_more_than() -> None:
    assert (
        check_quorum(200, 300, inclusive=False).words == "实到 200 人，未超过应到 300 人的三分之二（201 人）"
    )


@given(total=st.integers(0, 5000), fraction=thresholds, inclusive=st.booleans())
def test_quorum_required_is_the_smallest_count_meeting_the_fraction(
    total: int, fraction: Fraction, inclusive: bool
) -> None:
    required = quorum_required(total, fraction, inclusive)

    def meets(n: int) -> bool:
        return n >= fraction * total if inclusive else n > fraction * total

    assert meets(required)
    assert required == 0 or not meets(required - 1)


def test_present_above_total_is_refused() -> None:
    with pytest.raises(DomainError) as caught:
        check_quorum(296, 295)
    assert caught.value.code == "count_exceeds_total"


def test_float_fraction_is_refused() -> None:
    with pytest.raises(TypeError):
        quorum_required(295, 0.6667)  # type: ignore[arg-type]


# ---------------------------------------------------------------- rules


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        (Rule(), "赞成票超过全体职工代表的半数"),
        (Rule(Basis.PRESENT, Fraction(2, 3), strict=False), "赞成票达到实到代表的三分之二"),
        (Rule(Basis.CAST, Fraction(3, 4), strict=True), "赞成票超过参加表决的代表的四分之三"),
        (Rule(Basis.ALL_VOTING, Fraction(3, 5), strict=True), "赞成票超过全体职工代表的五分之三"),
    ],
)
def test_rule_describes_itself_in_chinese(rule: Rule, text: str) -> None:
    assert rule.describe() == text


def test_rule_reads_configuration_strings() -> None:
    assert Rule("present", "2/3", False) == Rule(Basis.PRESENT, Fraction(2, 3), strict=False)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("threshold", "strict"), [(Fraction(0), True), (Fraction(3, 2), False), (Fraction(1), True)]
)
def test_unreachable_or_empty_threshold_is_refused(threshold: Fraction, strict: bool) -> None:
    with pytest.raises(DomainError) as caught:
        Rule(threshold=threshold, strict=strict)
    assert caught.value.code == "invalid_threshold"


def test_no_rule_passes_with_zero_votes() -> None:
    assert Rule(Basis.CAST, Fraction(1, 2), strict=False).required(0) == 1


@given(rule=rules, n=st.integers(0, 5000))
def test_rule_required_is_the_smallest_yes_count_meeting_the_threshold(rule: Rule, n: int) -> None:
    required = rule.required(n)

    def meets(yes: int) -> bool:
        reaches = yes > rule.threshold * n if rule.strict else yes >= rule.threshold * n
        return reaches and yes >= 1

    assert meets(required)
    assert not meets(required - 1)


# ---------------------------------------------------------------- motions


def test_exactly_half_is_not_more_than_half() -> None:
    outcome = decide_motion(OptionCounts(yes=148, no=148), voting_total=296, present=296, cast=296)
    assert not outcome.passed
    assert outcome.required == 149
    assert outcome.words.endswith("未通过")


@pytest.mark.parametrize(
    ("yes", "passed", "words"),
    [
        (201, True, "赞成 201 票，超过全体职工代表 295 人的半数（148 票），通过"),
        (148, True, "赞成 148 票，超过全体职工代表 295 人的半数（148 票），通过"),
        (147, False, "赞成 147 票，未超过全体职工代表 295 人的半数（148 票），未通过"),
    ],
)
def test_motion_words_follow_the_statutory_default(yes: int, passed: bool, words: str) -> None:
    outcome = decide_motion({"yes": yes, "no": 250 - yes}, voting_total=295, present=260, cast=255)
    assert outcome.passed is passed
    assert outcome.words == words
    assert (outcome.basis_count, outcome.required) == (295, 148)


def test_majority_of_present_is_not_enough_under_the_default_rule() -> None:
    # 140 of 200 present is a large majority of those present but not of all 295 voting delegates.
    outcome = decide_motion({"yes": 140, "no": 60}, voting_total=295, present=200, cast=200)
    assert not outcome.passed


@pytest.mark.parametrize(
    ("rule", "basis_count", "text"),
    [
        (Rule(Basis.PRESENT), 200, "超过实到代表 200 人的半数（101 票）"),
        (
            Rule(Basis.CAST, Fraction(2, 3), strict=False),
            190,
            "达到参加表决的代表 190 人的三分之二（127 票）",
        ),
    ],
)
def test_motion_basis_follows_the_rule(rule: Rule, basis_count: int, text: str) -> None:
    outcome = decide_motion({"yes": 140, "no": 50}, rule, voting_total=295, present=200, cast=190)
    assert outcome.basis_count == basis_count
    assert text in outcome.words


@given(
    data=st.data(),
    rule=rules,
    voting_total=st.integers(0, 400),
)
def test_motion_passes_iff_yes_reaches_required_and_the_words_say_so(
    data: st.DataObject, rule: Rule, voting_total: int
) -> None:
    present = data.draw(st.integers(0, voting_total))
    cast = data.draw(st.integers(0, present))
    yes = data.draw(st.integers(0, cast))
    no = data.draw(st.integers(0, cast - yes))
    abstain = data.draw(st.integers(0, cast - yes - no))

    outcome = decide_motion(
        OptionCounts(yes, no, abstain), rule, voting_total=voting_total, present=present, cast=cast
    )

    assert outcome.passed == (yes >= outcome.required)
    assert outcome.required == rule.required(rule.basis_count(voting_total, present, cast))
    assert f"赞成 {yes} 票" in outcome.words
    if outcome.passed:
        assert outcome.words.endswith("，通过") and "未通过" not in outcome.words
    else:
        assert outcome.words.endswith("，未通过")


@pytest.mark.parametrize(
    ("counts", "voting_total", "present", "cast"),
    [
        ({"yes": 10, "no": 5}, 100, 50, 12),  # more votes than ballots cast
        ({"yes": 10}, 100, 50, 60),  # more cast than present
        ({"yes": 10}, 100, 120, 60),  # more present than voting delegates
    ],
)
def test_inconsistent_motion_figures_are_refused(
    counts: dict[str, int], voting_total: int, present: int, cast: int
) -> None:
    with pytest.raises(DomainError) as caught:
        decide_motion(counts, voting_total=voting_total, present=present, cast=cast)
    assert caught.value.code == "count_exceeds_total"


def test_unknown_motion_option_is_refused() -> None:
    with pytest.raises(DomainError) as caught:
        decide_motion({"maybe": 3}, voting_total=10, present=10, cast=10)
    assert caught.value.code == "unknown_option"


def test_negative_vote_count_is_refused() -> None:
    with pytest.raises(DomainError) as caught:
        OptionCounts(yes=-1)
    assert caught.value.code == "negative_count"
    assert "赞成票数" in caught.value.message


# ---------------------------------------------------------------- ratings


def test_rating_shares_are_exact_fractions_in_scale_order() -> None:
    outcome = summarise_rating({"不称职": 10, "称职": 200, "基本称职": 40})
    assert [line.option for line in outcome.lines] == ["称职", "基本称职", "不称职"]
    assert outcome.share("称职") == Fraction(4, 5)
    assert outcome.total == 250
    assert (
        outcome.words
        == "有效评议票 250 张：称职 200 票（80.0%），基本称职 40 票（16.0%），不称职 10 票（4.0%）"
    )


def test_rating_without_votes_says_so() -> None:
    outcome = summarise_rating({})
    assert outcome.total == 0 and all(line.share == 0 for line in outcome.lines)
    assert outcome.words == "尚无有效评议票"


def test_rating_outside_the_scale_is_refused() -> None:
    with pytest.raises(DomainError) as caught:
        summarise_rating({"优秀": 3})
    assert caught.value.code == "unknown_option"


@given(st.lists(st.integers(0, 1000), min_size=3, max_size=3))
def test_rating_shares_sum_to_one(values: list[int]) -> None:
    outcome = summarise_rating(dict(zip(("称职", "基本称职", "不称职"), values, strict=True)))
    assert sum(line.share for line in outcome.lines) == (1 if sum(values) else 0)


# ---------------------------------------------------------------- words and errors


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "零"),
        (7, "七"),
        (10, "十"),
        (12, "十二"),
        (20, "二十"),
        (101, "一百零一"),
        (110, "一百一十"),
        (1005, "一千零五"),
        (12000, "12000"),
    ],
)
def test_chinese_numbers(n: int, text: str) -> None:
    assert chinese_number(n) == text


@pytest.mark.parametrize(
    ("fraction", "text"),
    [
        (Fraction(1, 2), "半数"),
        (Fraction(2, 3), "三分之二"),
        (Fraction(3, 4), "四分之三"),
        (Fraction(4, 6), "三分之二"),
        (Fraction(3, 5), "五分之三"),
        (Fraction(51, 100), "百分之五十一"),
        (Fraction(1), "全部"),
    ],
)
def test_common_fractions_read_in_chinese(fraction: Fraction, text: str) -> None:
    assert fraction_words(fraction) == text


@pytest.mark.parametrize(
    ("share", "text"), [(Fraction(2, 3), "66.7%"), (Fraction(1, 8), "12.5%"), (Fraction(0), "0.0%")]
)
def test_percent_rounds_half_up_exactly(share: Fraction, text: str) -> None:
    assert percent_words(share) == text


def test_domain_error_keeps_code_and_message_through_pickling() -> None:
    error = pickle.loads(pickle.dumps(DomainError("quorum_not_met", "未达到法定人数")))
    assert (error.code, error.message, str(error)) == ("quorum_not_met", "未达到法定人数", "未达到法定人数")
