"""Reading a roster file (代表名册) into rows of text, within limits: the file formats and the limits
of congress.domain.roster, which checks what is read.

Accepted files: CSV in UTF-8 (with or without BOM) or GB18030 (what Chinese Excel saves), and XLSX
(first sheet).

Limits (docs/api.md), each refused as a whole with ``too_large`` and a message naming it: the file
(20 MB); an XLSX's zip, from its directory before anything is unpacked — 500 members, 50 MB unpacked,
100:1 per member over 1 MB (a zip bomb of 1.5 MB unpacks to 400 MB); an XLSX's sheets, counted in
the unpacked XML before openpyxl parses it — 100,000 rows, 250,000 cells; rows while reading, so a
huge table is never held — 20,000 delegates, 100,000 rows read counting empty ones, 250,000 cells
(CSV too; openpyxl pads a row to its last cell, so one cell in column XFD is 16,384 cells).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator

from congress.domain.errors import DomainError

MB = 1024 * 1024
MAX_FILE_BYTES = 20 * MB  # as uploaded (the HTTP API refuses more before reading it); the CLI too
MAX_ROWS = 20_000  # rows after the header up to the last one with content: far above any congress
MAX_ROWS_READ = 100_000  # all rows, empty ones too (a sheet of formatted empty rows is read row by row)
MAX_XLSX_MEMBERS = 500  # files inside the zip; Excel and WPS write about a dozen
MAX_XLSX_UNPACKED = 50 * MB  # all members together; a 20,000-row sheet is about 10 MB
MAX_XLSX_RATIO = 100  # unpacked : packed, for each member over RATIO_FROM; sheets pack about 10-20:1
RATIO_FROM = 1 * MB  # smaller members cannot hurt, whatever their ratio
# Parsing costs openpyxl 20-40 µs a cell, twice for a sheet without <dimension>: cells are the time
MAX_CELLS = 250_000  # 20,000 delegates in 12 columns: in an XLSX's sheets, and in the rows read
# A row or cell start tag, with or without a namespace prefix (<x:row ...> is a row to openpyxl too)
_ROW_OR_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,40}:)?(row|c)[\s/>]")

# Unicode's Cc (control characters) but tab, CR and LF: binary content. A regex, not a loop over
# the characters in Python (4 s for a 20 MB file).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
MAX_LINE_CHARS = 20_000  # one line of a CSV; a row of 8 columns is a few hundred

_ENCODING_HINT = "请另存为 CSV（UTF-8 或 GB18030 编码）或 .xlsx 文件"
_BAD_XLSX = "无法读取 XLSX 文件（文件已损坏或不是 Excel 文件），" + _ENCODING_HINT


def is_blank(cells: list[str]) -> bool:
    return all(not cell.strip() for cell in cells)


class Unreadable(Exception):
    def __init__(self, reason: str, encoding: str = "unknown") -> None:
        super().__init__(reason)
        self.encoding = encoding


def read_table(data: bytes, filename: str) -> tuple[list[list[str]], str]:
    if not data.strip():
        raise Unreadable("文件为空")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise Unreadable("不支持旧版 Excel（.xls）文件，" + _ENCODING_HINT)
    if filename.lower().endswith(".xlsx") or data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data), "xlsx"
    text, encoding = _decode(data)
    try:
        table = _collect(csv.reader(_lines(text)))
    except csv.Error as exc:
        raise Unreadable(f"无法按 CSV 读取：{exc}", encoding) from exc
    return table, encoding


def _lines(text: str) -> Iterator[str]:
    """The CSV's lines, refusing a line so long that the reader would build a huge row from it."""
    for number, line in enumerate(io.StringIO(text, newline=""), start=1):
        if len(line) > MAX_LINE_CHARS:
            raise DomainError("too_large", f"第 {number} 行超过 {MAX_LINE_CHARS} 个字符的上限，未导入任何数据；"
                                           "这不像代表名册，请检查文件")
        yield line


def _collect(rows: Iterable[list[str]]) -> list[list[str]]:
    """The rows of a file as the checks read them, within the row limits: empty rows between rows with
    content are kept (for row numbers), empty rows at the end are dropped. Stops reading at a limit."""
    table: list[list[str]] = []
    blank: list[str] = []
    pending_blank = 0  # empty rows not yet followed by one with content
    first = None  # index in `table` of the first row with content (the header)
    cells_read = 0
    for read, cells in enumerate(rows, start=1):
        cells_read += len(cells)
        if read > MAX_ROWS_READ:
            raise DomainError("too_large", f"表格超过 {MAX_ROWS_READ} 行（含空行）的上限，未导入任何数据；"
                                           "请删除多余的空行后重新保存")
        if cells_read > MAX_CELLS:
            raise DomainError("too_large", f"表格超过 {MAX_CELLS} 个单元格（含空单元格）的上限，未导入任何数据；"
                                           "请删除多余的列后重新保存")
        if is_blank(cells):
            pending_blank += 1
            continue
        table.extend([blank] * pending_blank)
        pending_blank = 0
        first = len(table) if first is None else first
        table.append(cells)
        if len(table) - first - 1 > MAX_ROWS:
            raise too_many_rows()
    return table


