"""Importing the delegate roster (名册导入) through the `congress` command and the HTTP API, on both
databases: the story's 295 + 10 delegates in 7 groups from CSV (UTF-8 or GB18030) or XLSX, dry runs,
re-imports, and files with bad rows that are refused whole, naming every bad row."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
import sqlalchemy as sa

from congress.actions.accounts import add_staff
from congress.actions.base import Context
from congress.actions.setup import create_congress
from congress.application.service import system_clock
from congress.cli import main
from congress.db.engine import Database
from congress.db.models import Delegate
from congress.settings import Settings
from tests.story import GROUPS, SETUP, LiveServer, sign_in, story_roster

ROSTER = Path(__file__).resolve().parents[2] / "congress" / "data" / "roster.csv"


@dataclass
class Cli:
    """The `congress` command against one database, as a user runs it."""

    url: str
    capsys: pytest.CaptureFixture[str]

    def run(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(["--database-url", self.url, *args])
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def json(self, *args: str) -> tuple[int, dict[str, Any]]:
        code, out, _err = self.run(*args, "--json")
        return code, json.loads(out)

    def new_congress(self) -> int:
        code, created = self.json("new", "第十届职代会第三次会议", "--groups", ",".join(GROUPS))
        assert code == 0
        return created["id"]


@pytest.fixture
def cli(empty_database_url: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(empty_database_url, capsys)


def story_rows() -> list[list[str]]:
    return list(csv.reader(io.StringIO(story_roster().decode("utf-8"))))


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[str]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    leader = rows[0].index("is_group_leader")
    sheet.append(rows[0])
    for row in rows[1:]:
        sheet.append([int(cell) if i == leader else cell for i, cell in enumerate(row)])
    workbook.save(path)
    return path


def delegate_table(url: str) -> list[tuple[Any, ...]]:
    """Every delegate row as staff would see it in the database."""
    db = Database(url)
    try:
        with db.read() as session:
            return list(session.execute(sa.select(
                Delegate.employee_id, Delegate.name, Delegate.gender, Delegate.unit, Delegate.group_id,
                Delegate.role, Delegate.delegate_type, Delegate.is_group_leader, Delegate.is_active,
            ).order_by(Delegate.employee_id)))
    finally:
        db.dispose()


def roster_with_bad_rows() -> tuple[list[list[str]], set[tuple[int, str]]]:
    """The story's roster with seven bad rows (and a few good changes that must not slip in).

    Row numbers are as a spreadsheet shows them: the header is row 1."""
    rows = story_rows()
    header = rows[0]
    col = {name: header.index(name) for name in header}
    rows[10 - 1][col["employee_id"]] = rows[2 - 1][col["employee_id"]]  # duplicate employee id
    rows[20 - 1][col["name"]] = ""  # blank name
    rows[30 - 1][col["group"]] = "北京"  # not one of the congress's groups
    rows[40 - 1][col["gender"]] = "M"
    rows[50 - 1][col["delegate_type"]] = "正式"
    rows[60 - 1] = rows[60 - 1][:-1]  # a cell missing: wrong column count
    # A second leader for 岳阳, after its real leader
    yueyang_leader = next(i for i, r in enumerate(rows) if r[col["group"]] == "岳阳" and r[col["is_group_leader"]] == "1")
    second = next(i for i, r in enumerate(rows) if i > yueyang_leader and r[col["group"]] == "岳阳"
                  and r[col["delegate_type"]] == "正式代表")
    rows[second][col["is_group_leader"]] = "1"
    # Good changes that would be applied if the import were done half-way
    rows[3 - 1][col["unit"]] = "新成立的单位"
    rows.append(["E99999", "新代表", "女", "长沙", "综合部", "一线职工", "0", "正式代表"])
    expected = {(10, "employee_id"), (20, "name"), (30, "group"), (40, "gender"), (50, "delegate_type"),
                (60, ""), (second + 1, "is_group_leader")}
    return rows, expected


def error_lines(stderr: str) -> list[str]:
    return [line.strip() for line in stderr.splitlines() if line.strip().startswith("第 ")]


# -- the story's roster -------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["utf-8", "gb18030", "xlsx"])
def test_story_roster_imports_295_voting_and_10_non_voting_in_7_groups_from_any_format(cli, tmp_path, kind):
    rows = story_rows()
    if kind == "xlsx":
        path = write_xlsx(tmp_path / "名册.xlsx", rows)
    else:
        path = write_csv(tmp_path / "名册.csv", rows, encoding=kind)
        if kind == "gb18030":
            with pytest.raises(UnicodeDecodeError):  # really re-encoded: not UTF-8 any more
                path.read_bytes().decode("utf-8")
    cli.new_congress()

    code, first = cli.json("roster", "import", str(path))

    assert code == 0 and first["ok"] is True
    assert (first["voting"], first["non_voting"], first["groups"]) == (295, 10, 7)
    assert (first["added"], first["updated"], first["unchanged"], first["removed"]) == (305, 0, 0, 0)
    assert first["encoding"] == {"utf-8": "utf-8", "gb18030": "gb18030", "xlsx": "xlsx"}[kind]
    assert first["per_group"]["主会场"] == {"voting": 60, "non_voting": 3}
    assert len(delegate_table(cli.url)) == 305

    code, again = cli.json("roster", "import", str(path))

    assert code == 0
    assert (again["added"], again["updated"], again["unchanged"], again["removed"]) == (0, 0, 305, 0)
    assert len(delegate_table(cli.url)) == 305


def test_story_roster_imports_from_the_packaged_file_with_a_readable_summary(cli):
    cli.new_congress()

    code, out, _err = cli.run("roster", "import", str(ROSTER))

    assert code == 0
    assert "正式代表 295 人，列席/特邀代表 10 人，7 个代表团(组)" in out
    assert "新增 305" in out


def test_dry_run_reports_the_import_and_changes_nothing(cli, tmp_path):
    cli.new_congress()

    code, summary = cli.json("roster", "import", str(ROSTER), "--dry-run")

    assert code == 0 and summary["dry_run"] is True
    assert (summary["voting"], summary["non_voting"], summary["added"]) == (295, 10, 305)
    assert delegate_table(cli.url) == []

    assert cli.json("roster", "import", str(ROSTER))[0] == 0
    before = delegate_table(cli.url)
    rows = story_rows()
    rows[2][rows[0].index("unit")] = "改过的单位"
    del rows[5]

    code, summary = cli.json("roster", "import", str(write_csv(tmp_path / "changed.csv", rows)), "--dry-run")

    assert code == 0
    assert (summary["updated"], summary["removed"]) == (1, 1)
    assert delegate_table(cli.url) == before


def test_roster_with_bad_rows_is_refused_naming_each_row_column_and_reason(cli, tmp_path):
    rows, expected = roster_with_bad_rows()
    bad = write_csv(tmp_path / "bad.csv", rows)
    cli.new_congress()

    code, _out, err = cli.run("roster", "import", str(bad))

    assert code != 0
    assert "未导入" in err
    lines = error_lines(err)
    assert len(lines) == len(expected), err
    for row, column in expected:
        where = f"第 {row} 行 {column or '（整行）'}："
        matching = [line for line in lines if line.startswith(where)]
        assert len(matching) == 1, (where, lines)
        assert len(matching[0]) > len(where), "each message gives a reason"
    assert delegate_table(cli.url) == []


def test_bad_roster_after_a_good_import_leaves_every_delegate_as_it_was(cli, tmp_path):
    cli.new_congress()
    assert cli.json("roster", "import", str(ROSTER))[0] == 0
    before = delegate_table(cli.url)
    rows, expected = roster_with_bad_rows()

    code, report = cli.json("roster", "import", str(write_csv(tmp_path / "bad.csv", rows)))

    assert code != 0 and report["ok"] is False
    assert {(e["row"], e["column"]) for e in report["errors"]} == expected
    assert all(e["reason"] for e in report["errors"])
    assert delegate_table(cli.url) == before  # no new delegate, no changed unit: nothing half-imported


def test_reimport_without_a_delegate_removes_them_but_keeps_their_record(cli, tmp_path):
    cli.new_congress()
    assert cli.json("roster", "import", str(ROSTER))[0] == 0
    rows = story_rows()
    dropped = rows.pop(4)  # a voting delegate of 主会场 who is not its leader
    assert dropped[7] == "正式代表" and dropped[6] == "0"

    code, summary = cli.json("roster", "import", str(write_csv(tmp_path / "less.csv", rows)))

    assert code == 0
    assert (summary["added"], summary["updated"], summary["unchanged"], summary["removed"]) == (0, 0, 304, 1)
    assert summary["voting"] == 294
    table = {row.employee_id: row for row in delegate_table(cli.url)}
    assert len(table) == 305  # kept: ballots and proposals may refer to them
    assert table[dropped[0]].is_active is False
    assert sum(row.is_active for row in table.values()) == 304


# -- the HTTP API -------------------------------------------------------------------------------
def test_http_roster_upload_with_bad_rows_is_refused_with_every_row_and_imports_nothing(db, database_url):
    with db.write() as session:
        ctx = Context(session, SETUP, system_clock())
        congress_id = create_congress(ctx, "第十届职代会第三次会议", GROUPS).id
        _account, password = add_staff(ctx, "staff")
    rows, expected = roster_with_bad_rows()
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    server = LiveServer(Settings(database_url=database_url, port=0)).start()
    try:
        cookie, csrf = sign_in(server.url, {"login": "staff", "password": password})
        headers = {"cookie": f"congress_session={cookie}", "x-csrf-token": csrf}
        url = f"{server.url}/api/congresses/{congress_id}/roster"

        refused = httpx.post(url, content=buffer.getvalue().encode(), timeout=30,
                             headers={**headers, "content-type": "text/csv"}, params={"filename": "bad.csv"})

        assert refused.status_code == 400
        error = refused.json()["error"]
        assert error["code"] == "roster_invalid"
        assert {(r["row"], r["column"]) for r in error["rows"]} == expected
        assert all(r["reason"] for r in error["rows"])
        assert delegate_table(database_url) == []

        accepted = httpx.post(url, files={"file": ("名册.csv", story_roster(), "text/csv")}, headers=headers,
                              timeout=30)

        assert accepted.status_code == 200, accepted.text
        result = accepted.json()["result"]
        assert (result["voting"], result["non_voting"], result["groups"]) == (295, 10, 7)
        assert len(delegate_table(database_url)) == 305
    finally:
        server.stop()
