"""Printable exports: the access-code sheet (XLSX)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.page import PageMargins


def write_codes_xlsx(codes: list[dict[str, Any]], path: Path) -> None:
    """One row per delegate, large code font, repeated header: printed and cut into slips."""
    book = Workbook()
    sheet = book.active
    sheet.title = "访问码"
    header = ["工号", "姓名", "代表团(组)", "代表类型", "访问码"]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for c in codes:
        sheet.append([c["employee_id"], c["name"], c["group"], c["delegate_type"], c["code"]])
        sheet.cell(sheet.max_row, 5).font = Font(name="Consolas", size=14, bold=True)
    for column, width in zip("ABCDE", (12, 12, 14, 12, 22), strict=True):
        sheet.column_dimensions[column].width = width
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(vertical="center")
    sheet.print_title_rows = "1:1"
    sheet.page_margins = PageMargins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    book.save(path)
