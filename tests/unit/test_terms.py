"""届 and 次, pure: names and labels, which proposals are open, and the statistics rules — each
session's rates, the term counting a carried-over proposal once (where it ended up), ratings under
the department they were given to, and the change from one session to the next."""

from __future__ import annotations

from datetime import date

import pytest

from congress.domain.term_stats import ProposalRow, RatingRow, SessionRows, figures, term_figures
from congress.domain.terms import (
    chinese_number,
    is_open,
    next_session_name,
    parse_congress_name,
    parse_number,
    session_label,
)

DAY = date(2027, 3, 31)


@pytest.mark.parametrize(("n", "text"), [(1, "一"), (3, "三"), (10, "十"), (12, "十二"), (20, "二十"), (25, "二十五")])
def test_chinese_numbers_both_ways(n, text):
    assert chinese_number(n) == text
    assert parse_number(text) == n


def test_a_congress_name_gives_its_term_and_session():
    parsed = parse_congress_name("纸业集团第十届职工代表大会第三次会议")
    assert (parsed.term_name, parsed.term_number, parsed.session_number) == ("纸业集团第十届职工代表大会", 10, 3)
    assert parse_congress_name("第5届职代会第2次会议").term_number == 5
    plain = parse_congress_name("机关工会会员代表大会")
    assert (plain.term_name, plain.term_number, plain.session_number) == ("机关工会会员代表大会", None, 1)
    assert session_label(10, 3) == "第十届第三次" and session_label(None, 2) == "第二次"
    assert next_session_name("纸业集团第十届职工代表大会第三次会议", 10, 3) == "纸业集团第十届职工代表大会第四次会议"
    assert next_session_name("机关工会会员代表大会", None, 1) == "机关工会会员代表大会（第二次会议）"


def test_open_means_filed_and_not_settled():
    assert all(is_open(s) for s in ("submitted", "registered", "assigned", "replied", "following_up"))
    assert not any(is_open(s) for s in ("closed", "rejected", "merged", "forwarded", "to_agenda", "draft", "pre_review"))


def _p(pid, status, department="财务部", category="经营管理", carried_from=None):  # type: ignore[no-untyped-def]
    return ProposalRow(pid, pid, f"提案{pid}", status, category, department if status != "submitted" else None,
                       carried_from)


def test_a_sessions_rates():
    proposals = [_p(1, "closed"), _p(2, "assigned"), _p(3, "rejected"), _p(4, "merged"), _p(5, "replied")]
    ratings = [RatingRow(1, "满意", "财务部"), RatingRow(5, "不满意", "财务部"), RatingRow(1, "基本满意", "财务部")]
    f = figures(proposals, ratings, DAY)
    assert (f["total"], f["cases"], f["closed"]) == (5, 3, 1)
    assert f["register_rate"] == 0.8  # (3 cases + 1 merged) / 5
    assert f["closed_rate"] == round(1 / 3, 4)
    assert f["satisfaction_rate"] == round(2 / 3, 4)
    assert [(d["department"], d["cases"], d["closed"]) for d in f["by_department"]] == [("财务部", 3, 1)]


def test_a_rating_counts_for_the_department_it_was_given_to():
    # Rated 不满意 under 财务部, then reassigned: the rating stays 财务部's
    f = figures([_p(1, "assigned", department="人力资源部")], [RatingRow(1, "不满意", "财务部")], DAY)
    by = {d["department"]: d for d in f["by_department"]}
    assert by["财务部"]["ratings"]["不满意"] == 1 and by["人力资源部"]["cases"] == 1
    assert sum(by["人力资源部"]["ratings"].values()) == 0


def test_the_term_counts_a_carried_proposal_once_where_it_ended_up():
    first = SessionRows(1, "第十届第三次", "三次", (_p(1, "closed"), _p(2, "assigned"), _p(3, "replied")),
                        (RatingRow(1, "满意", "财务部"), RatingRow(3, "不满意", "财务部")))
    # 2 and 3 carried over as 11 and 12; 12 came with its 不满意 and was then closed 满意
    second = SessionRows(2, "第十届第四次", "四次", (_p(11, "closed", carried_from=2), _p(12, "closed", carried_from=3),
                                                   _p(13, "submitted")),
                         (RatingRow(11, "满意", "财务部"), RatingRow(12, "不满意", "财务部"), RatingRow(12, "满意", "财务部")))
    stats = term_figures([first, second], DAY)
    s1, s2 = stats["sessions"]
    assert (s1["total"], s1["closed"], s1["carried_on"], s1["carried_in"]) == (3, 1, 2, 0)
    assert (s2["total"], s2["closed"], s2["carried_in"]) == (3, 2, 2)
    term = stats["term"]
    assert (term["total"], term["cases"], term["closed"]) == (4, 3, 3)  # 1, 11, 12 and 13 — not 2 and 3 again
    assert term["ratings"] == {"满意": 3, "基本满意": 0, "不满意": 1}  # 3's 不满意 once, through 12
    assert term["closed_rate"] == 1.0
    (change,) = stats["year_on_year"]
    assert (change["from"], change["to"]) == ("第十届第三次", "第十届第四次")
    assert change["closed_rate"] == round((1.0 - round(1 / 3, 4)) * 100, 1)  # percentage points
    assert change["satisfaction_rate"] == round((round(2 / 3, 4) - 0.5) * 100, 1)


def test_a_rate_without_a_base_has_no_change():
    empty = SessionRows(1, "第一次", "一", (), ())
    one = SessionRows(2, "第二次", "二", (_p(1, "assigned"),), ())
    (change,) = term_figures([empty, one], DAY)["year_on_year"]
    assert change["closed_rate"] is None and change["register_rate"] is None
