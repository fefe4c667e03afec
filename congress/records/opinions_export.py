"""The groups' review opinions on one agenda item, for the presidium: XLSX and a printable page.

One row per group of the congress; a group that has not submitted shows "未报送". Text from users
is never a formula in the workbook and always escaped in the page.
"""

from __future__ import annotations

import html
import io
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.worksheet.page import PageMargins

from congress.records.cells import append_row, first_sheet, header_row

COLUMNS = ("代表团(组)", "议程", "赞同意见", "建议", "不同意见", "引用发言", "提交时间", "处理情况")
WIDTHS = (14, 24, 40, 40, 40, 40, 18, 20)


def _when(iso: str | None) -> str:
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M UTC") if iso else ""


def _quotes(opinion: dict[str, Any]) -> str:
    return "\n".join(f"{q['author_name']}：{q['text'] if not q['is_hidden'] else '（该发言已被隐藏）'}"
                     for q in opinion["quotes"])


def _handling(opinion: dict[str, Any]) -> str:
    if not opinion["handling"]:
        return "待处理"
    return opinion["handling"] + (f"：{opinion['handling_note']}" if opinion["handling_note"] else "")


def opinion_rows(table: dict[str, Any]) -> list[list[str]]:
    """`table` is congress.actions.opinions.opinions_table(...); drafts are not yet the group's opinion."""
    title = table["agenda_item"]["title"]
    rows = []
    for entry in table["groups"]:
        opinion = entry["opinion"]
        if opinion is None or opinion["status"] != "submitted":
            rows.append([entry["group"], title, "", "", "", "", "", "未报送"])
            continue
        rows.append([entry["group"], title, opinion["agreement"], opinion["suggestions"], opinion["objections"],
                     _quotes(opinion), _when(opinion["submitted_at"]), _handling(opinion)])
    return rows


def opinions_xlsx(table: dict[str, Any]) -> bytes:
    book = Workbook()
    sheet = first_sheet(book)
    sheet.title = "审议意见"
    header_row(sheet, COLUMNS)
    for row in opinion_rows(table):
        for cell in append_row(sheet, row):  # "=..." typed by a delegate stays text, never a formula
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for index, width in enumerate(WIDTHS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.page_margins = PageMargins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


_PRINT_CSS = """
body{font-family:"Noto Serif CJK SC","SimSun",serif;margin:1.5em;color:#000}
h1{font-size:1.4em;text-align:center;margin:0 0 .2em}
p.item{text-align:center;margin:0 0 1em}
table{border-collapse:collapse;width:100%;font-size:.9em}
th,td{border:1px solid #000;padding:.3em .4em;vertical-align:top;white-space:pre-wrap;word-break:break-word}
th{background:#eee}
thead{display:table-header-group}
tr{page-break-inside:avoid}
@page{size:A4 landscape;margin:12mm}
@media print{body{margin:0}}
"""


def opinions_print_html(table: dict[str, Any], congress_name: str) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>"
                   for row in opinion_rows(table))
    title = html.escape(table["agenda_item"]["title"])
    return ("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            f"<title>各代表团(组)审议意见 — {title}</title><style>{_PRINT_CSS}</style></head><body>"
            f"<h1>{html.escape(congress_name)} 各代表团(组)审议意见汇总</h1><p class=\"item\">议程：{title}</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>")
