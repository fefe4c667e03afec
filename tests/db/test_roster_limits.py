"""A roster file beyond the limits is refused before it is parsed and imports nothing, over HTTP and
through `congress roster import`, on SQLite and PostgreSQL (issue 18 point 8: an XLSX zip bomb of
1.5 MB unpacked to 403 MB took 70 s and left 423 MB behind).

The refusals are `413 too_large` with a message naming the limit; bench/roster_bomb.py measures the
time and memory they take."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from congress.actions.accounts import add_staff
from congress.actions.base import Context
from congress.actions.setup import create_congress
from congress.application.service import system_clock
from congress.cli import main
from congress.db.engine import Database
from congress.db.models import Delegate, Event
from congress.settings import Settings
from tests.story import SETUP, LiveServer, sign_in, story_roster
from tests.unit.test_roster_limits import (
    HEADER,
    MAX_ROWS,
    SHEET_END,
    SHEET_START,
    delegate,
    workbook_with_sheet,
    xml_row,
)


def cell_bomb(unpacked: int) -> bytes:
    """A valid XLSX whose one data row holds a `unpacked`-byte name: a few hundred KB packed."""
    chunk = b"x" * 2**20

    def chunks() -> Iterator[bytes]:
        yield SHEET_START + xml_row(1, HEADER) + b'<row r="2"><c t="inlineStr"><is><t>E00001</t></is></c>'
        yield b'<c t="inlineStr"><is><t>'
        for _ in range(unpacked // len(chunk)):
            yield chunk
        yield b"</t></is></c></row>" + SHEET_END

    return workbook_with_sheet(chunks())


@pytest.fixture
def staff_site(db: Database, database_url: str) -> Iterator[tuple[str, int, dict[str, str]]]:
    with db.write() as session:
        ctx = Context(session, SETUP, system_clock())
        congress_id = create_congress(ctx, "第十届职代会第三次会议", ["甲组"]).id
        _account, password = add_staff(ctx, "staff")
    server = LiveServer(Settings(database_url=database_url, port=0)).start()
    try:
        cookie, csrf = sign_in(server.url, {"login": "staff", "password": password})
        yield server.url, congress_id, {"cookie": f"congress_session={cookie}", "x-csrf-token": csrf}
    finally:
        server.stop()


def nothing_imported(db: Database, congress_id: int) -> bool:
    with db.read() as session:
        delegates = session.scalar(sa.select(sa.func.count()).select_from(Delegate)
                                   .where(Delegate.congress_id == congress_id))
        imported = session.scalar(sa.select(sa.func.count()).select_from(Event)
                                  .where(Event.congress_id == congress_id, Event.type == "roster.imported"))
    return delegates == 0 and imported == 0


def test_roster_files_beyond_the_limits_are_refused_whole_over_http(staff_site, db: Database) -> None:
    base, congress_id, headers = staff_site
    url = f"{base}/api/congresses/{congress_id}/roster"
    bomb = cell_bomb(400 * 2**20)
    assert len(bomb) < 2**20  # 400 MB of sheet in under 1 MB

    def refused(response: httpx.Response, limit: str) -> None:
        assert response.status_code == 413, response.text
        error = response.json()["error"]
        assert error["code"] == "too_large" and limit in error["message"], error

    # the zip bomb, as the staff page sends it (multipart) and as a bare body
    refused(httpx.post(url, files={"file": ("名册.xlsx", bomb)}, headers=headers, timeout=60), "50 MB")
    refused(httpx.post(url, content=bomb, params={"filename": "名册.xlsx"}, headers=headers, timeout=60), "50 MB")
    # a sheet with a row more than the limit (refused while read: one cell a row is enough), and a CSV
    rows = [xml_row(n, [f"E{n}"]) for n in range(2, MAX_ROWS + 3)]
    too_many = workbook_with_sheet([SHEET_START, xml_row(1, HEADER), *rows, SHEET_END])
    refused(httpx.post(url, content=too_many, params={"filename": "名册.xlsx"}, headers=headers, timeout=60),
            f"{MAX_ROWS} 行")
    lines = [",".join(HEADER)] + [",".join(delegate(i)) for i in range(1, MAX_ROWS + 2)]
    refused(httpx.post(url, content="\n".join(lines).encode(), params={"filename": "名册.csv"}, headers=headers,
                       timeout=60), f"{MAX_ROWS} 行")
    # over 20 MB: with a Content-Length it is refused unread; without one (chunked) at the limit
    big = b"x" * (20 * 2**20 + 1)
    refused(httpx.post(url, content=big, params={"filename": "名册.csv"}, headers=headers, timeout=60), "20 MB")
    refused(httpx.post(url, content=iter([big[:2**20]] * 21), params={"filename": "名册.csv"}, headers=headers,
                       timeout=60), "20 MB")

    assert nothing_imported(db, congress_id)
    accepted = httpx.post(url, files={"file": ("名册.csv", story_roster())}, headers=headers,
                          params={"create_groups": "1"}, timeout=60)
    assert accepted.status_code == 200, accepted.text


def test_the_command_line_refuses_a_zip_bomb_and_imports_nothing(db: Database, database_url: str,
                                                                  tmp_path: Path) -> None:
    with db.write() as session:
        congress_id = create_congress(Context(session, SETUP, system_clock()), "第十届职代会第三次会议", ["甲组"]).id
    path = tmp_path / "名册.xlsx"
    path.write_bytes(cell_bomb(400 * 2**20))
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["--database-url", database_url, "roster", "import", str(path), "--congress", str(congress_id)])
    assert code == 1
    assert "50 MB" in err.getvalue() and "未导入任何数据" in err.getvalue(), err.getvalue()
    assert nothing_imported(db, congress_id)
