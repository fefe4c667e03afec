"""提案办理情况报告 on both databases: the story's demo proposals, handled through the real actions
at known times, give figures that match a count made here from the database, for today and for an
earlier day (what was true then); the PDF names the overdue departments, the XLSX has its sheets and
charts; the CLI writes both."""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from pypdf import PdfReader

from congress.actions.accounts import add_department
from congress.actions.base import Context
from congress.actions.casework import rate_reply, reply_proposal
from congress.application.auth import delegate_actor
from congress.cli import main as cli_main
from congress.db.models import Assignment, Delegate, Department, Proposal, Rating
from congress.demo.proposals import _department_actor, file_demo_proposals
from congress.demo.story import DEPARTMENTS
from congress.domain.progress import end_of_day
from congress.domain.time import BEIJING
from congress.records.minutes import find_cjk_font
from congress.records.progress_report import report_figures, report_pdf, report_xlsx
from tests.story import SETUP, build_story

FILED = datetime(2027, 3, 10, 2, 0, tzinfo=UTC)  # 3 月 10 日 10:00 北京时间
LATER = datetime(2027, 3, 12, 3, 0, tzinfo=UTC)  # 3 月 12 日
PUBLIC = ("submitted", "registered", "merged", "forwarded", "rejected", "to_agenda", "assigned", "replied",
          "following_up", "closed")


@pytest.fixture
def demo(db):  # type: ignore[no-untyped-def]
    story = build_story(db, with_codes=False)
    with db.write() as session:
        ctx = Context(session, SETUP, FILED)
        for name in DEPARTMENTS[1:]:
            add_department(ctx, name)
        file_demo_proposals(ctx, story.congress_id)
    return story


def counted(session, congress_id: int, day: date) -> dict:  # type: ignore[no-untyped-def]
    """The figures counted straight from the tables (as they stand now)."""
    statuses = Counter(session.scalars(sa.select(Proposal.status).where(
        Proposal.congress_id == congress_id, Proposal.status.in_(PUBLIC))))
    ratings = Counter(session.scalars(sa.select(Rating.rating).join(Proposal, Proposal.id == Rating.proposal_id)
                                      .where(Proposal.congress_id == congress_id)))
    overdue: Counter[str] = Counter()
    for proposal in session.scalars(sa.select(Proposal).where(Proposal.congress_id == congress_id,
                                                              Proposal.status == "assigned")):
        lead = session.execute(sa.select(Assignment, Department.name).join(Department).where(
            Assignment.proposal_id == proposal.id, Assignment.is_lead).order_by(Assignment.round.desc())).first()
        if lead[0].due_at and lead[0].due_at < end_of_day(day):
            overdue[lead[1]] += 1
    cases = sum(statuses[s] for s in ("registered", "assigned", "replied", "following_up", "closed"))
    return {"total": sum(statuses.values()), "by_status": dict(statuses), "cases": cases,
            "closed": statuses["closed"], "answered": statuses["replied"] + statuses["following_up"] + statuses["closed"],
            "ratings": {r: ratings[r] for r in ("满意", "基本满意", "不满意")}, "overdue": dict(overdue)}


def reported(figures: dict) -> dict:  # type: ignore[no-untyped-def]
    return {"total": figures["total"], "by_status": figures["by_status"], "cases": figures["cases"],
            "closed": figures["closed"], "answered": figures["answered"], "ratings": figures["ratings"],
            "overdue": dict(Counter(o["department"] for o in figures["overdue"]))}


def test_the_report_counts_what_was_true_on_its_day(db, demo):
    day = date(2027, 3, 10)
    with db.read() as session:
        then = counted(session, demo.congress_id, day)
        _name, figures = report_figures(session, demo.congress_id, day)
    assert reported(figures) == then
    assert then["overdue"] and then["ratings"]["满意"]  # the demo has overdue cases and ratings to count
    assert all(o["days_overdue"] == 3 for o in figures["overdue"])  # due 3 月 7 日
    assert figures["closed_rate"] == round(then["closed"] / then["cases"], 4)

    # 3 月 12 日: a department answers an overdue case, its proposer rates it 满意 (closing it)
    with db.write() as session:
        proposal, department = session.execute(
            sa.select(Proposal, Department.name).join(Assignment, Assignment.proposal_id == Proposal.id)
            .join(Department).where(Proposal.congress_id == demo.congress_id, Proposal.status == "assigned",
                                    Assignment.due_at < FILED)).first()
        ctx = _department_actor(Context(session, SETUP, LATER), department)
        reply_proposal(ctx, demo.congress_id, proposal.id, "A", "已按建议落实：夜班热饭窗口已于本周开放。")
        proposer = session.get(Delegate, proposal.proposer_id)
        rate_reply(Context(session, delegate_actor(proposer), LATER), demo.congress_id, proposal.id, "满意")
    with db.read() as session:
        now = counted(session, demo.congress_id, date(2027, 3, 12))
        _name, after = report_figures(session, demo.congress_id, date(2027, 3, 12))
        _name, again = report_figures(session, demo.congress_id, day)
    assert reported(after) == now
    assert now["closed"] == then["closed"] + 1 and now["ratings"]["满意"] == then["ratings"]["满意"] + 1
    assert reported(again) == then  # the earlier day's report did not change
    with db.read() as session:  # before anything was filed: nothing to report
        _name, before = report_figures(session, demo.congress_id, date(2027, 3, 9))
    assert before["total"] == 0 and before["overdue"] == [] and before["closed_rate"] is None


def test_the_pdf_and_xlsx_carry_the_figures(db, demo, tmp_path):
    day = date(2027, 3, 10)
    with db.read() as session:
        name, figures = report_figures(session, demo.congress_id, day)
        overdue_departments = set(counted(session, demo.congress_id, day)["overdue"])
    pdf = PdfReader(io.BytesIO(report_pdf(find_cjk_font(), name, figures, FILED.astimezone(BEIJING)))).pages
    text = re.sub(r"[\s\x00]+", "", "".join(page.extract_text() for page in pdf))  # as tests/db/test_records.py
    assert "提案办理情况报告" in text and "统计截至：2027年3月10日" in text
    for department in overdue_departments:
        assert department in text.split("三、超期未答复提案")[1].split("四、")[0]
    assert f"共收到提案{figures['total']}件" in text and f"已办结{figures['closed']}件" in text

    book = load_workbook(io.BytesIO(report_xlsx(name, figures)))
    assert book.sheetnames == ["概况", "超期未答复", "承办部门", "分类统计"]
    assert len(book["概况"]._charts) == 2 and len(book["承办部门"]._charts) == 1 and len(book["分类统计"]._charts) == 1
    late = list(book["超期未答复"].iter_rows(min_row=2, values_only=True))
    assert {row[0] for row in late} == overdue_departments and all(row[4] == 3 for row in late)

    url = db.url
    out = tmp_path / "report.xlsx"
    assert cli_main(["--database-url", url, "proposals", "report", "--congress", str(demo.congress_id),
                     "--date", "2027-03-10", "--format", "xlsx", "-o", str(out)]) == 0
    assert load_workbook(out).sheetnames[0] == "概况"
    assert cli_main(["--database-url", url, "proposals", "report", "--congress", str(demo.congress_id),
                     "--date", "10/03/2027", "-o", str(tmp_path / "x.pdf")]) == 1
    assert not (tmp_path / "x.pdf").exists()
