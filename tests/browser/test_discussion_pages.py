"""报告线上议、讨论群内提 in the browser: a delegate on a phone reads the Markdown work report, posts
into the group's room (markup in a message stays text), another group never sees it, the group's
leader submits the review opinion quoting it, and staff read it on 分组审议."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    ARTIFACTS,
    PHONE,
    accessibility_problems,
    keep_for_docs,
    shot,
    sign_in_staff,
)

pytestmark = pytest.mark.browser

CLOCK = re.compile(r"^[12]:\d\d$")
PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(2)>"
REPORT = """# 公司工作报告

## 一、2025 年工作回顾

过去一年，公司坚持以职工为中心，全年实现营业收入同比增长 6.8%，职工人均收入增长 5.2%。
安全生产形势总体平稳，完成了职工书屋、爱心驿站等十件实事。

| 项目 | 2024 年 | 2025 年 |
|---|---|---|
| 营业收入（亿元） | 41.2 | 44.0 |
| 职工培训（人次） | 3,820 | 4,560 |

## 二、2026 年工作安排

1. 深化厂务公开，落实职工代表巡视制度。
2. 推进一线岗位休息室改造，改善倒班职工就餐条件。

<script>alert('raw html in the file')</script>
"""


def sign_in_delegate(open_page, site, employee_id: str):
    page = open_page("/sign-in", PHONE)
    page.get_by_label("工号", exact=True).fill(employee_id)
    page.get_by_label("访问码", exact=True).fill(site.story.codes[employee_id])
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url("**/delegate")
    expect(page.locator("#slot-room")).to_be_visible()
    return page


def test_delegates_read_the_report_discuss_in_their_room_and_the_leader_submits_the_opinion(site, open_page):
    story = site.story
    item = story.agenda[0]  # 审议公司工作报告
    staff = site.staff()
    site.command(staff, "set_current_item", item_id=item["id"])
    uploaded = staff.post(f"/api/congresses/{story.congress_id}/documents",
                          data={"title": "公司工作报告", "agenda_item_id": str(item["id"])},
                          files={"file": ("公司工作报告.md", REPORT.encode(), "text/markdown")})
    assert uploaded.status_code == 200, uploaded.text

    group_ids = sorted({d.group_id for d in story.delegates})
    ours, theirs = group_ids[0], group_ids[1]
    leader = story.leader(ours)
    member = next(d for d in story.voting(ours) if not d.is_group_leader)
    outsider = next(d for d in story.voting(theirs) if not d.is_group_leader)

    # A delegate on a 360 px phone reads the work report in the page, rendered by the server
    page = sign_in_delegate(open_page, site, member.employee_id)
    docs = page.locator("#slot-documents")
    expect(docs).to_contain_text("公司工作报告")
    docs.get_by_role("button", name="阅读").click()
    frame = page.frame_locator(".doc-frame")
    expect(frame.locator("h1")).to_have_text("公司工作报告")
    expect(frame.locator("body")).to_contain_text("深化厂务公开")
    expect(frame.locator("body")).to_contain_text("<script>alert('raw html in the file')</script>")  # shown as text
    assert page.locator(".doc-frame").get_attribute("sandbox") == ""
    frame_width = page.locator(".doc-frame").evaluate("f => f.clientWidth")
    assert 300 <= frame_width <= PHONE["width"]
    assert frame.locator("html").evaluate("d => d.scrollWidth") <= frame_width + 1, "the report scrolls sideways"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "the page scrolls sideways"
    page.locator(".doc-reader").scroll_into_view_if_needed()
    shot(page, "discussion-1-delegate-reads-report")

    # Another group's delegate is on the page before the message is posted
    other = sign_in_delegate(open_page, site, outsider.employee_id)

    # The member posts markup: it shows as the characters typed, and nothing runs
    room = page.locator("#slot-room")
    room.get_by_label("发言（不超过 1000 字）").fill(PAYLOAD)
    expect(room.locator(".room-counter")).to_contain_text(f"{len(PAYLOAD)} / 1000")
    room.get_by_role("button", name="发送", exact=True).click()
    message = room.locator("#room-messages .msg").last
    expect(message.locator(".msg-text")).to_have_text(PAYLOAD)
    expect(message.locator(".msg-author")).to_have_text(member.name)
    assert room.locator("img, script").count() == 0
    room.get_by_label("发言（不超过 1000 字）").fill("建议把一线岗位休息室改造列入今年的十件实事。")
    room.get_by_role("button", name="发送", exact=True).click()
    expect(room.locator("#room-messages .msg")).to_have_count(2)
    page.wait_for_timeout(300)  # an onerror handler, had the markup become an element, would have fired by now
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert accessibility_problems(page) == []
    room.scroll_into_view_if_needed()
    room_shot = ARTIFACTS / "discussion-2-group-room.png"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    room.screenshot(path=str(room_shot))
    assert room_shot.stat().st_size < 300 * 1024
    keep_for_docs(room_shot, "group-room.png")

    # The other group's room gets its own messages live, and never this one
    other_room = other.locator("#slot-room")
    other_room.get_by_label("发言（不超过 1000 字）").fill("我们组同意报告。")
    other_room.get_by_role("button", name="发送", exact=True).click()
    expect(other_room.locator("#room-messages .msg")).to_have_count(1)
    expect(other_room).not_to_contain_text("alert(1)")
    expect(other_room).not_to_contain_text("休息室改造列入")
    expect(room).not_to_contain_text("我们组同意报告")

    # The leader drafts the group's opinion quoting the message, and submits it to the presidium
    lead = sign_in_delegate(open_page, site, leader.employee_id)
    lead_room = lead.locator("#slot-room")
    expect(lead_room.locator("#room-messages .msg-text").first).to_have_text(PAYLOAD)
    expect(lead_room.get_by_role("button", name="隐藏").first).to_be_visible()
    panel = lead_room.locator(".opinion-panel")
    panel.get_by_label("赞同意见", exact=True).fill("同意公司工作报告。")
    panel.get_by_label("建议", exact=True).fill("一线岗位休息室改造应列入十件实事。")
    panel.locator(".opinion-pick label").filter(has_text="alert(1)").click()
    panel.get_by_role("button", name="保存草稿").click()
    expect(panel).to_contain_text("草稿已保存")
    panel.get_by_role("button", name="报送主席团").click()
    panel.get_by_role("button", name="确认报送").click()
    expect(lead.locator("#opinion-submitted")).to_be_visible()
    expect(panel.locator("textarea")).to_have_count(0)  # read-only from now on
    expect(panel.locator(".opinion-quotes")).to_contain_text(PAYLOAD)
    assert lead.locator("#slot-room img, #slot-room script").count() == 0
    panel.scroll_into_view_if_needed()
    shot(lead, "discussion-3-leader-submitted")
    # The member sees the submitted opinion live
    expect(page.locator("#opinion-submitted")).to_be_visible()

    # Staff read every group's opinion side by side on 分组审议
    desk = sign_in_staff(open_page, site)
    desk.get_by_role("link", name="分组审议").click()
    grid = desk.locator("#opinion-grid")
    card = grid.locator(f'.opinion-card[data-group="{ours}"]')
    expect(card).to_contain_text("已报送")
    expect(card).to_contain_text("同意公司工作报告。")
    expect(card.locator(".opinion-quotes")).to_contain_text(PAYLOAD)
    expect(grid.locator(".opinion-card")).to_have_count(len(group_ids))
    expect(desk.get_by_role("link", name="导出 Excel")).to_have_attribute(
        "href", f"/api/congresses/{story.congress_id}/opinions/{item['id']}/export.xlsx")
    card.get_by_label("处理情况").select_option("已采纳")
    card.get_by_role("button", name="登记处理情况").click()
    expect(card).to_contain_text("处理情况：已采纳")
    assert desk.locator("#view-opinions img, #view-opinions script").count() == 0
    assert accessibility_problems(desk) == []
    shot(desk, "discussion-4-staff-group-reviews", full_page=True)
    expect(lead.locator(".opinion-panel")).to_contain_text("处理情况：已采纳")


def test_staff_upload_and_table_a_document_and_run_the_speakers_list(site, open_page):
    story = site.story
    item = story.agenda[0]
    staff = site.staff()
    site.command(staff, "set_current_item", item_id=item["id"])
    speaker = next(d for d in story.voting() if not d.is_group_leader)
    page = sign_in_delegate(open_page, site, speaker.employee_id)

    # Staff upload the report through the form, then table it (提交大会审议)
    desk = sign_in_staff(open_page, site)
    desk.get_by_role("link", name="文件", exact=True).click()
    view = desk.locator("#view-documents")
    view.get_by_label("文件标题").fill("公司工作报告")
    view.get_by_label("文件（PDF 或 Markdown）").set_input_files(
        files=[{"name": "公司工作报告.md", "mimeType": "text/markdown", "buffer": REPORT.encode()}])
    view.get_by_role("button", name="上传文件").click()
    expect(view).to_contain_text("文件已上传")
    expect(view.locator(".doc-row")).to_have_count(1)
    view.get_by_role("button", name="提交大会审议").click()
    expect(view.locator(".doc-row")).to_contain_text("已提交大会审议")
    expect(page.locator("#slot-documents")).to_contain_text("已提交大会审议")  # live on the delegate's page
    view.get_by_label("《公司工作报告》的新版本文件").set_input_files(
        files=[{"name": "公司工作报告.md", "mimeType": "text/markdown", "buffer": (REPORT + "\n（修订稿）\n").encode()}])
    view.get_by_role("button", name="上传新版本").click()
    expect(view.locator(".doc-row .hint")).to_contain_text("第 2 版")
    expect(page.locator("#slot-documents")).to_contain_text("第 2 版")
    shot(desk, "discussion-5-staff-documents")

    # The delegate asks to speak; staff give the floor with a time limit, then end it
    page.get_by_role("button", name="申请发言").click()
    page.get_by_label("发言题目").fill("关于倒班职工就餐")
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("#slot-room")).to_contain_text("您已申请发言（关于倒班职工就餐）")
    desk.get_by_role("link", name="发言", exact=True).click()
    speakers = desk.locator("#view-speakers")
    expect(speakers.locator("#speaker-rows li")).to_have_count(1)
    expect(speakers).to_contain_text(speaker.name)
    speakers.get_by_label("发言时长（秒）").fill("120")
    speakers.get_by_role("button", name="请发言").click()
    expect(speakers.locator(".floor-name")).to_have_text(speaker.name)
    expect(speakers.locator(".countdown")).to_have_text(CLOCK)
    expect(page.locator("#slot-room .floor-name")).to_have_text(speaker.name)
    expect(page.locator("#slot-room .countdown")).to_have_text(CLOCK)
    shot(desk, "discussion-6-staff-speakers")
    speakers.get_by_role("button", name="结束发言").click()
    expect(page.locator("#slot-room")).to_contain_text("当前无人发言")
    assert accessibility_problems(desk) == []
