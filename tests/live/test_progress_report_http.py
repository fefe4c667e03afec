"""提案办理情况报告 over HTTP from a real server, on both databases: staff get the PDF and the
XLSX for a day; a bad date or format names what is wrong; a delegate and an anonymous reader are
refused."""

from __future__ import annotations

import io

import httpx
from openpyxl import load_workbook

from congress.settings import Settings
from tests.story import LiveServer, build_story, sign_in


def test_staff_download_the_report_and_nobody_else_does(db, database_url):
    story = build_story(db)
    server = LiveServer(Settings(database_url=database_url, port=0)).start()
    try:
        base = f"{server.url}/api/congresses/{story.congress_id}/proposals/report"
        staff, _ = sign_in(server.url, {"login": story.staff_login, "password": story.staff_password})
        delegate = story.voting()[0]
        as_delegate, _ = sign_in(server.url, {"employee_id": delegate.employee_id, "code": story.codes[delegate.employee_id],
                                              "congress_id": story.congress_id})

        def get(path: str, cookie: str | None = staff) -> httpx.Response:
            return httpx.get(base + path, cookies={"congress_session": cookie} if cookie else None, timeout=60)

        pdf = get(".pdf?date=2027-03-10")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
        assert pdf.headers["content-disposition"].endswith(".pdf") and "2027-03-10" in \
            httpx.URL("/?f=" + pdf.headers["content-disposition"].split("''", 1)[1]).params["f"]
        xlsx = get(".xlsx?date=2027-03-10")
        assert xlsx.status_code == 200
        assert load_workbook(io.BytesIO(xlsx.content))["概况"]["A2"].value == "统计截至 2027 年 3 月 10 日"
        assert get(".xlsx").status_code == 200  # no date: today

        bad_day = get(".pdf?date=10/03/2027")
        assert bad_day.status_code == 400 and bad_day.json()["error"]["code"] == "bad_field"
        assert "date" in bad_day.json()["error"]["message"]
        bad_kind = get(".docx?date=2027-03-10")
        assert bad_kind.status_code == 400 and "pdf 或 xlsx" in bad_kind.json()["error"]["message"]
        refused = get(".pdf?date=2027-03-10", as_delegate)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
        anonymous = get(".pdf?date=2027-03-10", None)
        assert anonymous.status_code == 403 and anonymous.json()["error"]["code"] == "read_only"  # an observer
    finally:
        server.stop()
