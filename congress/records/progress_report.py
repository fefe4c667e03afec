"""提案办理情况报告 as of a day: read the proposal events up to that day, count them
(congress.domain.progress), print them as a PDF (CJK font, charts drawn with fpdf2) or an XLSX
workbook (openpyxl's native charts, which Excel and WPS redraw themselves)."""

from __future__ import annotations

from datetime import date, datetime
from io import BytesIO
from typing import Any

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.chart import BarChart, PieChart, Reference
from openpyxl.styles import Alignment, Font
from sqlalchemy.orm import Session

from congress.db.models import Congress, Event
from congress.domain.errors import DomainError
from congress.domain.kinds import Audience
from congress.domain.progress import ProposalEvent, end_of_day, percent, progress_figures
from congress.domain.proposals import STATUS_LABELS, ProposalStatus
from congress.records.cells import append_row, first_sheet, header_row
from congress.records.minutes import CjkFont, heading, new_pdf, paragraph, pdf_table
from congress.records.pdf_charts import bar_chart, pie_chart

FORMATS = ("pdf", "xlsx")
MEDIA_TYPES = {"pdf": "application/pdf",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def parse_day(text: str | None, field: str = "date") -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise DomainError("bad_field", f"{field} 应为日期，例如 2027-03-31", params={"field": field}) from None


def report_figures(session: Session, congress_id: int, day: date) -> tuple[str, dict[str, Any]]:
    """The congress's name and the figures at the end of `day`, from its public proposal events."""
    congress = session.get(Congress, congress_id)
    if congress is None:
        raise DomainError("not_found", f"没有编号为 {congress_id} 的职代会")
    cutoff = end_of_day(day)  # stored as UTC on both databases (db.base.UTCDateTime)
    rows = session.execute(sa.select(Event.created_at, Event.type, Event.payload).where(
        Event.congress_id == congress_id, Event.audience == Audience.PUBLIC.value, Event.type.like("proposal.%"),
        Event.created_at < cutoff).order_by(Event.seq))
    return congress.name, progress_figures([ProposalEvent(at, type_, payload) for at, type_, payload in rows], day)


def _status_label(status: str) -> str:
    return STATUS_LABELS[ProposalStatus(status)]


def _day_text(day: str) -> str:
    d = date.fromisoformat(day)
    return f"{d.year} 年 {d.month} 月 {d.day} 日"


def _summary(f: dict[str, Any]) -> str:
    return (f"截至 {_day_text(f['date'])}，共收到提案 {f['total']} 件，立案 {f['cases']} 件"
            f"（另合并立案 {f['merged']} 件，立案率 {percent(f['register_rate'])}）；已答复 {f['answered']} 件"
            f"（办复率 {percent(f['answered_rate'])}），已办结 {f['closed']} 件（办结率 {percent(f['closed_rate'])}）；"
            f"满意度测评 {sum(f['ratings'].values())} 次，满意率 {percent(f['satisfaction_rate'])}；"
            f"超期未答复 {len(f['overdue'])} 件。")


def report_pdf(font: CjkFont, congress_name: str, f: dict[str, Any], printed_at: datetime) -> bytes:
    pdf = new_pdf(font)
    pdf.set_title(f"{congress_name}提案办理情况报告")
    pdf.add_page()
    heading(pdf, f"{congress_name}\n提案办理情况报告")
    paragraph(pdf, f"统计截至：{_day_text(f['date'])}（北京时间当日 24 时）", 9)
    pdf.ln(2)
    paragraph(pdf, _summary(f), 11)
    pdf.ln(3)

    heading(pdf, "一、办理状态", 13)
    pdf_table(pdf, [["状态", "件数"], *[[_status_label(s), str(n)] for s, n in f["by_status"].items()]], [60, 30])
    bar_chart(pdf, "各状态提案件数", [(_status_label(s), n) for s, n in f["by_status"].items()], unit=" 件")
    rates = [("立案率", f["register_rate"]), ("办复率", f["answered_rate"]), ("办结率", f["closed_rate"]),
             ("满意率", f["satisfaction_rate"])]
    bar_chart(pdf, "主要比率（%）", [(name, round((r or 0) * 100, 1)) for name, r in rates], unit="%")

    heading(pdf, "二、满意度测评", 13)
    pdf_table(pdf, [["测评结果", "次数"], *[[r, str(n)] for r, n in f["ratings"].items()]], [60, 30])
    pie_chart(pdf, "满意度测评分布", list(f["ratings"].items()))

    heading(pdf, "三、超期未答复提案（按承办部门）", 13)
    if f["overdue"]:
        pdf_table(pdf, [["承办部门", "提案号", "案名", "办理期限", "超期天数"],
                        *[[o["department"], str(o["number"] or ""), o["title"], _due_text(o["due_at"]), str(o["days_overdue"])]
                          for o in f["overdue"]]], [34, 16, 86, 24, 20])
    else:
        paragraph(pdf, "无超期未答复的提案。")
    pdf.ln(2)

    heading(pdf, "四、各承办部门办理情况", 13)
    pdf_table(pdf, [["承办部门", "立案", "已答复", "已办结", "办结率", "超期", "满意率"],
                    *[[d["department"], str(d["cases"]), str(d["answered"]), str(d["closed"]), percent(d["closed_rate"]),
                       str(d["overdue"]), percent(d["satisfaction_rate"])] for d in f["by_department"]]],
              [46, 18, 20, 20, 24, 16, 24])
    bar_chart(pdf, "各承办部门立案件数", [(d["department"], d["cases"]) for d in f["by_department"]], unit=" 件")

    heading(pdf, "五、分类统计", 13)
    pdf_table(pdf, [["类别", "提案", "立案", "已办结", "办结率", "满意率"],
                    *[[c["category"], str(c["proposals"]), str(c["cases"]), str(c["closed"]), percent(c["closed_rate"]),
                       percent(c["satisfaction_rate"])] for c in f["by_category"]]], [46, 22, 22, 22, 28, 28])
    bar_chart(pdf, "各类别提案件数", [(c["category"], c["proposals"]) for c in f["by_category"]], unit=" 件")
    paragraph(pdf, f"本报告由系统根据截至统计日的提案办理记录生成，打印于 {printed_at:%Y-%m-%d %H:%M}（北京时间）。", 8)
    return bytes(pdf.output())


def _due_text(iso: str | None) -> str:
    from congress.records.minutes import local_time

    return local_time(iso)[:10] if iso else ""


def report_xlsx(congress_name: str, f: dict[str, Any], term_stats: dict[str, Any] | None = None) -> bytes:
    """Sheets 概况 (figures, states with a bar chart, ratings with a pie), 超期未答复, 承办部门 and
    分类统计 (each with a bar chart); every text cell through congress.records.cells (never a formula).
    With `term_stats` (a later session of a 届): a sheet per session and 届汇总 with charts."""
    book = Workbook()
    summary = first_sheet(book)
    summary.title = "概况"
    append_row(summary, [f"{congress_name}提案办理情况报告"])
    summary["A1"].font = Font(bold=True, size=14)
    append_row(summary, [f"统计截至 {_day_text(f['date'])}"])
    append_row(summary, [_summary(f)])
    summary["A3"].alignment = Alignment(wrap_text=True, vertical="top")
    summary.merge_cells("A3:F3")
    summary.row_dimensions[3].height = 60
    append_row(summary, [])
    header_row(summary, ["指标", "数值"])
    for name, value in (("提案", f["total"]), ("立案", f["cases"]), ("合并立案", f["merged"]), ("已答复", f["answered"]),
                        ("已办结", f["closed"]), ("超期未答复", len(f["overdue"])), ("立案率", percent(f["register_rate"])),
                        ("办复率", percent(f["answered_rate"])), ("办结率", percent(f["closed_rate"])),
                        ("满意率", percent(f["satisfaction_rate"]))):
        append_row(summary, [name, value])
    append_row(summary, [])
    status_top = summary.max_row + 1
    header_row(summary, ["状态", "件数"])
    for s, n in f["by_status"].items():
        append_row(summary, [_status_label(s), n])
    _bar(summary, "各状态提案件数", status_top, summary.max_row, "D5")
    append_row(summary, [])
    rating_top = summary.max_row + 1
    header_row(summary, ["满意度测评", "次数"])
    for r, n in f["ratings"].items():
        append_row(summary, [r, n])
    pie = PieChart()
    pie.title = "满意度测评分布"
    pie.add_data(Reference(summary, min_col=2, min_row=rating_top, max_row=summary.max_row), titles_from_data=True)
    pie.set_categories(Reference(summary, min_col=1, min_row=rating_top + 1, max_row=summary.max_row))
    summary.add_chart(pie, "D22")
    summary.column_dimensions["A"].width = 16
    summary.column_dimensions["B"].width = 12

    overdue = book.create_sheet("超期未答复")
    header_row(overdue, ["承办部门", "提案号", "案名", "办理期限", "超期天数"])
    for o in f["overdue"]:
        append_row(overdue, [o["department"], o["number"], o["title"], _due_text(o["due_at"]), o["days_overdue"]])
    for column, width in zip("ABCDE", (18, 8, 48, 12, 10), strict=True):
        overdue.column_dimensions[column].width = width

    departments = book.create_sheet("承办部门")
    for cell in append_row(departments, ["承办部门", "立案", "已答复", "已办结", "办结率", "超期", "满意", "基本满意",
                                         "不满意", "满意率"]):
        cell.font = Font(bold=True)
    for d in f["by_department"]:
        append_row(departments, [d["department"], d["cases"], d["answered"], d["closed"], percent(d["closed_rate"]),
                                 d["overdue"], *d["ratings"].values(), percent(d["satisfaction_rate"])])
    departments.column_dimensions["A"].width = 18
    _bar(departments, "各承办部门立案件数", 1, departments.max_row, "L2")

    categories = book.create_sheet("分类统计")
    append_category_table(categories, f["by_category"])
    categories.column_dimensions["A"].width = 14
    _bar(categories, "各类别提案件数", 1, categories.max_row, "H2")
    if term_stats is not None:
        from congress.records.term_report import add_term_sheets

        add_term_sheets(book, term_stats)

    out = BytesIO()
    book.save(out)
    return out.getvalue()


def append_category_table(sheet: Any, by_category: list[dict[str, Any]]) -> None:
    """The by-category table (类别, 提案, 立案, 已办结, 办结率, 满意率) under what `sheet` holds: the
    progress report's 分类统计 and each session's sheet of a term."""
    header_row(sheet, ["类别", "提案", "立案", "已办结", "办结率", "满意率"])
    for c in by_category:
        append_row(sheet, [c["category"], c["proposals"], c["cases"], c["closed"], percent(c["closed_rate"]),
                           percent(c["satisfaction_rate"])])


def _bar(sheet: Any, title: str, header_row: int, last_row: int, anchor: str) -> None:
    """A bar chart of column B (its header is the series' name) by the labels in column A."""
    chart = BarChart()
    chart.type, chart.title, chart.legend = "bar", title, None
    chart.add_data(Reference(sheet, min_col=2, min_row=header_row, max_row=last_row), titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=header_row + 1, max_row=last_row))
    chart.height, chart.width = 8, 14
    sheet.add_chart(chart, anchor)
