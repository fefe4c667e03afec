"""People's text in spreadsheets and CSV files stays text (congress.records.cells; issue 18 point 5), and no
module writes spreadsheet cells or CSV rows around it."""

from __future__ import annotations

import ast
import csv
import io
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from congress.records.cells import append_row, csv_cell, csv_text

PAYLOADS = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "＝1+1", "＋1", "－1", "＠SUM(A1)",
            "\t=1+1", "\r=1+1"]
PACKAGE = Path(__file__).resolve().parents[2] / "congress"
# Modules that may use openpyxl or the csv module without congress.records.cells, and why.
NOT_EXPORTS = {
    "records/cells.py": "the helper itself",
    "domain/roster_files.py": "reads roster files (load_workbook, csv.reader); writes nothing",
    "rehearsal/roster.py": "writes a generated roster for the importer to read back, not a file for people",
}


def saved(book: Workbook) -> Workbook:
    buffer = io.BytesIO()
    book.save(buffer)
    return load_workbook(io.BytesIO(buffer.getvalue()), data_only=False)


def test_xlsx_text_is_a_string_cell_and_numbers_stay_numbers() -> None:
    book = Workbook()
    append_row(book.active, [*PAYLOADS, "plain", 12, 2.5, None, "a\x01b"])
    cells = list(saved(book).active[1])
    for cell, payload in zip(cells, PAYLOADS, strict=False):
        # (XML reads a carriage return back as a line feed)
        assert (cell.value, cell.data_type, cell.quotePrefix) == (payload.replace("\r", "\n"), "s", True)
    assert (cells[10].value, cells[10].data_type, cells[10].quotePrefix) == ("plain", "s", False)
    assert (cells[11].value, cells[11].data_type) == (12, "n")
    assert (cells[12].value, cells[12].data_type) == (2.5, "n")
    assert cells[13].value is None
    assert cells[14].value == "ab"  # a control character XML cannot hold is dropped, not a crash


def test_csv_prefixes_what_begins_like_a_formula_and_leaves_the_rest() -> None:
    for payload in [*PAYLOADS, "\x00=1+1"]:
        assert csv_cell(payload) == "'" + payload
    assert [csv_cell(v) for v in ("张三", "E001", "a=b", "", None, 3, -4, 1.5)] == ["张三", "E001", "a=b", "", "", 3,
                                                                                    -4, 1.5]
    text = csv_text([["名", "数"], ['=HYPERLINK("http://evil.example","x")', -4]])
    assert list(csv.reader(io.StringIO(text))) == [["名", "数"], ['\'=HYPERLINK("http://evil.example","x")', "-4"]]


# -- no writer around the helper --------------------------------------------------------------------
SHEET_SOURCES = {"active", "create_sheet", "worksheets", "get_sheet_by_name", "copy_worksheet"}


def _calls_attr(node: ast.AST, names: set[str]) -> bool:
    """Whether `node` reads one of `names` as an attribute (book.active, book.create_sheet(...), ...)."""
    return any(isinstance(n, ast.Attribute) and n.attr in names for n in ast.walk(node))


def cell_writes_around_the_helper(source: str, *, uses_openpyxl: bool = True) -> list[str]:
    """Where `source` writes spreadsheet cells or CSV rows itself: sheet.append(...), sheet.cell(r, c, v) or
    .cell(value=...), sheet["A1"] = ..., csv.writer / csv.DictWriter; and, in a module that uses openpyxl,
    cell.value = ... or cell.data_type = ...."""
    tree = ast.parse(source)
    sheets = {"sheet", "ws", "worksheet"}
    for node in ast.walk(tree):  # names bound to worksheets
        if isinstance(node, ast.Assign) and _calls_attr(node.value, SHEET_SOURCES):
            sheets |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    found = []
    for node in ast.walk(tree):
        where = f"line {getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver, attr = node.func.value, node.func.attr
            if isinstance(receiver, ast.Name) and receiver.id == "csv" and attr in ("writer", "DictWriter"):
                found.append(f"{where}: csv.{attr}")
            if attr == "append" and isinstance(receiver, ast.Name) and receiver.id in sheets:
                found.append(f"{where}: {receiver.id}.append")
            if attr == "cell" and (len(node.args) >= 3 or any(k.arg == "value" for k in node.keywords)):
                found.append(f"{where}: .cell(..., value)")
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if uses_openpyxl and isinstance(target, ast.Attribute) and target.attr in ("value", "data_type"):
                    found.append(f"{where}: .{target.attr} =")
                if (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name)
                        and target.value.id in sheets):
                    found.append(f"{where}: {target.value.id}[...] =")
    return found


def test_the_check_catches_each_way_around_the_helper() -> None:
    for source in ("sheet.append([title])", "book = Workbook()\nfront = book.active\nfront.append(['x'])",
                   "other = book.create_sheet('x')\nother['A1'] = name", "ws.cell(1, 2, name)",
                   "ws.cell(row=1, column=2, value=name)", "sheet['A1'].value = name", "cell.data_type = 'f'",
                   "w = csv.writer(buffer)", "w = csv.DictWriter(buffer, fields)"):
        assert cell_writes_around_the_helper(source), source
    assert cell_writes_around_the_helper("rows.append([name])\nsheet.cell(2, 1).font = bold\n"
                                         "append_row(sheet, [name])") == []


def test_every_spreadsheet_and_csv_writer_goes_through_the_helper() -> None:
    writers = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        source = path.read_text(encoding="utf-8")
        if name in NOT_EXPORTS:
            continue
        found = cell_writes_around_the_helper(source, uses_openpyxl="openpyxl" in source)
        assert found == [], f"{name} writes cells without congress.records.cells: {found}"
        if "openpyxl" in source or "import csv" in source:
            writers.add(name)
            assert "from congress.records.cells import" in source, f"{name} uses openpyxl or csv but not congress.records.cells"
    # the check still looks at the writers that exist (it would pass vacuously if they moved)
    assert {"records/exports.py", "records/opinions_export.py", "records/minutes.py"} <= writers, writers


@pytest.mark.parametrize("name", sorted(NOT_EXPORTS))
def test_the_exceptions_still_exist(name: str) -> None:
    assert (PACKAGE / name).exists()
