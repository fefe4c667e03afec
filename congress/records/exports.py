"""Printable exports: the access-code sheet (XLSX or CSV) and the 提案汇总表 (XLSX).

Every row goes through congress.records.cells, so names, groups and titles stay text (never a formula).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.page import PageMargins

from congress.records.cells import append_row, csv_text, first_sheet, header_row, lay_out_for_print

CODES_HEADER = ["工号", "姓名", "代表团(组)", "代表类型", "访问码"]


def _code_rows(codes: list[dict[str, Any]]) -> Iterator[list[Any]]:
    for c in codes:
        yield [c["employee_id"], c["name"], c["group"], c["delegate_type"], c["code"]]


def write_codes_xlsx(codes: list[dict[str, Any]], path: Path) -> None:
    """One row per delegate, large code font, repeated header: printed and cut into slips."""
    book = Workbook()
    sheet = first_sheet(book)
    sheet.title = "访问码"
    header_row(sheet, CODES_HEADER)
    for row in _code_rows(codes):
        append_row(sheet, row)[4].font = Font(name="Consolas", size=14, bold=True)
    for column, width in zip("ABCDE", (12, 12, 14, 12, 22), strict=True):
        sheet.column_dimensions[column].width = width
    for line in sheet.iter_rows(min_row=2):
        for each in line:
            each.alignment = Alignment(vertical="center")
    sheet.print_title_rows = "1:1"
    sheet.page_margins = PageMargins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    book.save(path)


def codes_csv(codes: list[dict[str, Any]]) -> str:
    """The same sheet as CSV (OWASP's quote before a name or group that begins like a formula)."""
    return csv_text([CODES_HEADER, *_code_rows(codes)])


REGISTER_HEADER = ["提案号", "案名", "提案人", "附议人", "代表团(组)", "类别", "重点", "立案情况", "主办部门", "协办部门",
                   "办理期限", "答复类别", "答复内容", "满意度", "优秀提案", "提交时间"]


def write_proposal_register(entries: list[dict[str, Any]], path: Path, title: str,
                            term_stats: dict[str, Any] | None = None) -> None:
    """提案汇总表: one row per proposal, as union staff keep it (title row, frozen header, wrapped text);
    with `term_stats` (a later session of a 届) a sheet per session and 届汇总 with charts follow
    (congress.records.term_report). A carried proposal's state says 上次会议转入 and from where."""
    book = Workbook()
    sheet = first_sheet(book)
    sheet.title = "提案汇总表"
    append_row(sheet, [title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(REGISTER_HEADER))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    for cell in header_row(sheet, REGISTER_HEADER):
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for e in entries:
        reply = e.get("reply") or {}
        append_row(sheet, [
            e.get("number"), e["title"], e["proposer"], "、".join(e.get("cosigners", [])), e["group"],
            e.get("category") or "", "是" if e.get("is_key") else "", _state(e),
            e.get("lead_department") or "", "、".join(e.get("helper_departments") or []), (e.get("due_at") or "")[:10],
            reply.get("reply_class", ""), reply.get("text", ""), e.get("rating") or "", e.get("award_level") or "",
            (e.get("submitted_at") or "")[:10],
        ])
    lay_out_for_print(sheet, (8, 36, 10, 24, 10, 10, 6, 12, 14, 18, 12, 8, 48, 10, 10, 12), header_at=2, freeze="C3")
    if term_stats is not None:
        from congress.records.term_report import add_term_sheets

        add_term_sheets(book, term_stats)
    book.save(path)


def _state(entry: dict[str, Any]) -> str:
    carried = entry.get("carried_from")
    if not carried:
        return str(entry["status_label"])
    return f"{entry['status_label']}（上次会议转入：{carried['session']} {carried['number']} 号）"
