"""Cells of the spreadsheets and CSV files the program writes: people's text stays text.

A delegate's proposal title ``=HYPERLINK("http://evil.example","点此")`` or a roster name
``@SUM(A1)`` must never run as a formula when staff open an export in Excel or WPS (CSV and formula
injection, OWASP; issue 18). Every XLSX and CSV writer puts its rows through this module; a test
(tests/unit/test_cells.py) fails when a module writes cells another way.

- XLSX, :func:`append_row`: a string is always a string cell. openpyxl on its own turns any str that
  begins with "=" into a formula; here the cell is typed "s" (written as an inline string) and, when
  the text begins like a formula, also gets ``quotePrefix`` — what Excel records when someone types
  ``'=1+1`` — so the cell shows the text as typed and stays text when staff edit it. Numbers (and
  None) stay what they are. Characters XML cannot hold are dropped, as openpyxl would refuse them.
- CSV, :func:`csv_cell` / :func:`csv_text`: a CSV carries no types, so the spreadsheet decides from
  the first character. OWASP's rule: a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return (or NUL) gets a single quote in front. Excel and WPS in Chinese also start a formula from
  the full-width ``＝＋－＠`` that a Chinese input method types, so those are prefixed too. The quote
  is visible in a text editor; the price of the rule (no real name or title begins like this).
  Numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

# What makes Excel, WPS or LibreOffice read a cell as a formula (or a DDE call): OWASP's list, NUL
# (ASVS 5.0 1.2.10 names it too) and the full-width forms of = + - @ that Chinese input methods produce.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\x00", "＝", "＋", "－", "＠")
Number = int | float


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_START)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# -- XLSX -----------------------------------------------------------------------------------------
def first_sheet(book: Workbook) -> Worksheet:
    """A new workbook's one sheet (openpyxl types `book.active` as maybe None or a chart sheet)."""
    sheet = book.active
    assert isinstance(sheet, Worksheet)
    return sheet


def text_cell(sheet: Worksheet, value: Any) -> Cell:
    """A cell for `sheet` holding `value`: numbers, booleans and None as they are, anything else as text."""
    if value is None or isinstance(value, (bool, int, float)):
        return Cell(sheet, row=1, column=1, value=value)  # a placeholder place: sheet.append sets it
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    cell = Cell(sheet, row=1, column=1, value=text)
    cell.data_type = "s"  # openpyxl made "=…" a formula just now; a string it is
    if looks_like_formula(text):
        cell.quotePrefix = True  # Excel / WPS keep it text when the cell is edited
    return cell


def append_row(sheet: Worksheet, values: Iterable[Any]) -> list[Cell]:
    """Append one row of `values` to `sheet` (see the module's docstring); returns its cells, to style."""
    cells = [text_cell(sheet, value) for value in values]
    sheet.append(cells)
    return cells


# -- CSV ------------------------------------------------------------------------------------------
def csv_cell(value: Any) -> str | Number:
    """`value` as a CSV field: numbers as numbers, text with OWASP's quote when it begins like a formula."""
    if value is None:
        return ""
    if _is_number(value):
        return value
    text = str(value)
    return "'" + text if looks_like_formula(text) else text


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    """The CSV file (comma separated, CRLF, quoted as needed) of `rows`, every field through csv_cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return buffer.getvalue()


def header_row(sheet: Worksheet, values: Iterable[Any]) -> list[Cell]:
    """A table's header: its words in bold."""
    cells = append_row(sheet, values)
    for cell in cells:
        cell.font = Font(bold=True)
    return cells


def lay_out_for_print(sheet: Worksheet, widths: Sequence[float], *, header_at: int, freeze: str) -> None:
    """A long table as people print it: column widths, text wrapped at the top of its cell below the
    header, the header (row `header_at`) frozen on screen and repeated on every landscape page."""
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for line in sheet.iter_rows(min_row=header_at + 1):
        for each in line:
            each.alignment = Alignment(vertical="top", wrap_text=True)
    sheet.freeze_panes = freeze
    sheet.print_title_rows = f"{header_at}:{header_at}"
    sheet.page_setup.orientation = "landscape"