def too_many_rows() -> DomainError:
    return DomainError("too_large", f"名册超过 {MAX_ROWS} 行的上限，未导入任何数据；请拆分后导入")


def check_xlsx_container(data: bytes) -> None:
    """The zip-bomb limits, from the zip's directory before any member is unpacked.

    The declared sizes are enough: Python's zipfile (which openpyxl reads through) never inflates a
    member beyond the size its directory entry declares — one that holds more fails its CRC.
    """
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 0xFFFF))  # end of central directory
    if end < 0 or len(data) < end + 22:
        raise Unreadable(_BAD_XLSX, "xlsx")
    entries = int.from_bytes(data[end + 10:end + 12], "little")
    directory_bytes = int.from_bytes(data[end + 12:end + 16], "little")
    # Read before zipfile builds an object per entry (a 20 MB directory holds 400,000 of them)
    if entries > MAX_XLSX_MEMBERS:
        raise _too_many_members(entries)
    if directory_bytes > MAX_XLSX_MEMBERS * 1024:  # more than the count says: made to mislead
        raise Unreadable(_BAD_XLSX, "xlsx")
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise Unreadable(_BAD_XLSX, "xlsx") from exc
    if len(members) > MAX_XLSX_MEMBERS:
        raise _too_many_members(len(members))
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_XLSX_UNPACKED:
        raise DomainError("too_large", f"XLSX 文件解压后共 {unpacked / MB:.0f} MB，超过 {MAX_XLSX_UNPACKED // MB} MB "
                                       "的上限，未导入任何数据；请只保留名册一张工作表，或另存为 CSV")
    for member in members:
        if member.file_size > RATIO_FROM and member.file_size > MAX_XLSX_RATIO * max(member.compress_size, 1):
            ratio = member.file_size // max(member.compress_size, 1)
            raise DomainError("too_large", f"XLSX 文件中的 {member.filename[:80]} 压缩比为 {ratio}:1，超过 "
                                           f"{MAX_XLSX_RATIO}:1 的上限（像是“压缩炸弹”），未导入任何数据")
    _count_rows_and_cells(data, members)


def _count_rows_and_cells(data: bytes, members: list[zipfile.ZipInfo]) -> None:
    """Row and cell tags in every member (a sheet may live under any name), unpacked a megabyte at a
    time within the limits above; stops at the first limit passed."""
    rows = cells = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in members:
                if member.is_dir():
                    continue
                with archive.open(member) as stream:
                    tail = b""
                    while True:
                        chunk = stream.read(MB)
                        buffer = tail + chunk
                        # a tag cut by the chunk's end is counted with the next chunk
                        keep_from = len(buffer) - 64 if chunk else len(buffer)
                        for match in _ROW_OR_CELL.finditer(buffer):
                            if match.start() >= keep_from:
                                break
                            if match.group(1) == b"row":
                                rows += 1
                            else:
                                cells += 1
                        if rows > MAX_ROWS_READ:
                            raise DomainError("too_large", f"XLSX 文件的工作表超过 {MAX_ROWS_READ} 行（含空行）的上限，"
                                                           "未导入任何数据；请删除多余的行或工作表后重新保存")
                        if cells > MAX_CELLS:
                            raise DomainError("too_large", f"XLSX 文件的工作表超过 {MAX_CELLS} 个单元格的上限，"
                                                           "未导入任何数据；请删除多余的列、行或工作表后重新保存")
                        if not chunk:
                            break
                        tail = buffer[keep_from:]
    except DomainError:
        raise
    except Exception as exc:  # untrusted bytes: zipfile and zlib raise many types
        raise Unreadable(_BAD_XLSX, "xlsx") from exc


def _too_many_members(count: int) -> DomainError:
    return DomainError("too_large", f"XLSX 文件内含 {count} 个部件，超过 {MAX_XLSX_MEMBERS} 个的上限，未导入任何数据；"
                                    "请用 Excel 或 WPS 另存为新的 .xlsx 或 CSV")


def _decode(data: bytes) -> tuple[str, str]:
    try:
        text = data.decode("utf-8-sig")
        encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError:
        try:
            text, encoding = data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            raise Unreadable("无法识别文件编码，" + _ENCODING_HINT) from None
    if _CONTROL.search(text):
        raise Unreadable("这不是文本格式的代表名册（含有二进制内容），" + _ENCODING_HINT)
    return text, encoding


def _read_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook  # a heavy import, only needed for XLSX files

    check_xlsx_container(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # untrusted bytes: openpyxl, zipfile and XML parsers raise many types
        raise Unreadable(_BAD_XLSX, "xlsx") from exc
    try:
        if not workbook.worksheets:
            raise Unreadable("XLSX 文件中没有工作表", "xlsx")
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some writers store wrong dimensions; read every row
        return _collect([_cell_text(value) for value in values] for values in sheet.iter_rows(values_only=True))
    except (Unreadable, DomainError):
        raise
    except Exception as exc:
        raise Unreadable(_BAD_XLSX, "xlsx") from exc
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
