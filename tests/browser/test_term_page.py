"""本届 in the browser (issue 19, point 2): staff start the story's next session from the page, open
it, see the previous session's open proposals all ticked, carry them over, and read the statistics
of both sessions and of the term as charts and tables; the board marks a carried proposal
上次会议转入; the new session's roster re-import previews exactly
the changes made to it; nothing of the view reaches past a phone's width."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from playwright.sync_api import expect

from congress.actions.base import Context
from congress.application.service import system_clock
from congress.db.models import Proposal
from congress.domain.terms import OPEN_STATUSES
from tests.browser.conftest import PHONE, accessibility_problems, shot, sign_in_staff
from tests.db.test_terms import _changed_roster
from tests.story import SETUP, story_with_demo_proposals

pytestmark = pytest.mark.browser


def test_staff_start_the_next_session_carry_open_proposals_and_read_the_terms_statistics(site, open_page, tmp_path):
    cid = site.story.congress_id
    with site.db.write() as session:
        story_with_demo_proposals(Context(session, SETUP, system_clock()), cid)
    with site.db.read() as session:
        open_numbers = list(session.scalars(sa.select(Proposal.number).where(
            Proposal.congress_id == cid, Proposal.status.in_(OPEN_STATUSES)).order_by(Proposal.number)))
    assert len(open_numbers) >= 30

    staff = sign_in_staff(open_page, site)
    staff.goto(site.url + f"/staff?congress={cid}#term")
    view = staff.locator("#view-term")
    expect(view.get_by_role("heading", name="本届 · 第十届第三次")).to_be_visible()
    expect(view.locator("#term-sessions tbody tr")).to_have_count(2)  # the session and the whole term
    expect(view.locator("#term-carry")).to_contain_text("本次会议是本届的第一次会议")

    view.get_by_role("button", name="开始本届的下一次会议").click()
    dialog = staff.get_by_role("dialog")
    dialog.get_by_role("button", name="开始本届的下一次会议").click()
    expect(view.locator("#term-next-done")).to_contain_text("已开始第十届第四次会议：第十届职代会第四次会议")
    view.get_by_role("link", name="打开新会议").click()
    staff.wait_for_url("**/staff?congress=*#term")
    view = staff.locator("#view-term")
    expect(view.get_by_role("heading", name="本届 · 第十届第四次")).to_be_visible()
    boxes = view.locator("#term-candidates input[type=checkbox]")
    expect(boxes).to_have_count(len(open_numbers))
    for i in range(len(open_numbers)):
        expect(boxes.nth(i)).to_be_checked()
    # Leave all but 30 behind
    for i in range(30, len(open_numbers)):
        boxes.nth(i).uncheck()
    view.get_by_role("button", name="转入所选的 30 件提案").click()
    expect(view.locator("#term-carry-status")).to_have_text("已从第十届第三次会议转入 30 件提案")
    expect(view.locator("#term-candidates").get_by_text("已转入")).to_have_count(30)

    rows = view.locator("#term-sessions tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("第十届第三次")
    expect(rows.nth(1).locator("td").nth(0)).to_have_text("30")
    expect(rows.nth(1).locator("td").nth(3)).to_have_text("30")  # carried in
    charts = view.locator(".term-chart")
    expect(charts).to_have_count(3)
    for i in range(3):
        expect(charts.nth(i).locator(".chart-row")).to_have_count(3)  # two sessions and the term
        expect(charts.nth(i).locator("svg.bar")).to_have_count(3)
    # each bar reads as its rate, as the table beside it does (not the bar's scale of 1000)
    for i in range(3):
        for row in range(3):
            numbers = charts.nth(i).locator(".chart-row").nth(row).locator(".chart-numbers").inner_text()
            assert re.fullmatch(r"\d{1,3}\.\d%|—", numbers), numbers
    expect(view.locator("#term-year-on-year li")).to_contain_text("第十届第三次 → 第十届第四次")
    expect(view.locator("#term-by-department tbody tr").first).to_be_visible()
    assert accessibility_problems(staff) == []
    shot(staff, "term-staff", docs="term-statistics.png", full_page=True)

    # The new session's roster re-imported: the preview lists exactly the changes, then the import
    data, expected = _changed_roster()
    path = tmp_path / "名册.csv"
    path.write_bytes(data)
    staff.goto(staff.url.split("#")[0] + "#roster")
    roster = staff.locator("#view-roster")
    roster.locator("#roster-file").set_input_files(str(path))
    roster.locator("#roster-check").click()
    changes = roster.locator("#roster-changes")
    expect(changes.locator("li[data-change=added]")).to_have_count(1)
    expect(changes.locator("li[data-change=added]")).to_contain_text("新增：新代表（E99001，长沙）")
    expect(changes.locator("li[data-change=left]")).to_have_count(2)
    for employee_id, name in expected["left"]:
        expect(changes.locator("li[data-change=left]", has_text=f"{name}（{employee_id}")).to_have_count(1)
    expect(changes.locator("li[data-change=changed]")).to_have_count(4)
    expect(changes.locator("li[data-change=changed]", has_text="→ 宁波")).to_have_count(1)
    roster.locator("#roster-confirm").click()
    expect(roster.locator("#roster-summary")).to_contain_text("已导入")
    expect(roster.locator("#roster-changes li")).to_have_count(7)

    # The public board marks a carried proposal, on a phone too
    new_id = int(staff.url.split("congress=")[1].split("#")[0])
    # The register staff download has the sessions' sheets and 届汇总 with its charts
    response = site.staff().get(f"/api/congresses/{new_id}/proposals/register.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["提案汇总表", "第十届第三次统计", "第十届第四次统计", "届汇总"]
    assert len(book["届汇总"]._charts) == 2
    watch = open_page(f"/watch?congress={new_id}", PHONE)
    expect(watch.get_by_text(f"上次会议转入（第十届第三次 {open_numbers[0]} 号）")).to_be_visible()
    expect(watch.locator("header .subtitle")).to_contain_text("第十届第四次")  # 第N届第M次 under the name

    staff.set_viewport_size(PHONE)
    staff.goto(staff.url.split("#")[0] + "#term")
    staff.reload()
    expect(staff.locator("#term-sessions")).to_be_visible()
    # Nothing of the view reaches past a phone's width (its tables scroll inside their own box)
    wide = staff.evaluate("""() => [...document.querySelectorAll('#view-term *')].filter((e) =>
        e.getBoundingClientRect().right > window.innerWidth + 1).map((e) => e.tagName + '#' + e.id)""")
    assert wide == []
