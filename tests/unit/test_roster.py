"""Roster import: reading every accepted file format, checking the whole file, composition, re-import."""

from __future__ import annotations

import csv
import io
from collections import Counter
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

import congress
from congress.domain.roster import (
    FIELDS,
    RosterRow,
    RowError,
    composition_warnings,
    diff_roster,
    parse_roster,
)

ROSTER_PATH = Path(congress.__file__).parent / "data" / "roster.csv"
STORY_GROUPS = ("主会场", "长沙", "岳阳", "怀化", "益阳", "永州", "宁波")
CHINESE_HEADER = ["工号", "姓名", "性别", "代表团（组）", "单位", "类别", "团（组）长", "代表类型"]


@pytest.fixture(scope="module")
def story_bytes() -> bytes:
    return ROSTER_PATH.read_bytes()


@pytest.fixture(scope="module")
def story_table(story_bytes: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(story_bytes.decode("utf-8"))))


@pytest.fixture(scope="module")
def story(story_bytes: bytes):
    return parse_roster(story_bytes, "roster.csv", known_groups=STORY_GROUPS)


def to_csv(table: list[list[str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(table)
    return out.getvalue().encode(encoding)


def to_xlsx(table: list[list[object]], path: Path) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in table:
        sheet.append(row)
    workbook.save(path)
    return path.read_bytes()


def row(eid: str, name: str, group: str = "长沙", *, leader: str = "0", kind: str = "正式代表",
        role: str = "一线职工", gender: str = "男", unit: str = "造纸车间") -> list[str]:  # fmt: skip
    return [eid, name, gender, group, unit, role, leader, kind]


def small_table() -> list[list[str]]:
    """A valid roster: two groups, one leader each."""
    return [
        list(FIELDS),
        row("E00001", "甲一", "长沙", leader="1"),
        row("E00002", "甲二", "长沙"),
        row("E00003", "甲三", "长沙", role="专业技术人员"),
        row("E00004", "乙一", "岳阳", leader="1", gender="女"),
        row("E00005", "乙二", "岳阳"),
        row("E00006", "乙三", "岳阳"),
    ]


def parse(table: list[list[str]], known_groups=("长沙", "岳阳"), **kwargs):
    return parse_roster(to_csv(table), "roster.csv", known_groups, **kwargs)


# --------------------------------------------------------------------------- the story roster


def test_story_roster_parses_without_errors_or_warnings(story):
    assert story.is_valid, story.errors
    assert story.encoding == "utf-8"
    assert story.warnings == []
    assert story.new_groups == []
    assert len(story.rows) == 305
    assert sum(r.is_voting for r in story.rows) == 295
    assert Counter(r.delegate_type for r in story.rows) == {"正式代表": 295, "列席代表": 6, "特邀代表": 4}
    voting_per_group = Counter(r.group for r in story.rows if r.is_voting)
    assert voting_per_group == {
        "主会场": 60,
        "岳阳": 85,
        "怀化": 45,
        "永州": 35,
        "益阳": 30,
        "长沙": 25,
        "宁波": 15,
    }
    leaders = Counter(r.group for r in story.rows if r.is_group_leader)
    assert leaders == dict.fromkeys(STORY_GROUPS, 1)


def test_story_roster_without_known_groups_lists_every_group_as_new(story_bytes):
    result = parse_roster(story_bytes, "roster.csv", known_groups=None)
    assert result.is_valid
    assert result.new_groups == ["主会场", "岳阳", "怀化", "益阳", "永州", "长沙", "宁波"]


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("gb18030", "gb18030"), ("utf-8-sig", "utf-8-sig"), ("utf-8", "utf-8")],
)
def test_story_roster_in_every_csv_encoding_gives_identical_rows(story, story_table, encoding, expected):
    result = parse_roster(to_csv(story_table, encoding), "名册.csv", STORY_GROUPS)
    assert result.encoding == expected
    assert result.errors == []
    assert result.rows == story.rows


def test_story_roster_as_xlsx_gives_identical_rows(story, story_table, tmp_path):
    result = parse_roster(to_xlsx(story_table, tmp_path / "roster.xlsx"), "名册.xlsx", STORY_GROUPS)
    assert (result.encoding, result.errors) == ("xlsx", [])
    assert result.rows == story.rows


def test_xlsx_is_recognised_by_content_whatever_its_name(story, story_table, tmp_path):
    data = to_xlsx(story_table, tmp_path / "roster.xlsx")
    assert parse_roster(data, "upload", STORY_GROUPS).rows == story.rows


def test_xlsx_with_numbers_blank_rows_and_empty_trailing_cells(tmp_path):
    table: list[list[object]] = [
        list(FIELDS),
        ["E00001", "甲一", "男", "长沙", "造纸车间", "一线职工", 1, "正式代表"],
        [],
        [12345, "甲二", "女", "长沙", "造纸车间", "一线职工", 0.0, "正式代表"],
        ["E00003", "甲三", "男", "长沙", None, "一线职工", None, "正式代表"],
        ["E00004", "甲四", "男", "长沙", "造纸车间", "一线职工", 1.0, "正式代表"],
    ]
    result = parse_roster(to_xlsx(table, tmp_path / "r.xlsx"), "r.xlsx", ["长沙"])
    assert [r.employee_id for r in result.rows] == ["E00001", "12345", "E00003"]
    assert [r.is_group_leader for r in result.rows] == [True, False, False]
    assert result.rows[2].unit == ""
    # the blank sheet row 3 still counts, so the second leader is on row 6
    assert result.errors == [RowError(6, "is_group_leader", "代表团(组)“长沙”有两位团(组)长（第 2、6 行）")]


def test_chinese_headers_in_another_order_give_identical_rows(story, story_table):
    order = [3, 1, 0, 7, 2, 6, 5, 4]
    header = ["  " + CHINESE_HEADER[i] + " " for i in order]
    table = [header] + [[cells[i] for i in order] for cells in story_table[1:]]
    result = parse_roster(to_csv(table, "gb18030"), "名册.csv", STORY_GROUPS)
    assert result.errors == []
    assert result.rows == story.rows


@pytest.mark.parametrize("group_header", ["代表团(组)", "代表团（组）", "代表团", "代表组", "group"])
@pytest.mark.parametrize("leader_header", ["团(组)长", "团（组）长", "is_group_leader"])
def test_header_spellings_are_accepted(group_header, leader_header):
    table = small_table()
    table[0] = [*CHINESE_HEADER]
    table[0][3], table[0][6] = group_header, leader_header
    assert parse(table).is_valid


# --------------------------------------------------------------------------- whole-file checking


def test_every_bad_cell_or_row_gives_exactly_one_error():
    table = small_table() + [
        row("E00002", "丙一"),  # row 8: duplicate id
        row("E00009", ""),  # row 9: blank name
        row("E00010", "丙三", "北京"),  # row 10: unknown group
        row("E00011", "丙四", gender="M"),  # row 11: bad gender
        row("E00012", "丙五", kind="候补代表"),  # row 12: bad delegate type
        row("E00013", "丙六") + ["多余"],  # row 13: wrong column count
        row("E00014", "丙七", "岳阳", leader="1"),  # row 14: second leader of 岳阳
        row("E00015", "甲二"),  # row 15: duplicate name
        row("E00016", "丙九", role="工人"),  # row 16: bad role
        row("E00017", "丙十", leader="2"),  # row 17: bad leader flag
        row("E00018", "丙十一", leader="1", kind="列席代表"),  # row 18: non-voting leader
        row("E 19", "丙十二"),  # row 19: bad employee id
        row("E00020", "丙十三", "岳阳", gender="", kind=""),  # row 20: two bad cells
    ]
    result = parse(table)
    assert not result.is_valid
    assert [(e.row, e.column, e.reason) for e in result.errors] == [
        (8, "employee_id", "工号 E00002 与第 3 行重复"),
        (9, "name", "姓名为空"),
        (10, "group", "未知的代表团(组)“北京”"),
        (11, "gender", "性别应为“男”或“女”"),
        (12, "delegate_type", "代表类型应为 正式代表/列席代表/特邀代表"),
        (13, "", "列数不对：应为 8 列，实为 9 列"),
        (14, "is_group_leader", "代表团(组)“岳阳”有两位团(组)长（第 5、14 行）"),
        (15, "name", "姓名“甲二”与第 3 行重复（同名代表请在姓名后注明单位以示区分）"),
        (16, "role", "类别应为 一线职工/专业技术人员/管理人员/领导人员"),
        (17, "is_group_leader", "团(组)长应为 1 或 0（也可填 是/否）"),
        (18, "is_group_leader", "团(组)长必须是正式代表"),
        (19, "employee_id", "工号“E 19”只能由字母、数字、_ 和 - 组成，最长 32 位"),
        (20, "gender", "性别应为“男”或“女”"),
        (20, "delegate_type", "代表类型应为 正式代表/列席代表/特邀代表"),
    ]
    # rows with an error of their own are left out; the others are still there to preview
    assert [r.employee_id for r in result.rows] == [f"E0000{i}" for i in range(1, 7)]


def test_errors_name_the_column_as_written_in_the_file():
    table = small_table()
    table[0] = [*CHINESE_HEADER]
    table.append(row("E00007", "丙一", gender="?"))
    assert parse(table).errors == [RowError(8, "性别", "性别应为“男”或“女”")]
    assert str(parse(table).errors[0]) == "第 8 行「性别」：性别应为“男”或“女”"


def test_blank_lines_are_skipped_but_keep_their_row_numbers():
    table = small_table()
    table[2:2] = [[], [""] * 8]
    table.append(row("E00007", "丙一", gender="?"))
    result = parse(table)
    assert len(result.rows) == 6
    assert [e.row for e in result.errors] == [10]


def test_empty_trailing_cells_are_not_a_column_count_error():
    table = [cells + [""] for cells in small_table()[1:]]
    assert parse([list(FIELDS), *table]).is_valid


def test_quoted_fields_may_hold_commas_and_surrounding_spaces_are_stripped():
    table = small_table()
    table[2] = ["  E00002 ", " 甲二\t", "男 ", " 长沙", "纸机一车间, 二工段", "一线职工", " 0 ", "正式代表 "]
    result = parse(table)
    assert result.is_valid
    assert result.rows[1] == RosterRow(
        "E00002", "甲二", "男", "长沙", "纸机一车间, 二工段", "一线职工", False, "正式代表"
    )


def test_a_missing_column_is_one_error_on_the_header_row():
    table = [[c for i, c in enumerate(cells) if i != 2] for cells in small_table()]
    assert parse(table).errors == [RowError(1, "gender", "缺少“性别”列")]
    table[0] = [c for c in CHINESE_HEADER if c != "性别"]
    assert parse(table).errors == [RowError(1, "性别", "缺少“性别”列")]


def test_an_unknown_column_is_ignored_with_a_warning():
    table = [[*cells, "备注"] for cells in small_table()]
    result = parse(table)
    assert result.is_valid
    assert "忽略未知的列“备注”" in result.warnings


def test_a_repeated_column_is_an_error():
    table = [[*cells, cells[3]] for cells in small_table()]
    table[0][-1] = "代表组"
    assert parse(table).errors == [RowError(1, "代表组", "列“代表组”与“group”重复")]


@pytest.mark.parametrize(
    ("data", "filename", "reason"),
    [
        (b"", "roster.csv", "文件为空"),
        (b" \r\n\r\n", "roster.csv", "文件为空"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "roster.csv", "含有二进制内容"),
        (bytes(range(256)) * 4, "roster.csv", "无法识别文件编码"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "roster.xls", "不支持旧版 Excel"),
        (b"PK\x03\x04 not really a zip", "roster.xlsx", "无法读取 XLSX 文件"),
        ("会议通知\n请各代表团准时参会\n".encode(), "notice.txt", "第一行不是代表名册的表头"),
        (",".join(FIELDS).encode() + b"\n", "roster.csv", "名册只有表头，没有代表"),
    ],
)
def test_a_file_that_is_not_a_roster_gives_one_clear_error(data, filename, reason):
    result = parse_roster(data, filename, None)
    assert len(result.errors) == 1
    assert result.errors[0].row == 1
    assert reason in result.errors[0].reason
    assert result.rows == []


def test_an_xlsx_without_rows_gives_one_error(tmp_path):
    result = parse_roster(to_xlsx([], tmp_path / "empty.xlsx"), "empty.xlsx", None)
    assert [e.reason for e in result.errors] == ["文件为空"]


# --------------------------------------------------------------------------- cell values


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", True), ("0", False), ("", False), ("是", True), ("否", False), ("TRUE", True),
     ("false", False), ("１", True), ("1.0", True)],
)  # fmt: skip
def test_leader_flag_spellings(text, expected):
    table = small_table()
    table[1][6] = text
    result = parse(table)
    assert result.errors == []
    assert result.rows[0].is_group_leader is expected


