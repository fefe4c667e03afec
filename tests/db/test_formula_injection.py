"""People's text never runs as a formula in any spreadsheet or CSV the program writes (issue 18 point 5),
on SQLite and PostgreSQL, through a real server and the real `congress` command.

Formula payloads go in the way people type them: a roster (names, units, groups) imported over HTTP,
a delegate's proposal (title, 案由, 建议) filed, co-signed and submitted over HTTP, a department's
reply, a group's room message, its 审议意见, the desk's check-in and check-out reasons, an agenda
title and a department's name. Then every export is read back — 提案汇总表 (HTTP and `congress
proposals export`), the 审议意见 sheet (HTTP), `congress minutes` (签到表.xlsx and its 提案汇总表.xlsx),
the access codes (`congress codes export`, CSV and XLSX) — and no cell may be a formula: text that
begins like one is a string cell with Excel's quote prefix, and in CSV it carries OWASP's quote."""

from __future__ import annotations

import contextlib
import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from congress.actions.accounts import add_department, add_staff
from congress.actions.base import Context
from congress.actions.setup import create_congress
from congress.application.service import system_clock
from congress.cli import main
from congress.db.engine import Database
from congress.settings import Settings
from tests.story import SETUP, LiveServer, sign_in

HYPERLINK = '=HYPERLINK("http://evil.example","x")'
PAYLOADS = [HYPERLINK, "+1+1", "-2+3", "@SUM(A1)", "＝1+1"]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
GROUP_A, GROUP_B = "@SUM(A1)", "＝1+1"
DEPARTMENT = "-2+3"
ROSTER = [
    ["employee_id", "name", "gender", "group", "unit", "role", "is_group_leader", "delegate_type"],
    ["E1", HYPERLINK, "男", GROUP_A, "+1+1", "一线职工", "1", "正式代表"],
    ["E2", "+1+1", "女", GROUP_A, "-2+3", "一线职工", "0", "正式代表"],
    ["E3", "-2+3", "男", GROUP_B, "@SUM(A1)", "一线职工", "1", "正式代表"],
    ["E4", "@SUM(A1)", "女", GROUP_B, "＝1+1", "一线职工", "0", "正式代表"],
    ["E5", "＝1+1", "男", GROUP_B, HYPERLINK, "一线职工", "0", "正式代表"],
]


