"""Reading and checking a delegate roster (代表名册) before it is imported.

Pure: bytes in, a :class:`RosterFile` out; nothing here touches the database. The whole file is
checked before anything is imported, and every problem is reported as a :class:`RowError` whose
row number is the one a spreadsheet user sees (the header is row 1) and whose column is the header
as written in the file, so the union staff can fix all of them in one pass.

Accepted files: CSV in UTF-8 (with or without BOM) or GB18030 (what Chinese Excel saves), and XLSX
(first sheet). Headers may be English (as in ``congress/data/roster.csv``) or Chinese.

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
import unicodedata
import zipfile
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

from congress.domain.errors import DomainError
from congress.domain.kinds import DELEGATE_TYPES, GENDERS, ROLES, VOTING_TYPE
from congress.domain.roster_email import FIELD as EMAIL
from congress.domain.roster_email import HEADERS as EMAIL_HEADERS
from congress.domain.roster_email import email_problem, normalise_email

FIELDS = ("employee_id", "name", "gender", "group", "unit", "role", "is_group_leader", "delegate_type")
LABELS = {
    "employee_id": "工号",
    "name": "姓名",
    "gender": "性别",
    "group": "代表团(组)",
    "unit": "单位",
    "role": "类别",
    "is_group_leader": "团(组)长",
    "delegate_type": "代表类型",
}
# Header spellings, compared after NFKC (full-width parentheses become ASCII), lower-casing and
# removing spaces.
_HEADER_ALIASES = {
    "employee_id": ("employee_id", "工号"),
    "name": ("name", "姓名"),
    "gender": ("gender", "性别"),
    "group": ("group", "代表团(组)", "代表团", "代表组"),
    "unit": ("unit", "单位"),
    "role": ("role", "类别"),
    "is_group_leader": ("is_group_leader", "团(组)长", "是否团(组)长"),
    "delegate_type": ("delegate_type", "代表类型"),
    EMAIL: EMAIL_HEADERS,  # optional (roster_email.py)
}
_FIELD_BY_HEADER = {alias: key for key, aliases in _HEADER_ALIASES.items() for alias in aliases}
_LEADER_VALUES = {
    **dict.fromkeys(("1", "1.0", "是", "true", "yes"), True),
    **dict.fromkeys(("0", "0.0", "否", "false", "no", ""), False),
}

EMPLOYEE_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")
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
MAX_TEXT = 64  # name, group and unit lengths
PROGRESS_EVERY = 500

# Unicode's Cc (control characters) but tab, CR and LF: binary content. A regex, not a loop over
# the characters in Python (4 s for a 20 MB file).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
MAX_LINE_CHARS = 20_000  # one line of a CSV; a row of 8 columns is a few hundred

_ENCODING_HINT = "请另存为 CSV（UTF-8 或 GB18030 编码）或 .xlsx 文件"
_BAD_XLSX = "无法读取 XLSX 文件（文件已损坏或不是 Excel 文件），" + _ENCODING_HINT


@dataclass(frozen=True, slots=True)
class RosterRow:
    employee_id: str
    name: str
    gender: str
    group: str
    unit: str
    role: str
    is_group_leader: bool
    delegate_type: str
    email: str | None = None  # None: the file has no e-mail column; "": its cell is empty

    @property
    def is_voting(self) -> bool:
        """Only 正式代表 vote, propose, co-sign and count for quorum."""
        return self.delegate_type == VOTING_TYPE


@dataclass(frozen=True, slots=True)
class RowError:
    row: int  # as a spreadsheet shows it: header is row 1, first data row is row 2
    column: str  # the header as written in the file ("" when the whole row or file is concerned)
    reason: str  # Chinese, for the union staff

    def __str__(self) -> str:
        where = f"第 {self.row} 行" + (f"「{self.column}」" if self.column else "")
        return f"{where}：{self.reason}"


@dataclass(frozen=True)
class RosterFile:
    rows: list[RosterRow]  # data rows without errors of their own, in file order
    errors: list[RowError]
    warnings: list[str]
    new_groups: list[str]  # groups not in known_groups, first-seen order
    encoding: str  # "utf-8", "utf-8-sig", "gb18030", "xlsx", or "unknown" when unreadable

    @property
    def is_valid(self) -> bool:
        return not self.errors


class RosterRowLike(Protocol):
    name: str
    gender: str
    group: str
    unit: str
    role: str
    is_group_leader: bool
    delegate_type: str
    email: str | None


@dataclass(frozen=True, slots=True)
class RosterUpdate:
    employee_id: str
    before: RosterRowLike
    after: RosterRow
    changed: tuple[str, ...]  # field names, in FIELDS order, then "email"


@dataclass(frozen=True)
class RosterDiff:
    added: list[RosterRow]
    updated: list[RosterUpdate]
    unchanged: list[RosterRow]
    removed: list[str]  # employee ids present before but not in the file


# --------------------------------------------------------------------------- reading


def parse_roster(
    data: bytes,
    filename: str,
    known_groups: Collection[str] | None,
    create_groups: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> RosterFile:
    """Read and check a whole roster file.

    ``known_groups=None`` accepts any group and lists every group of the file in ``new_groups``;
    otherwise a group outside ``known_groups`` is an error, or a new group when ``create_groups``.
    ``progress(done, total)`` is called every 500 data rows and once at the end.
    Raises DomainError ``too_large`` when the file is beyond one of the limits above.
    """
    if len(data) > MAX_FILE_BYTES:
        raise DomainError("too_large", f"名册文件超过 {MAX_FILE_BYTES // MB} MB 的上限，未导入任何数据")
    try:
        table, encoding = _read_table(data, filename)
    except _Unreadable as exc:
        return RosterFile([], [RowError(1, "", str(exc))], [], [], exc.encoding)
    return _check_table(table, encoding, known_groups, create_groups, progress)


class _Unreadable(Exception):
    def __init__(self, reason: str, encoding: str = "unknown") -> None:
        super().__init__(reason)
        self.encoding = encoding


def _read_table(data: bytes, filename: str) -> tuple[list[list[str]], str]:
    if not data.strip():
        raise _Unreadable("文件为空")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _Unreadable("不支持旧版 Excel（.xls）文件，" + _ENCODING_HINT)
    if filename.lower().endswith(".xlsx") or data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data), "xlsx"
    text, encoding = _decode(data)
    try:
        table = _collect(csv.reader(_lines(text)))
    except csv.Error as exc:
        raise _Unreadable(f"无法按 CSV 读取：{exc}", encoding) from exc
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
        if _is_blank(cells):
            pending_blank += 1
            continue
        table.extend([blank] * pending_blank)
        pending_blank = 0
        first = len(table) if first is None else first
        table.append(cells)
        if len(table) - first - 1 > MAX_ROWS:
            raise _too_many_rows()
    return table


def _too_many_rows() -> DomainError:
    return DomainError("too_large", f"名册超过 {MAX_ROWS} 行的上限，未导入任何数据；请拆分后导入")


def check_xlsx_container(data: bytes) -> None:
    """The zip-bomb limits, from the zip's directory before any member is unpacked.

    The declared sizes are enough: Python's zipfile (which openpyxl reads through) never inflates a
    member beyond the size its directory entry declares — one that holds more fails its CRC.
    """
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 0xFFFF))  # end of central directory
    if end < 0 or len(data) < end + 22:
        raise _Unreadable(_BAD_XLSX, "xlsx")
    entries = int.from_bytes(data[end + 10:end + 12], "little")
    directory_bytes = int.from_bytes(data[end + 12:end + 16], "little")
    # Read before zipfile builds an object per entry (a 20 MB directory holds 400,000 of them)
    if entries > MAX_XLSX_MEMBERS:
        raise _too_many_members(entries)
    if directory_bytes > MAX_XLSX_MEMBERS * 1024:  # more than the count says: made to mislead
        raise _Unreadable(_BAD_XLSX, "xlsx")
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise _Unreadable(_BAD_XLSX, "xlsx") from exc
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
        raise _Unreadable(_BAD_XLSX, "xlsx") from exc


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
            raise _Unreadable("无法识别文件编码，" + _ENCODING_HINT) from None
    if _CONTROL.search(text):
        raise _Unreadable("这不是文本格式的代表名册（含有二进制内容），" + _ENCODING_HINT)
    return text, encoding


def _read_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook  # a heavy import, only needed for XLSX files

    check_xlsx_container(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # untrusted bytes: openpyxl, zipfile and XML parsers raise many types
        raise _Unreadable(_BAD_XLSX, "xlsx") from exc
    try:
        if not workbook.worksheets:
            raise _Unreadable("XLSX 文件中没有工作表", "xlsx")
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some writers store wrong dimensions; read every row
        return _collect([_cell_text(value) for value in values] for values in sheet.iter_rows(values_only=True))
    except (_Unreadable, DomainError):
        raise
    except Exception as exc:
        raise _Unreadable(_BAD_XLSX, "xlsx") from exc
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


# --------------------------------------------------------------------------- checking


def _header_key(cell: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", cell)).lower()


def _is_blank(cells: list[str]) -> bool:
    return all(not cell.strip() for cell in cells)


def _check_table(
    table: list[list[str]],
    encoding: str,
    known_groups: Collection[str] | None,
    create_groups: bool,
    progress: Callable[[int, int], None] | None,
) -> RosterFile:
    def fail(row: int, reason: str) -> RosterFile:
        return RosterFile([], [RowError(row, "", reason)], [], [], encoding)

    header_index = next((i for i, cells in enumerate(table) if not _is_blank(cells)), None)
    if header_index is None:
        return fail(1, "文件为空")
    header_row = header_index + 1
    header = [cell.strip().lstrip("\ufeff").strip() for cell in table[header_index]]
    while header and not header[-1]:
        header.pop()

    columns: dict[str, int] = {}  # field -> position
    errors: list[RowError] = []
    warnings: list[str] = []
    for position, cell in enumerate(header):
        key = _FIELD_BY_HEADER.get(_header_key(cell))
        if key is None:
            warnings.append(f"忽略未知的列“{cell}”" if cell else f"忽略第 {position + 1} 列（没有表头）")
        elif key in columns:
            errors.append(RowError(header_row, cell, f"列“{cell}”与“{header[columns[key]]}”重复"))
        else:
            columns[key] = position
    if not columns:
        expected = "、".join(LABELS.values())
        return fail(header_row, f"第一行不是代表名册的表头：应包含 {expected}（或 {','.join(FIELDS)}）")
    chinese = sum(not cell.isascii() for cell in header) * 2 > len(header)
    for key in FIELDS:
        if key not in columns:
            label = LABELS[key] if chinese else key
            errors.append(RowError(header_row, label, f"缺少“{LABELS[key]}”列"))
    if errors:
        return RosterFile([], errors, warnings, [], encoding)

    records = table[header_index + 1 :]
    if len(records) > MAX_ROWS:
        raise _too_many_rows()
    checker = _RowChecker(header, columns, known_groups, create_groups, pad_short_rows=encoding == "xlsx")
    total = len(records)
    for offset, cells in enumerate(records, start=1):
        if not _is_blank(cells):
            checker.check(header_row + offset, cells)
        if progress is not None and (offset % PROGRESS_EVERY == 0 or offset == total):
            progress(offset, total)
    if not checker.rows and not checker.errors:
        return fail(header_row, "名册只有表头，没有代表")
    checker.check_leaders()
    errors = sorted(checker.errors, key=lambda e: (e.row, _column_order(header, e.column)))
    warnings += checker.warnings
    bad_rows = {error.row for error in errors}
    rows = [row for number, row in checker.rows if number not in bad_rows]
    warnings += composition_warnings(rows)
    return RosterFile(rows, errors, warnings, checker.new_groups, encoding)


def _column_order(header: list[str], column: str) -> int:
    return header.index(column) if column in header else -1


class _RowChecker:
    """Checks data rows one by one, remembering what cross-row checks need."""

    def __init__(
        self,
        header: list[str],
        columns: dict[str, int],
        known_groups: Collection[str] | None,
        create_groups: bool,
        pad_short_rows: bool,
    ) -> None:
        self.header = header
        self.pad_short_rows = pad_short_rows  # XLSX rows end at their last non-empty cell
        self.columns = columns
        self.known_groups = None if known_groups is None else set(known_groups)
        self.create_groups = create_groups
        self.rows: list[tuple[int, RosterRow]] = []
        self.errors: list[RowError] = []
        self.warnings: list[str] = []
        self.new_groups: list[str] = []
        self.id_rows: dict[str, int] = {}
        self.name_rows: dict[str, int] = {}
        self.leader_rows: dict[str, list[int]] = {}  # group -> rows of its 正式代表 leaders
        self.flagged_groups: set[str] = set()  # groups with any row marked as leader
        self.groups: dict[str, None] = {}  # accepted groups, first-seen order

    def _error(self, row: int, key: str, reason: str) -> None:
        self.errors.append(RowError(row, self.header[self.columns[key]], reason))

    def check(self, row: int, cells: list[str]) -> None:
        width = len(self.header)
        if self.pad_short_rows and len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        extra = cells[width:]
        if len(cells) < width or not _is_blank(extra):
            actual = len(cells) if len(cells) < width else width + len(extra)
            self.errors.append(RowError(row, "", f"列数不对：应为 {width} 列，实为 {actual} 列"))
            return
        value = {key: cells[pos].strip() for key, pos in self.columns.items()}
        errors_before = len(self.errors)

        employee_id = unicodedata.normalize("NFKC", value["employee_id"])
        if not employee_id:
            self._error(row, "employee_id", "工号为空")
        elif not EMPLOYEE_ID_RE.fullmatch(employee_id):
            self._error(row, "employee_id", f"工号“{employee_id}”只能由字母、数字、_ 和 - 组成，最长 32 位")
        elif employee_id in self.id_rows:
            self._error(row, "employee_id", f"工号 {employee_id} 与第 {self.id_rows[employee_id]} 行重复")
        else:
            self.id_rows[employee_id] = row

        name = value["name"]
        if not name:
            self._error(row, "name", "姓名为空")
        elif len(name) > MAX_TEXT:
            self._error(row, "name", f"姓名过长（最多 {MAX_TEXT} 字）")
        elif name in self.name_rows:
            self._error(
                row,
                "name",
                f"姓名“{name}”与第 {self.name_rows[name]} 行重复（同名代表请在姓名后注明单位以示区分）",
            )
        else:
            self.name_rows[name] = row

        if value["gender"] not in GENDERS:
            self._error(row, "gender", "性别应为“男”或“女”")

        group = value["group"]
        group_ok = self._check_group(row, group)

        if len(value["unit"]) > MAX_TEXT:
            self._error(row, "unit", f"单位名称过长（最多 {MAX_TEXT} 字）")
        if value["role"] not in ROLES:
            self._error(row, "role", "类别应为 " + "/".join(ROLES))
        delegate_type = value["delegate_type"]
        if delegate_type not in DELEGATE_TYPES:
            self._error(row, "delegate_type", "代表类型应为 " + "/".join(DELEGATE_TYPES))

        is_leader = _LEADER_VALUES.get(unicodedata.normalize("NFKC", value["is_group_leader"]).lower())
        if is_leader is None:
            self._error(row, "is_group_leader", "团(组)长应为 1 或 0（也可填 是/否）")
        elif is_leader and group_ok:
            self.flagged_groups.add(group)
            if delegate_type == VOTING_TYPE:
                self.leader_rows.setdefault(group, []).append(row)
            elif delegate_type in DELEGATE_TYPES:
                self._error(row, "is_group_leader", "团(组)长必须是正式代表")

        if EMAIL in value:
            value[EMAIL] = normalise_email(value[EMAIL])
            problem = email_problem(value[EMAIL]) if value[EMAIL] else None
            if problem:
                self._error(row, EMAIL, problem)

        if len(self.errors) == errors_before:
            fields = {**value, "employee_id": employee_id, "is_group_leader": bool(is_leader)}
            self.rows.append((row, RosterRow(**fields)))

    def _check_group(self, row: int, group: str) -> bool:
        if not group:
            self._error(row, "group", "代表团(组)为空")
            return False
        if len(group) > MAX_TEXT:
            self._error(row, "group", f"代表团(组)名称过长（最多 {MAX_TEXT} 字）")
            return False
        is_known = self.known_groups is not None and group in self.known_groups
        if not is_known and self.known_groups is not None and not self.create_groups:
            self._error(row, "group", f"未知的代表团(组)“{group}”")
            return False
        if group not in self.groups:
            self.groups[group] = None
            if not is_known:
                self.new_groups.append(group)
        return True

    def check_leaders(self) -> None:
        for group in self.groups:
            rows = self.leader_rows.get(group, [])
            if len(rows) > 1:
                listed = "、".join(str(r) for r in rows)
                count = "两" if len(rows) == 2 else str(len(rows))
                self._error(
                    rows[1], "is_group_leader", f"代表团(组)“{group}”有{count}位团(组)长（第 {listed} 行）"
                )
            elif not rows and group not in self.flagged_groups:
                self.warnings.append(f"代表团(组)“{group}”没有团(组)长")


# --------------------------------------------------------------------------- composition


class _HasRoleAndType(Protocol):
    role: str
    delegate_type: str


def composition_warnings(
    rows: Iterable[_HasRoleAndType],
    *,
    max_managers: Fraction = Fraction(1, 5),
    min_front_line: Fraction = Fraction(1, 2),
    max_non_voting: Fraction = Fraction(1, 5),
) -> list[str]:
    """Statutory composition of the delegates, as warnings with the actual figures.

    管理人员 + 领导人员 at most ``max_managers`` of the 正式代表; 一线职工 at least
    ``min_front_line`` of them; 列席 + 特邀 at most ``max_non_voting`` of the number of 正式代表.
    """
    voting = non_voting = managers = front_line = 0
    for row in rows:
        if row.delegate_type != VOTING_TYPE:
            non_voting += 1
            continue
        voting += 1
        managers += row.role in ("管理人员", "领导人员")
        front_line += row.role == "一线职工"
    if voting == 0:
        return ["名册中没有正式代表"] if non_voting else []
    warnings = []
    share = Fraction(managers, voting)
    if share > max_managers:
        warnings.append(
            f"管理人员和领导人员共 {managers} 人，占正式代表 {voting} 人的 {_percent(share, max_managers)}，"
            f"超过 {_percent(max_managers)}"
        )
    share = Fraction(front_line, voting)
    if share < min_front_line:
        warnings.append(
            f"一线职工 {front_line} 人，占正式代表 {voting} 人的 {_percent(share, min_front_line)}，"
            f"低于 {_percent(min_front_line)}"
        )
    share = Fraction(non_voting, voting)
    if share > max_non_voting:
        warnings.append(
            f"列席代表和特邀代表共 {non_voting} 人，为正式代表 {voting} 人的 {_percent(share, max_non_voting)}，"
            f"超过 {_percent(max_non_voting)}"
        )
    return warnings


def _percent(value: Fraction, avoid: Fraction | None = None) -> str:
    """``value`` as a percentage: "20%" when whole, else one decimal, more when one decimal would
    show exactly ``avoid`` (20.01% must not read as "20.0%, above 20%")."""
    percent = value * 100
    if percent.denominator == 1:
        return f"{percent}%"
    for digits in range(1, 6):
        shown = Fraction(round(percent * 10**digits), 10**digits)
        if avoid is None or shown != avoid * 100:
            break
    return f"{float(shown):.{digits}f}%"


# --------------------------------------------------------------------------- re-import


def diff_roster(existing: Mapping[str, RosterRowLike], incoming: Iterable[RosterRow]) -> RosterDiff:
    """What re-importing ``incoming`` does to the delegates in ``existing`` (keyed by employee id).

    ``incoming`` must come from a valid :class:`RosterFile` (unique employee ids).
    """
    added: list[RosterRow] = []
    updated: list[RosterUpdate] = []
    unchanged: list[RosterRow] = []
    seen: set[str] = set()
    for row in incoming:
        if row.employee_id in seen:
            raise ValueError(f"duplicate employee_id {row.employee_id!r} in incoming roster")
        seen.add(row.employee_id)
        before = existing.get(row.employee_id)
        if before is None:
            added.append(row)
            continue
        changed = tuple(key for key in FIELDS[1:] if getattr(before, key) != getattr(row, key))
        if row.email is not None and (before.email or "") != row.email:  # no column: addresses kept
            changed += (EMAIL,)
        if changed:
            updated.append(RosterUpdate(row.employee_id, before, row, changed))
        else:
            unchanged.append(row)
    removed = [employee_id for employee_id in existing if employee_id not in seen]
    return RosterDiff(added, updated, unchanged, removed)
