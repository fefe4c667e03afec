"""The roster file's limits (issue 18 point 8): an XLSX's zip is measured from its directory and its
sheets' rows and cells counted before openpyxl parses anything; CSV and XLSX rows are counted while
read. Each limit is refused as a whole with `too_large` and a message naming it (on 24ca28f a bomb
was parsed: minutes for empty rows, hundreds of MB for one huge cell).

The files are made here: a valid workbook from openpyxl whose sheet XML is then replaced."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable

import pytest
from openpyxl import Workbook

from congress.domain.errors import DomainError
from congress.domain.roster import parse_roster

# The limits as docs/api.md states them (congress.domain.roster holds them)
MAX_FILE_BYTES = 20 * 2**20
MAX_XLSX_MEMBERS = 500
MAX_ROWS = 20_000
MAX_ROWS_READ = 100_000
MAX_CELLS = 250_000
MAX_LINE_CHARS = 20_000

HEADER = ["工号", "姓名", "性别", "代表团(组)", "单位", "类别", "团(组)长", "代表类型"]
MAIN = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHEET_START = b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="%s" xmlns:x="%s"><sheetData>' % (MAIN, MAIN)
SHEET_END = b"</sheetData></worksheet>"


def delegate(i: int) -> list[str]:
    return [f"E{i:05d}", f"代表{i}", "男", "甲组", "一车间", "一线职工", "1" if i == 1 else "0", "正式代表"]


def xml_row(number: int, values: Iterable[str]) -> bytes:
    cells = b"".join(b'<c t="inlineStr"><is><t>%s</t></is></c>' % v.encode() for v in values)
    return b'<row r="%d">%s</row>' % (number, cells)


def workbook_with_sheet(chunks: Iterable[bytes], extra_members: int = 0) -> bytes:
    """A workbook openpyxl wrote, its first sheet's XML replaced by `chunks` (streamed into the zip)."""
    book = Workbook()
    book.active.append(HEADER)
    plain = io.BytesIO()
    book.save(plain)
    source = zipfile.ZipFile(io.BytesIO(plain.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                with target.open(info.filename, "w", force_zip64=True) as sheet:
                    for chunk in chunks:
                        sheet.write(chunk)
            else:
                target.writestr(info, source.read(info.filename))
        for n in range(extra_members):
            target.writestr(f"customXml/item{n}.xml", b"<x/>")
    return out.getvalue()


def sheet(rows: Iterable[bytes]) -> Iterable[bytes]:
    yield SHEET_START
    yield xml_row(1, HEADER)
    yield from rows
    yield SHEET_END


def refused(data: bytes, filename: str = "roster.xlsx") -> str:
    with pytest.raises(DomainError) as caught:
        parse_roster(data, filename, None)
    assert caught.value.code == "too_large"
    return caught.value.message


def zip_bomb(unpacked: int) -> bytes:
    """A valid XLSX whose sheet is `unpacked` bytes of empty rows: about 1 MB packed per 700 MB."""
    empty_rows = b"<row/>" * 100_000
    return workbook_with_sheet(sheet([xml_row(2, delegate(1)), *[empty_rows] * (unpacked // len(empty_rows))]))


def test_a_zip_bomb_is_refused_from_the_zip_directory() -> None:
    bomb = zip_bomb(400 * 2**20)
    assert len(bomb) < 2 * 2**20  # 400 MB of sheet in well under 2 MB
    message = refused(bomb)
    assert "50 MB" in message and "未导入任何数据" in message


def test_a_member_packed_over_100_to_1_is_refused() -> None:
    message = refused(zip_bomb(3 * 2**20))  # 3 MB: under the 50 MB limit, packed some 600:1
    assert "100:1" in message and "sheet1.xml" in message


def test_too_many_members_are_refused() -> None:
    rows = [xml_row(2, delegate(1))]
    assert parse_roster(workbook_with_sheet(sheet(rows), extra_members=10), "roster.xlsx", None).is_valid
    assert f"{MAX_XLSX_MEMBERS} 个" in refused(workbook_with_sheet(sheet(rows), extra_members=MAX_XLSX_MEMBERS))


def test_too_many_delegates_are_refused_in_xlsx_and_csv() -> None:
    # refused while reading, before any row is checked: one cell a row is enough to count
    rows = [xml_row(n, [f"E{n}"]) for n in range(2, MAX_ROWS + 3)]
    assert f"名册超过 {MAX_ROWS} 行" in refused(workbook_with_sheet(sheet(rows)))

    lines = [",".join(HEADER)] + [",".join(delegate(i)) for i in range(1, MAX_ROWS + 1)]
    assert len(parse_roster("\n".join(lines).encode(), "roster.csv", None).rows) == MAX_ROWS
    lines.append(",".join(delegate(MAX_ROWS + 1)))
    assert f"名册超过 {MAX_ROWS} 行" in refused("\n".join(lines).encode(), "roster.csv")


def test_empty_rows_count_towards_the_rows_read() -> None:
    empty = [b'<row r="%d" spans="1:8" s="1" customFormat="1"/>' % n for n in range(3, MAX_ROWS_READ + 3)]
    message = refused(workbook_with_sheet(sheet([xml_row(2, delegate(1)), *empty])))
    assert f"{MAX_ROWS_READ} 行（含空行）" in message
    # the same count in rows with a namespace prefix (openpyxl reads <x:row> as a row)
    prefixed = [b'<x:row r="%d"/>' % n for n in range(2, MAX_ROWS_READ + 2)]
    assert f"{MAX_ROWS_READ} 行" in refused(workbook_with_sheet(sheet(prefixed)))
    csv_text = ",".join(HEADER) + "\n" + ",".join(delegate(1)) + "\n" * (MAX_ROWS_READ + 1)
    assert f"{MAX_ROWS_READ} 行（含空行）" in refused(csv_text.encode(), "roster.csv")


def test_cells_are_counted_before_parsing_and_while_reading() -> None:
    wide = [xml_row(n, [str(n * 100 + k) for k in range(60)]) for n in range(2, MAX_CELLS // 60 + 3)]
    assert f"{MAX_CELLS} 个单元格" in refused(workbook_with_sheet(sheet(wide)))
    # one cell in the sheet's last column: openpyxl makes every such row 16,384 cells long
    far = [b'<row r="%d"><c r="XFD%d" t="inlineStr"><is><t>x</t></is></c></row>' % (n, n) for n in range(2, 40)]
    assert f"{MAX_CELLS} 个单元格" in refused(workbook_with_sheet(sheet(far)))
    commas = ",".join(HEADER) + "\n" + ("," * 999 + "\n") * (MAX_CELLS // 1000 + 1)
    assert f"{MAX_CELLS} 个单元格" in refused(commas.encode(), "roster.csv")


def test_a_csv_line_too_long_to_be_a_row_is_refused() -> None:
    text = ",".join(HEADER) + "\n" + "," * (MAX_LINE_CHARS + 1) + "\n"
    assert f"第 2 行超过 {MAX_LINE_CHARS} 个字符" in refused(text.encode(), "roster.csv")


def test_a_file_over_20_mb_is_refused_whatever_it_holds() -> None:
    assert "20 MB" in refused(b"x" * (MAX_FILE_BYTES + 1), "roster.csv")


def test_a_real_xlsx_roster_is_untouched_by_the_limits() -> None:
    book = Workbook()
    book.active.append(HEADER)
    for i in range(1, 301):
        book.active.append(delegate(i))
    data = io.BytesIO()
    book.save(data)
    assert len(parse_roster(data.getvalue(), "名册.xlsx", None).rows) == 300


def test_the_limits_are_the_documented_ones() -> None:
    from congress.domain import roster

    assert (roster.MAX_FILE_BYTES, roster.MAX_XLSX_MEMBERS, roster.MAX_XLSX_UNPACKED, roster.MAX_XLSX_RATIO,
            roster.MAX_ROWS, roster.MAX_ROWS_READ, roster.MAX_CELLS, roster.MAX_LINE_CHARS) == (
        MAX_FILE_BYTES, MAX_XLSX_MEMBERS, 50 * 2**20, 100, MAX_ROWS, MAX_ROWS_READ, MAX_CELLS, MAX_LINE_CHARS)
