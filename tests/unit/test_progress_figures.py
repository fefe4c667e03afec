"""progress_figures (congress/domain/progress.py): the report's figures from the public proposal
events, as they stood at the end of a day in Beijing time."""

from __future__ import annotations

from datetime import UTC, date, datetime

from congress.domain.progress import ProposalEvent, progress_figures


def at(day: int, hour: int = 2) -> datetime:  # 02:00 UTC = 10:00 in Beijing, on 2027-03-<day>
    return datetime(2027, 3, day, hour, 0, tzinfo=UTC)


def board(pid: int, status: str, **extra):  # type: ignore[no-untyped-def]
    return {"id": pid, "number": pid, "title": f"提案{pid}", "status": status, "category": "生活福利",
            "group": "主会场", "merged_into_id": None, **extra}


DUE = "2027-03-03T18:00:00+08:00"
EVENTS = [
    ProposalEvent(at(1), "proposal.submitted", board(1, "submitted")),
    ProposalEvent(at(1), "proposal.submitted", board(2, "submitted")),
    ProposalEvent(at(1), "proposal.category_suggested", {"proposal_id": 1, "category": "生活福利"}),
    ProposalEvent(at(2), "proposal.decided", board(1, "registered", decision="立案")),
    ProposalEvent(at(2), "proposal.decided", board(2, "merged", merged_into_id=1)),
    ProposalEvent(at(2), "proposal.assigned", board(1, "assigned", lead_department="后勤服务中心", due_at=DUE)),
    ProposalEvent(at(6), "proposal.replied", board(1, "replied")),
    ProposalEvent(at(7), "proposal.rated", board(1, "assigned", rating="不满意", round=1)),  # another round
    # 3 月 9 日 23:30 北京时间 is still the 9th: in that day's report
    ProposalEvent(datetime(2027, 3, 9, 15, 30, tzinfo=UTC), "proposal.replied", board(1, "replied")),
    ProposalEvent(datetime(2027, 3, 9, 16, 30, tzinfo=UTC), "proposal.rated", board(1, "closed", rating="满意", round=2)),
]


def test_before_anything_was_filed_nothing_is_counted():
    f = progress_figures(EVENTS, date(2027, 2, 28))
    assert (f["total"], f["cases"], f["overdue"], f["closed_rate"], f["satisfaction_rate"]) == (0, 0, [], None, None)


def test_a_case_past_its_due_date_is_overdue_by_calendar_days_until_answered():
    on_due_day = progress_figures(EVENTS, date(2027, 3, 3))
    assert [(o["department"], o["days_overdue"]) for o in on_due_day["overdue"]] == [("后勤服务中心", 0)]
    f = progress_figures(EVENTS, date(2027, 3, 5))
    assert [(o["number"], o["department"], o["days_overdue"]) for o in f["overdue"]] == [(1, "后勤服务中心", 2)]
    assert (f["total"], f["cases"], f["merged"], f["register_rate"]) == (2, 1, 1, 1.0)
    assert f["by_status"] == {"merged": 1, "assigned": 1}
    assert progress_figures(EVENTS, date(2027, 3, 6))["overdue"] == []  # replied that day


def test_a_rating_of_dissatisfied_reopens_the_case_and_counts_in_the_rates():
    f = progress_figures(EVENTS, date(2027, 3, 7))
    assert f["by_status"]["assigned"] == 1 and f["overdue"][0]["days_overdue"] == 4
    assert f["ratings"] == {"满意": 0, "基本满意": 0, "不满意": 1} and f["satisfaction_rate"] == 0.0
    assert f["answered_rate"] == 0.0 and f["closed_rate"] == 0.0


def test_the_end_of_the_day_is_midnight_in_beijing():
    ninth = progress_figures(EVENTS, date(2027, 3, 9))  # the reply at 23:30 counts, the rating at 00:30 does not
    assert ninth["by_status"]["replied"] == 1 and ninth["closed"] == 0
    tenth = progress_figures(EVENTS, date(2027, 3, 10))
    assert tenth["closed"] == 1 and tenth["closed_rate"] == 1.0 and tenth["answered_rate"] == 1.0
    assert tenth["ratings"] == {"满意": 1, "基本满意": 0, "不满意": 1} and tenth["satisfaction_rate"] == 0.5
    [department] = tenth["by_department"]
    assert (department["department"], department["cases"], department["closed"], department["overdue"],
            department["satisfaction_rate"]) == ("后勤服务中心", 1, 1, 0, 0.5)
    [category] = tenth["by_category"]
    assert (category["category"], category["proposals"], category["cases"], category["closed_rate"]) == \
        ("生活福利", 2, 1, 1.0)