@pytest.mark.parametrize(
    ("text", "stored"),
    [("E25687", "E25687"), ("12345", "12345"), ("emp_01-a", "emp_01-a"), ("Ｅ２５６８７", "E25687"),
     ("x" * 32, "x" * 32)],
)  # fmt: skip
def test_employee_ids_of_other_companies_are_accepted(text, stored):
    table = small_table()
    table[1][0] = text
    assert parse(table).rows[0].employee_id == stored


@pytest.mark.parametrize("text", ["E 25687", "张三", "x" * 33, "E2568/7"])
def test_malformed_employee_ids_are_refused(text):
    table = small_table()
    table[1][0] = text
    assert [(e.row, e.column) for e in parse(table).errors] == [(2, "employee_id")]


# --------------------------------------------------------------------------- groups and leaders


def test_unknown_groups_are_collected_when_creating_groups():
    table = small_table() + [row("E00007", "丙一", "宁波", leader="1"), row("E00008", "丙二", "益阳")]
    refused = parse(table, known_groups=["长沙"])
    assert [(e.row, e.reason) for e in refused.errors] == [
        (5, "未知的代表团(组)“岳阳”"),
        (6, "未知的代表团(组)“岳阳”"),
        (7, "未知的代表团(组)“岳阳”"),
        (8, "未知的代表团(组)“宁波”"),
        (9, "未知的代表团(组)“益阳”"),
    ]
    created = parse(table, known_groups=["长沙"], create_groups=True)
    assert created.is_valid
    assert created.new_groups == ["岳阳", "宁波", "益阳"]
    assert created.warnings == ["代表团(组)“益阳”没有团(组)长"]


