"""The `congress` command on a database it cannot use yet: every command that reads or changes a
congress says so in one line and creates nothing (no database file, no output file, no traceback);
`congress demo` on a busy port says so before it prints (and so voids) any password."""

from __future__ import annotations

import socket
import sqlite3

import pytest

from congress.cli import main

ROSTER = "employee_id,name,gender,group,unit,role,is_group_leader,delegate_type\nA001,甲,男,甲组,一车间,一线职工,1,正式代表\n"


# Every command that works on an existing congress, with the files it would write in `folder`.
COMMANDS = {
    "codes export": lambda folder: ["codes", "export", "--output", str(folder / "codes.csv")],
    "codes export xlsx": lambda folder: ["codes", "export", "--format", "xlsx", "--output", str(folder / "codes.xlsx")],
    "codes export --congress": lambda folder: ["codes", "export", "--congress", "1", "--output", str(folder / "c.csv")],
    "roster import": lambda folder: ["roster", "import", str(folder / "roster.csv")],
    "proposals export": lambda folder: ["proposals", "export", "--output", str(folder / "register.xlsx")],
    "export": lambda folder: ["export", str(folder / "archive.zip")],
    "minutes": lambda folder: ["minutes", str(folder / "minutes")],
    "verify --db": lambda folder: ["verify", "--db", f"sqlite:///{folder.parent / 'congress.db'}"],
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_command_on_a_missing_database_file_says_so_in_one_line_and_creates_nothing(tmp_path, capsys, name):
    work = tmp_path / "work"
    work.mkdir()
    (work / "roster.csv").write_text(ROSTER, encoding="utf-8")
    argv = COMMANDS[name](work)
    before = set(work.iterdir())
    database = tmp_path / "congress.db"

    assert main(["--database-url", f"sqlite:///{database}", *argv]) == 1

    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"数据库文件 {database} 不存在" in err and "congress db upgrade" in err
    assert not database.exists()
    assert set(work.iterdir()) == before  # no output file, not even an empty one


def test_a_database_without_tables_is_named_and_the_demo_database_beside_it_is_suggested(tmp_path, capsys,
                                                                                         monkeypatch):
    # As in the issue: `congress codes export` run in the demo's folder, where congress.db is not the demo's.
    monkeypatch.chdir(tmp_path)
    sqlite3.connect(tmp_path / "congress-demo.db").close()
    sqlite3.connect(tmp_path / "congress.db").close()  # an empty file: no tables
    size = (tmp_path / "congress.db").stat().st_size

    assert main(["--database-url", f"sqlite:///{tmp_path / 'congress.db'}", "codes", "export",
                 "--output", "codes.csv"]) == 1

    err = capsys.readouterr().err
    assert err == (f"错误：数据库 sqlite:///{tmp_path / 'congress.db'} 还没有建表：请先运行 congress db upgrade，"
                   f"或用 --database-url sqlite:///{tmp_path / 'congress-demo.db'} 指向示例数据库\n")
    assert not (tmp_path / "codes.csv").exists()
    assert (tmp_path / "congress.db").stat().st_size == size


def test_demo_on_a_busy_port_says_so_before_printing_passwords(tmp_path, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        database = tmp_path / "congress-demo.db"

        assert main(["--database-url", f"sqlite:///{database}", "demo", "--port", str(port)]) == 1

    out, err = capsys.readouterr()
    assert out == ""
    assert err == (f"错误：端口 {port} 已被占用（也许另一个 congress demo 或 serve 还在运行）：请先停止它，"
                   "或用 --port 换一个端口\n")
    assert not database.exists()  # nothing built, so no password was made or voided
