"""The roster's optional e-mail column (issue 19 follow-up): the import stores each delegate's address
for notices, refuses a bad one naming its row and value with nothing imported, a re-import reports
who got, changed or lost an address without printing it, and a roster without the column keeps them."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from congress.actions.base import Context
from congress.actions.roster import RosterRejected, import_roster
from congress.actions.setup import create_congress
from congress.application.service import system_clock
from congress.cli.terms import print_roster_changes
from congress.db.models import Delegate
from congress.domain.roster import parse_roster
from tests.story import GROUPS, SETUP, story_roster


def _roster(header: str | None, emails: dict[str, str], rows: int = 20) -> bytes:
    """The story's first `rows` delegates, with an e-mail column headed `header` (None: no column)."""
    lines = list(csv.reader(io.StringIO(story_roster().decode("utf-8"))))[: rows + 1]
    out = io.StringIO()
    writer = csv.writer(out)
    for i, line in enumerate(lines):
        if header is not None:
            line = [*line, header if i == 0 else emails.get(line[0], "")]
        writer.writerow(line)
    return out.getvalue().encode("utf-8")


def _ids(rows: int = 20) -> list[str]:
    return [line[0] for line in list(csv.reader(io.StringIO(story_roster().decode("utf-8"))))[1: rows + 1]]


def _emails(db, cid):  # type: ignore[no-untyped-def]
    with db.read() as session:
        return {e: m for e, m in session.execute(sa.select(Delegate.employee_id, Delegate.email).where(Delegate.congress_id == cid))}


@pytest.mark.parametrize("header", ["邮箱", "电子邮箱", "电子邮件", "email", "E-mail", " E - mail "])
def test_each_header_spelling_reads_the_column(header: str) -> None:
    first = _ids()[0]
    roster = parse_roster(_roster(header, {first: " zhang.wei＠paper-group.com.cn "}), "名册.csv", GROUPS)
    assert roster.errors == []
    assert roster.rows[0].email == "zhang.wei@paper-group.com.cn"  # full-width @ folded, spaces trimmed
    assert roster.rows[1].email == ""
    assert not any("忽略未知的列" in w for w in roster.warnings)
    assert parse_roster(_roster(None, {}), "名册.csv", GROUPS).rows[0].email is None


def test_import_stores_addresses_refuses_a_bad_one_and_reports_changes_without_them(db, capsys):  # type: ignore[no-untyped-def]
    ids = _ids()
    with db.write() as session:
        ctx = Context(session, SETUP, system_clock())
        cid = create_congress(ctx, "第十届职代会第三次会议", GROUPS).id
        import_roster(ctx, cid, _roster("电子邮箱", {ids[0]: "a0@example.com", ids[1]: "a1@example.com"}), "名册.csv")
    assert _emails(db, cid)[ids[0]] == "a0@example.com"
    assert _emails(db, cid)[ids[2]] is None

    # A bad address: its row (header is row 1) and value named, nothing imported, nothing changed
    bad = _roster("电子邮箱", {ids[0]: "b0@example.com", ids[3]: "li.na@example", ids[4]: "x@a.com;y@b.com"})
    with pytest.raises(RosterRejected) as refused, db.write() as session:
        import_roster(Context(session, SETUP, system_clock()), cid, bad, "名册.csv")
    assert [str(e) for e in refused.value.roster.errors] == [
        "第 5 行「电子邮箱」：电子邮箱“li.na@example”格式不正确，应形如 name@example.com（一格只填一个地址）",
        "第 6 行「电子邮箱」：电子邮箱“x@a.com;y@b.com”格式不正确，应形如 name@example.com（一格只填一个地址）"]
    assert _emails(db, cid)[ids[0]] == "a0@example.com"

    # A re-import: one address changed, one removed, one added; the report never says an address
    again = _roster("Email", {ids[0]: "new0@example.com", ids[2]: "a2@example.com"})
    with db.write() as session:
        summary = import_roster(Context(session, SETUP, system_clock()), cid, again, "名册.csv", dry_run=True)
    changed = {c["employee_id"]: c["fields"] for c in summary["changes"]["changed"]}
    assert changed == {ids[0]: [{"field": "email", "label": "电子邮箱", "text": "已更改"}],
                       ids[1]: [{"field": "email", "label": "电子邮箱", "text": "已删除"}],
                       ids[2]: [{"field": "email", "label": "电子邮箱", "text": "已填写"}]}
    print_roster_changes(summary["changes"])
    printed = capsys.readouterr().out
    assert "电子邮箱 已更改" in printed and "@" not in printed
    assert _emails(db, cid)[ids[0]] == "a0@example.com"  # a dry run changes nothing
    with db.write() as session:
        import_roster(Context(session, SETUP, system_clock()), cid, again, "名册.csv")
    emails = _emails(db, cid)
    assert (emails[ids[0]], emails[ids[1]], emails[ids[2]]) == ("new0@example.com", None, "a2@example.com")

    # A roster without the column keeps every address and reports no change
    with db.write() as session:
        summary = import_roster(Context(session, SETUP, system_clock()), cid, _roster(None, {}), "名册.csv")
    assert summary["changes"]["changed"] == []
    assert _emails(db, cid)[ids[2]] == "a2@example.com"