def test_a_group_without_leader_is_a_warning_not_an_error():
    table = small_table()
    table[4][6] = "0"
    result = parse(table)
    assert result.is_valid
    assert result.warnings == ["代表团(组)“岳阳”没有团(组)长"]


def test_three_leaders_in_one_group_are_one_error_listing_every_row():
    table = small_table()
    for cells in table[1:4]:
        cells[6] = "1"
    assert parse(table).errors == [
        RowError(3, "is_group_leader", "代表团(组)“长沙”有3位团(组)长（第 2、3、4 行）")
    ]


# --------------------------------------------------------------------------- composition


def delegates(front_line=0, technical=0, managers=0, leaders=0, non_voting=0) -> list[RosterRow]:
    roles = ["一线职工"] * front_line + ["专业技术人员"] * technical + ["管理人员"] * managers
    roles += ["领导人员"] * leaders
    rows = [
        RosterRow(f"E{i:05}", f"代表{i}", "男", "长沙", "", r, False, "正式代表") for i, r in enumerate(roles)
    ]
    rows += [
        RosterRow(f"N{i:05}", f"列席{i}", "女", "长沙", "", "管理人员", False, "列席代表")
        for i in range(non_voting)
    ]
    return rows


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        (dict(front_line=60, technical=20, managers=15, leaders=5), []),  # exactly 20%, 60%
        (dict(front_line=60, technical=19, managers=16, leaders=5),
         ["管理人员和领导人员共 21 人，占正式代表 100 人的 21%，超过 20%"]),
        (dict(front_line=50, technical=30, managers=20), []),  # exactly 50%
        (dict(front_line=49, technical=31, managers=20),
         ["一线职工 49 人，占正式代表 100 人的 49%，低于 50%"]),
        (dict(front_line=60, technical=30, managers=10, non_voting=20), []),  # exactly 1/5
        (dict(front_line=60, technical=30, managers=10, non_voting=21),
         ["列席代表和特邀代表共 21 人，为正式代表 100 人的 21%，超过 20%"]),
        (dict(front_line=5000, technical=2999, managers=2001),  # 20.01% must not read "20.0%"
         ["管理人员和领导人员共 2001 人，占正式代表 10000 人的 20.01%，超过 20%"]),
        (dict(front_line=1, managers=1, leaders=1),
         ["管理人员和领导人员共 2 人，占正式代表 3 人的 66.7%，超过 20%",
          "一线职工 1 人，占正式代表 3 人的 33.3%，低于 50%"]),
        (dict(non_voting=3), ["名册中没有正式代表"]),
        ({}, []),
    ],
)  # fmt: skip
def test_composition_warnings(counts, expected):
    assert composition_warnings(delegates(**counts)) == expected


