"""Statistics of a 届 from the database (congress.domain.term_stats), and as XLSX sheets: one per
session and a 届汇总 sheet whose charts compare the sessions (openpyxl's native charts)."""

from __future__ import annotations

from datetime import date
from io import BytesIO
from typing import Any

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font
from sqlalchemy.orm import Session

from congress.db.models import Assignment, Congress, Department, Proposal, Rating, Reply, Term
from congress.domain.errors import DomainError
from congress.domain.progress import percent
from congress.domain.proposals import ProposalStatus
from congress.domain.term_stats import ProposalRow, RatingRow, SessionRows, term_figures
from congress.domain.terms import session_label
from congress.records.cells import append_row, first_sheet, header_row
from congress.records.progress_report import append_category_table

HIDDEN = (ProposalStatus.DRAFT.value, ProposalStatus.PRE_REVIEW.value)


def term_sessions(session: Session, congress_id: int) -> tuple[str, list[SessionRows]]:
    """The term's name and its sessions up to and including this congress, in order."""
    congress = session.get(Congress, congress_id)
    if congress is None:
        raise DomainError("not_found", f"没有编号为 {congress_id} 的职代会")
    term = session.get(Term, congress.term_id) if congress.term_id else None
    members = ([congress] if term is None else list(session.scalars(
        sa.select(Congress).where(Congress.term_id == term.id, Congress.session_number <= congress.session_number)
        .order_by(Congress.session_number, Congress.id))))
    return (term.name if term else congress.name), [_rows(session, c, term) for c in members]


def _rows(session: Session, congress: Congress, term: Term | None) -> SessionRows:
    proposals = list(session.execute(sa.select(
        Proposal.id, Proposal.number, Proposal.title, Proposal.status, Proposal.category, Proposal.carried_from_id)
        .where(Proposal.congress_id == congress.id, Proposal.status.not_in(HIDDEN)).order_by(Proposal.number)))
    ids = [p.id for p in proposals]
    # Lead department of each round: the current one for the case, the rated round's for a rating
    leads: dict[tuple[int, int], str] = {}
    current: dict[int, tuple[int, str]] = {}
    for pid, round_, name in session.execute(sa.select(Assignment.proposal_id, Assignment.round, Department.name)
                                             .join(Department, Assignment.department_id == Department.id)
                                             .join(Proposal, Assignment.proposal_id == Proposal.id)
                                             .where(Proposal.congress_id == congress.id, Assignment.is_lead)):
        leads[(pid, round_)] = name
        if pid not in current or round_ >= current[pid][0]:
            current[pid] = (round_, name)
    ratings = [RatingRow(pid, rating, leads.get((pid, round_)))
               for pid, rating, round_ in session.execute(
                   sa.select(Rating.proposal_id, Rating.rating, Reply.round).join(Reply, Rating.reply_id == Reply.id)
                   .join(Proposal, Rating.proposal_id == Proposal.id).where(Proposal.congress_id == congress.id)
                   .order_by(Rating.id))
               if pid in set(ids)]
    rows = tuple(ProposalRow(p.id, p.number, p.title, p.status, p.category, current.get(p.id, (0, None))[1],
                             p.carried_from_id) for p in proposals)
    return SessionRows(congress.id, session_label(term.number if term else None, congress.session_number),
                       congress.name, rows, tuple(ratings))


def term_statistics_of(session: Session, congress_id: int, day: date) -> dict[str, Any]:
    name, sessions = term_sessions(session, congress_id)
    return {"term_name": name, **term_figures(sessions, day)}


def term_statistics_if_sessions(session: Session, congress_id: int, day: date) -> dict[str, Any] | None:
    """The term's statistics when this congress is not its term's first session, else None: what the
    register and the progress report add as sheets (a first session's workbook stays as it was)."""
    name, sessions = term_sessions(session, congress_id)
    return {"term_name": name, **term_figures(sessions, day)} if len(sessions) > 1 else None