def run_cli(*argv: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    assert code == 0, (argv, out.getvalue())
    return out.getvalue()


class Http:
    """A signed-in person talking to the real server."""

    def __init__(self, base: str, congress_id: int, body: dict[str, Any]) -> None:
        self.base, self.congress_id = base, congress_id
        cookie, csrf = sign_in(base, body)
        self.headers = {"cookie": f"congress_session={cookie}", "x-csrf-token": csrf}

    def command(self, op: str, **body: Any) -> Any:
        response = httpx.post(f"{self.base}/api/congresses/{self.congress_id}/commands/{op}", json=body,
                              headers=self.headers, timeout=60)
        assert response.status_code == 200, (op, response.text)
        return response.json()["result"]

    def get(self, path: str) -> bytes:
        response = httpx.get(f"{self.base}/api/congresses/{self.congress_id}{path}", headers=self.headers,
                             timeout=60)
        assert response.status_code == 200, (path, response.text)
        return response.content


def xlsx_cells(data: bytes) -> Iterator[Any]:
    book = load_workbook(io.BytesIO(data), data_only=False)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            yield from row


def assert_no_formula(name: str, data: bytes, expected: list[str]) -> None:
    """No cell of the workbook is a formula; text that begins like one is a string cell with the quote
    prefix; and the texts in `expected` are there (so the check looked at the people's text)."""
    values = []
    for cell in xlsx_cells(data):
        assert cell.data_type != "f", f"{name} {cell.coordinate} is a formula: {cell.value!r}"
        if isinstance(cell.value, str):
            values.append(cell.value)
            if cell.value.startswith(TRIGGERS):
                assert cell.data_type == "s" and cell.quotePrefix, f"{name} {cell.coordinate}: {cell.value!r}"
    for text in expected:
        assert any(value == text or value.startswith(text) for value in values), f"{name} lacks {text!r}"


def assert_csv_prefixed(name: str, text: str, expected: list[str]) -> None:
    fields = [field for row in csv.reader(io.StringIO(text)) for field in row]
    for field in fields:
        assert not field.startswith(TRIGGERS), f"{name}: {field!r} is not prefixed"
    for payload in expected:
        assert "'" + payload in fields, f"{name} lacks '{payload!r}"


@pytest.fixture
def server(db: Database, database_url: str) -> Iterator[tuple[LiveServer, int, str, tuple[str, str]]]:
    with db.write() as session:
        ctx = Context(session, SETUP, system_clock())
        congress_id = create_congress(ctx, "第十届职代会第三次会议", ["主会场"]).id
        _account, password = add_staff(ctx, "staff")
        department, department_password = add_department(ctx, DEPARTMENT, "dept")
        department_login = department.login
    live = LiveServer(Settings(database_url=database_url, port=0)).start()
    try:
        yield live, congress_id, password, (department_login, department_password)
    finally:
        live.stop()


def test_no_export_runs_a_formula_typed_by_anyone(server, database_url: str, tmp_path: Path) -> None:
    live, congress_id, password, (department_login, department_password) = server
    cid = str(congress_id)
    staff = Http(live.url, congress_id, {"login": "staff", "password": password})

    # the roster, over HTTP
    roster = io.StringIO()
    csv.writer(roster).writerows(ROSTER)
    response = httpx.post(f"{live.url}/api/congresses/{congress_id}/roster", content=roster.getvalue().encode(),
                          params={"filename": "roster.csv", "create_groups": "1"},
                          headers={**staff.headers, "content-type": "text/csv"}, timeout=60)
    assert response.status_code == 200, response.text

    # the access codes as CSV (the delegates sign in with them)
    codes_csv = tmp_path / "codes.csv"
    run_cli("--database-url", database_url, "codes", "export", "--congress", cid, "--output", str(codes_csv))
    text = codes_csv.read_text(encoding="utf-8-sig")
    assert_csv_prefixed("访问码.csv", text, [*PAYLOADS, GROUP_A, GROUP_B])
    codes = {row[0]: row[4] for row in csv.reader(io.StringIO(text))}

    def delegate(employee_id: str) -> Http:
        return Http(live.url, congress_id, {"employee_id": employee_id, "code": codes[employee_id],
                                            "congress_id": congress_id})

    # staff: an agenda item, check-in at the desk with reasons, a rule of one co-signer
    item_id = staff.command("add_agenda_item", kind="审议", title="@SUM(A1) 审议公司工作报告")["id"]
    staff.command("set_rules", rules={"cosigners_required": 1})
    staff.command("check_in_at_desk", employee_id="E2", reason="+1+1")
    staff.command("check_in_at_desk", employee_id="E3", reason=HYPERLINK)
    staff.command("check_out", employee_id="E3", reason="-2+3")

    # a delegate files a proposal whose every part is a formula, co-signed by another
    proposer, cosigner = delegate("E1"), delegate("E2")
    draft = proposer.command("draft_proposal", title=HYPERLINK, reason="+1+1", suggestion="-2+3")
    proposer.command("invite_cosigners", proposal_id=draft["id"], employee_ids=["E2"])
    cosigner.command("answer_cosign", proposal_id=draft["id"], accept=True)
    proposer.command("submit_proposal", proposal_id=draft["id"])
    second = proposer.command("draft_proposal", title="＝1+1", reason="@SUM(A1)", suggestion=HYPERLINK)
    proposer.command("invite_cosigners", proposal_id=second["id"], employee_ids=["E2"])
    cosigner.command("answer_cosign", proposal_id=second["id"], accept=True)
    proposer.command("submit_proposal", proposal_id=second["id"])

    # 立案, 交办 to the department named "-2+3", which replies with a formula
    staff.command("decide_proposal", proposal_id=draft["id"], decision="立案", reason="=1+1")
    staff.command("assign_proposal", proposal_id=draft["id"], lead=DEPARTMENT)
    department = Http(live.url, congress_id, {"login": department_login, "password": department_password})
    department.command("reply_proposal", proposal_id=draft["id"], reply_class="A", text=HYPERLINK)

    # the group leader's room message and the group's 审议意见, quoting it
    message_id = proposer.command("post_message", text="=1+1", agenda_item_id=item_id)["id"]
    proposer.command("save_opinion", agenda_item_id=item_id, agreement=HYPERLINK, suggestions="+1+1",
                     objections="-2+3", quoted_message_ids=[message_id])
    proposer.command("submit_opinion", agenda_item_id=item_id)

    register_texts = [HYPERLINK, "＝1+1", "+1+1", GROUP_A, DEPARTMENT]  # title, proposer, cosigner, group, lead
    # HTTP exports
    assert_no_formula("提案汇总表 (HTTP)", staff.get("/proposals/register.xlsx"), register_texts)
    assert_no_formula("审议意见", staff.get(f"/opinions/{item_id}/export.xlsx"),
                      [GROUP_A, GROUP_B, "@SUM(A1) 审议公司工作报告", HYPERLINK, "+1+1", "-2+3", f"{HYPERLINK}："])

    # the command line: 提案汇总表, the minutes, the archive, and the codes again as XLSX
    register = tmp_path / "提案汇总表.xlsx"
    run_cli("--database-url", database_url, "proposals", "export", "--congress", cid, "--output", str(register))
    assert_no_formula("提案汇总表 (congress proposals export)", register.read_bytes(), register_texts)
    minutes = tmp_path / "minutes"
    run_cli("--database-url", database_url, "minutes", "--congress", cid, str(minutes))
    spreadsheets = sorted(p.name for p in minutes.iterdir() if p.suffix in (".xlsx", ".csv"))
    assert spreadsheets == ["提案汇总表.xlsx", "签到表.xlsx"]  # a new one must be added to this test
    assert_no_formula("会议记录/提案汇总表", (minutes / "提案汇总表.xlsx").read_bytes(), register_texts)
    assert_no_formula("会议记录/签到表", (minutes / "签到表.xlsx").read_bytes(),
                      [GROUP_A, GROUP_B, "+1+1", "-2+3", "@SUM(A1)", "＝1+1", HYPERLINK])
    archive = tmp_path / "archive.zip"
    run_cli("--database-url", database_url, "export", "--congress", cid, str(archive))
    with zipfile.ZipFile(archive) as files:  # JSON only: nothing a spreadsheet would open
        assert not [n for n in files.namelist() if n.endswith((".xlsx", ".xls", ".csv"))]
    codes_xlsx = tmp_path / "访问码.xlsx"
    run_cli("--database-url", database_url, "codes", "export", "--congress", cid, "--format", "xlsx",
            "--output", str(codes_xlsx))
    assert_no_formula("访问码.xlsx", codes_xlsx.read_bytes(), [*PAYLOADS, GROUP_A, GROUP_B])