def test_story_roster_meets_the_composition_rules(story):
    # 管理人员 + 领导人员 55/295 = 18.6%, 一线职工 159/295 = 53.9%, 列席 + 特邀 10/295 = 3.4%
    voting = [r for r in story.rows if r.is_voting]
    assert Fraction(sum(r.role in ("管理人员", "领导人员") for r in voting), len(voting)) == Fraction(55, 295)
    assert Fraction(sum(r.role == "一线职工" for r in voting), len(voting)) == Fraction(159, 295)
    assert composition_warnings(story.rows) == []
    stricter = composition_warnings(story.rows, max_managers=Fraction(1, 10), min_front_line=Fraction(3, 5))
    assert stricter == [
        "管理人员和领导人员共 55 人，占正式代表 295 人的 18.6%，超过 10%",
        "一线职工 159 人，占正式代表 295 人的 53.9%，低于 60%",
    ]


def test_composition_warnings_are_part_of_the_parsed_file():
    table = small_table()
    for cells in table[1:]:
        cells[5] = "管理人员"
    warnings = parse(table).warnings
    assert len(warnings) == 2
    assert warnings[0].startswith("管理人员和领导人员共 6 人，占正式代表 6 人的 100%")


@given(
    front_line=st.integers(0, 300),
    technical=st.integers(0, 300),
    managers=st.integers(0, 300),
    non_voting=st.integers(0, 100),
)
def test_composition_warnings_follow_exact_fractions(front_line, technical, managers, non_voting):
    voting = front_line + technical + managers
    warnings = composition_warnings(delegates(front_line, technical, managers, 0, non_voting))
    if voting == 0:
        assert warnings == (["名册中没有正式代表"] if non_voting else [])
        return
    assert any(w.startswith("管理人员") for w in warnings) == (5 * managers > voting)
    assert any(w.startswith("一线职工") for w in warnings) == (2 * front_line < voting)
    assert any(w.startswith("列席代表") for w in warnings) == (5 * non_voting > voting)