def add_term_sheets(book: Workbook, stats: dict[str, Any]) -> None:
    """A sheet per session (its figures by department and by category) and 届汇总 (the sessions side
    by side, the term's totals, and bar charts of the three rates by session)."""
    for s in stats["sessions"]:
        _session_sheet(book.create_sheet(f"{s['label']}统计"[:31]), s)
    sheet = book.create_sheet("届汇总")
    append_row(sheet, [f"{stats['term_name']} 各次会议提案统计"])
    sheet["A1"].font = Font(bold=True, size=14)
    append_row(sheet, [])
    header_row(sheet, ["会议", "提案", "立案", "已办结", "上次转入", "立案率", "办结率", "满意率"])
    top = sheet.max_row
    for s in stats["sessions"]:
        append_row(sheet, [s["label"], s["total"], s["cases"], s["closed"], s["carried_in"],
                           *(_pct(s[k]) for k in ("register_rate", "closed_rate", "satisfaction_rate"))])
    last = sheet.max_row
    t = stats["term"]
    append_row(sheet, ["全届（每件提案只计一次）", t["total"], t["cases"], t["closed"], None,
                       *(_pct(t[k]) for k in ("register_rate", "closed_rate", "satisfaction_rate"))])
    for row in sheet.iter_rows(min_row=top + 1, min_col=6, max_col=8):
        for cell in row:
            cell.number_format = "0.0%"
    append_row(sheet, [])
    header_row(sheet, ["逐年比较", "", "立案率变化（百分点）", "办结率变化（百分点）", "满意率变化（百分点）"])
    for y in stats["year_on_year"]:
        append_row(sheet, [f"{y['from']} → {y['to']}", "", y["register_rate"], y["closed_rate"], y["satisfaction_rate"]])
    chart = BarChart()
    chart.title = "各次会议立案率、办结率、满意率"
    chart.add_data(Reference(sheet, min_col=6, max_col=8, min_row=top, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=top + 1, max_row=last))
    chart.y_axis.number_format = "0%"
    chart.height, chart.width = 8, 16
    sheet.add_chart(chart, "J3")
    counts = BarChart()
    counts.title = "各次会议提案、立案、办结件数"
    counts.add_data(Reference(sheet, min_col=2, max_col=4, min_row=top, max_row=last), titles_from_data=True)
    counts.set_categories(Reference(sheet, min_col=1, min_row=top + 1, max_row=last))
    counts.height, counts.width = 8, 16
    sheet.add_chart(counts, "J20")
    sheet.column_dimensions["A"].width = 24


def _pct(rate: float | None) -> float | None:
    return rate  # stored as a number (0.0% format) so the chart can draw it; empty when undefined


def _session_sheet(sheet: Any, s: dict[str, Any]) -> None:
    append_row(sheet, [f"{s['name']}（{s['label']}）"])
    sheet["A1"].font = Font(bold=True, size=13)
    append_row(sheet, [f"提案 {s['total']} 件（其中上次会议转入 {s['carried_in']} 件），立案 {s['cases']} 件，"
                       f"已办结 {s['closed']} 件；立案率 {percent(s['register_rate'])}，办结率 {percent(s['closed_rate'])}，"
                       f"满意率 {percent(s['satisfaction_rate'])}"])
    append_row(sheet, [])
    header_row(sheet, ["承办部门", "立案", "已办结", "办结率", "满意率"])
    for d in s["by_department"]:
        append_row(sheet, [d["department"], d["cases"], d["closed"], percent(d["closed_rate"]),
                           percent(d["satisfaction_rate"])])
    append_row(sheet, [])
    append_category_table(sheet, s["by_category"])
    sheet.column_dimensions["A"].width = 18


def term_xlsx(stats: dict[str, Any]) -> bytes:
    book = Workbook()
    book.remove(first_sheet(book))
    add_term_sheets(book, stats)
    out = BytesIO()
    book.save(out)
    return out.getvalue()
