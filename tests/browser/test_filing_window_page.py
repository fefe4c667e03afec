"""提案征集 and the progress report in the browser: staff set the filing window on the setup page;
a delegate already on their phone sees it change (the live event), with what a proposal filed now
becomes; the observers' board shows it; staff download 提案办理情况报告 as PDF and XLSX."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from congress.db.models import Congress
from tests.browser.conftest import LAPTOP, accessibility_problems, shot, sign_in_delegate, sign_in_staff

pytestmark = pytest.mark.browser


def test_staff_set_the_filing_window_and_a_delegate_sees_it(site, open_page):
    story = site.story
    delegate = sign_in_delegate(open_page, site, story.voting()[0].employee_id)
    mine = delegate.locator("[data-slot=proposals]")
    expect(mine).to_contain_text("我的提案")
    expect(mine.locator(".p-filing-window")).to_have_count(0)  # no window set: nothing said

    staff = sign_in_staff(open_page, site)
    staff.get_by_role("link", name="会议设置").click()
    staff.get_by_label("征集开始").fill("2020-03-01T08:00")
    staff.get_by_label("征集截止").fill("2020-03-15T18:00")
    form = staff.locator("form", has=staff.get_by_label("征集截止"))
    expect(form).to_contain_text("截止后提交的提案作为平时提案办理")
    form.get_by_role("button", name="保存").click()
    expect(form.locator(".form-status")).to_have_text("已保存")
    with site.db.read() as session:  # the page sends local time (Asia/Shanghai): 08:00 is 00:00 UTC
        congress = session.get(Congress, story.congress_id)
        assert congress.filing_opens_at == datetime(2020, 3, 1, 0, 0, tzinfo=UTC)
        assert congress.filing_closes_at == datetime(2020, 3, 15, 10, 0, tzinfo=UTC)
    assert accessibility_problems(staff) == []

    line = mine.locator(".p-filing-window")
    expect(line).to_contain_text("提案征集：3 月 1 日 08:00 至 3 月 15 日 18:00")
    expect(line).to_contain_text("征集已截止：此后提交的提案作为平时提案办理。")
    mine.scroll_into_view_if_needed()
    shot(delegate, "filing-window-delegate-phone")

    site.command(site.staff(), "set_rules", rules={"late_proposals": "refuse"})
    expect(line).to_contain_text("征集已截止：不再接受新的提案。")

    watch = open_page(f"/watch?congress={story.congress_id}", LAPTOP)
    expect(watch.locator(".p-board-window")).to_contain_text("提案征集：3 月 1 日 08:00 至 3 月 15 日 18:00")

    # The progress report, as of a chosen day, from the staff's 提案 view
    staff.get_by_role("navigation").get_by_role("link", name="提案").click()
    staff.get_by_label("统计截至").fill("2020-03-20")
    with staff.expect_download() as pdf:
        staff.get_by_role("link", name="下载报告（PDF）").click()
    assert pdf.value.suggested_filename == "提案办理情况报告-2020-03-20.pdf"
    assert open(pdf.value.path(), "rb").read(5) == b"%PDF-"
    with staff.expect_download() as xlsx:
        staff.get_by_role("link", name="下载报告（XLSX）").click()
    book = load_workbook(io.BytesIO(open(xlsx.value.path(), "rb").read()))
    assert book.sheetnames == ["概况", "超期未答复", "承办部门", "分类统计"]
    assert book["概况"]["A2"].value == "统计截至 2020 年 3 月 20 日"