# --------------------------------------------------------------------------- re-import and progress


def test_diff_reports_added_updated_unchanged_and_removed(story):
    existing = {r.employee_id: r for r in story.rows[:10]}
    existing["E99999"] = SimpleNamespace(**{**vars_of(story.rows[0]), "employee_id": "E99999"})
    moved = RosterRow(**{**vars_of(story.rows[1]), "group": "宁波", "unit": "宁波公司"})
    incoming = [story.rows[0], moved, *story.rows[2:8], *story.rows[10:12]]
    diff = diff_roster(existing, incoming)
    assert diff.added == story.rows[10:12]
    assert [(u.employee_id, u.changed, u.after) for u in diff.updated] == [
        (moved.employee_id, ("group", "unit"), moved)
    ]
    assert diff.unchanged == [story.rows[0], *story.rows[2:8]]
    assert diff.removed == [story.rows[8].employee_id, story.rows[9].employee_id, "E99999"]


def test_diff_against_itself_changes_nothing(story):
    diff = diff_roster({r.employee_id: r for r in story.rows}, story.rows)
    assert (diff.added, diff.updated, diff.removed) == ([], [], [])
    assert len(diff.unchanged) == 305


def test_diff_refuses_duplicate_incoming_ids(story):
    with pytest.raises(ValueError):
        diff_roster({}, [story.rows[0], story.rows[0]])


def vars_of(r: RosterRow) -> dict[str, object]:
    return {name: getattr(r, name) for name in FIELDS}


def test_progress_is_reported_every_500_rows():
    table = [list(FIELDS)] + [row(f"E{i:05}", f"代表{i}", leader="1" if i == 0 else "0") for i in range(1200)]
    calls: list[tuple[int, int]] = []
    result = parse(table, known_groups=["长沙"], progress=lambda done, total: calls.append((done, total)))
    assert result.is_valid
    assert calls == [(500, 1200), (1000, 1200), (1200, 1200)]
