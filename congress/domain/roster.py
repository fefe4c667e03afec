"""Reading and checking a delegate roster (代表名册) before it is imported.

Pure: bytes in, a :class:`RosterFile` out; nothing here touches the database. The whole file is
checked before anything is imported, and every problem is reported as a :class:`RowError` whose
row number is the one a spreadsheet user sees (the header is row 1) and whose column is the header
as written in the file, so the union staff can fix all of them in one pass.

Files are read by ``roster_files`` (CSV or XLSX, within the limits it names); headers may be English
(as in ``congress/data/roster.csv``) or Chinese; an e-mail column is optional (``roster_email``).
The statutory composition warnings are ``roster_composition``'s.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from congress.domain.errors import DomainError
from congress.domain.kinds import DELEGATE_TYPES, GENDERS, ROLES, VOTING_TYPE
from congress.domain.roster_composition import composition_warnings
from congress.domain.roster_email import FIELD as EMAIL
from congress.domain.roster_email import HEADERS as EMAIL_HEADERS
from congress.domain.roster_email import email_problem, normalise_email
from congress.domain.roster_files import (  # the limits are named here too (tests, docs/api.md)
    MAX_CELLS,
    MAX_FILE_BYTES,
    MAX_LINE_CHARS,
    MAX_ROWS,
    MAX_ROWS_READ,
    MAX_XLSX_MEMBERS,
    MAX_XLSX_RATIO,
    MAX_XLSX_UNPACKED,
    MB,
    Unreadable,
    is_blank,
    read_table,
    too_many_rows,
)

__all__ = ["FIELDS", "LABELS", "MAX_CELLS", "MAX_FILE_BYTES", "MAX_LINE_CHARS", "MAX_ROWS", "MAX_ROWS_READ",
           "MAX_XLSX_MEMBERS", "MAX_XLSX_RATIO", "MAX_XLSX_UNPACKED", "RosterDiff", "RosterFile", "RosterRow",
           "RosterUpdate", "RowError", "composition_warnings", "diff_roster", "parse_roster"]

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
MAX_TEXT = 64  # name, group and unit lengths
PROGRESS_EVERY = 500


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
    # Read-only (properties), so a frozen RosterRow and a Delegate row both fit.
    @property
    def name(self) -> str: ...
    @property
    def gender(self) -> str: ...
    @property
    def group(self) -> str: ...
    @property
    def unit(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def is_group_leader(self) -> bool: ...
    @property
    def delegate_type(self) -> str: ...
    @property
    def email(self) -> str | None: ...


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
        raise DomainError("too_large", f"名册文件超过 {MAX_FILE_BYTES // MB} MB 的上限，未导入任何数据",
                          params={"limit": f"{MAX_FILE_BYTES // MB} MB"})
    try:
        table, encoding = read_table(data, filename)
    except Unreadable as exc:
        return RosterFile([], [RowError(1, "", str(exc))], [], [], exc.encoding)
    return _check_table(table, encoding, known_groups, create_groups, progress)


# --------------------------------------------------------------------------- checking


def _header_key(cell: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", cell)).lower()


def _check_table(
    table: list[list[str]],
    encoding: str,
    known_groups: Collection[str] | None,
    create_groups: bool,
    progress: Callable[[int, int], None] | None,
) -> RosterFile:
    def fail(row: int, reason: str) -> RosterFile:
        return RosterFile([], [RowError(row, "", reason)], [], [], encoding)

    header_index = next((i for i, cells in enumerate(table) if not is_blank(cells)), None)
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
        raise too_many_rows()
    checker = _RowChecker(header, columns, known_groups, create_groups, pad_short_rows=encoding == "xlsx")
    total = len(records)
    for offset, cells in enumerate(records, start=1):
        if not is_blank(cells):
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
        if len(cells) < width or not is_blank(extra):
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
            fields: dict[str, Any] = {**value, "employee_id": employee_id, "is_group_leader": bool(is_leader)}
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
