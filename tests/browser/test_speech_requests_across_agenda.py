"""A request to speak (申请发言) is for the item it was made on and outlives a move of the agenda: the
delegate's page says it is still waiting under its item (also after a reload), staff's 发言 page
lists it under that item below the current queue, and when staff take it off the delegate is told.
It used to vanish from both pages without a word once staff moved the agenda."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, accessibility_problems, shot, sign_in_staff

pytestmark = pytest.mark.browser


def sign_in_delegate(open_page, site, employee_id: str):
    page = open_page("/sign-in", PHONE)
    page.get_by_label("工号", exact=True).fill(employee_id)
    page.get_by_label("访问码", exact=True).fill(site.story.codes[employee_id])
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url("**/delegate")
    expect(page.locator("#slot-room")).to_be_visible()
    return page


def test_a_request_to_speak_stays_waiting_on_its_item_when_staff_move_the_agenda_and_a_removal_is_told(
        site, open_page):
    story = site.story
    first, second = story.agenda[1], story.agenda[2]  # 表决《职工薪酬福利调整方案》, then 补选职工董事
    staff = site.staff()
    site.command(staff, "set_current_item", item_id=first["id"])
    speaker = next(d for d in story.voting() if not d.is_group_leader)
    page = sign_in_delegate(open_page, site, speaker.employee_id)
    room = page.locator("#slot-room")
    page.get_by_role("button", name="申请发言").click()
    page.get_by_label("发言题目").fill("关于倒班职工就餐")
    page.get_by_role("button", name="提交申请").click()
    expect(room).to_contain_text("您已申请发言（关于倒班职工就餐）")

    desk = sign_in_staff(open_page, site)
    desk.get_by_role("link", name="发言", exact=True).click()
    speakers = desk.locator("#view-speakers")
    expect(speakers.locator("#speaker-rows li")).to_have_count(1)

    # Staff move the agenda on: the request stays, under the item it was made on
    site.command(staff, "set_current_item", item_id=second["id"])
    # The item's own 《》 nest as 〈〉 inside the sentence's 《》
    still = "您在《表决〈职工薪酬福利调整方案〉》议程下的发言申请仍在等候（关于倒班职工就餐）"
    expect(room).to_contain_text(still)
    expect(room.get_by_role("button", name="撤回申请")).to_be_visible()
    expect(room.get_by_role("button", name="在当前议程申请发言")).to_be_visible()
    expect(speakers).to_contain_text(f"当前议程：{second['title']}")
    expect(speakers.locator("#speaker-rows")).to_have_count(0)
    expect(speakers).to_contain_text("没有等候发言的申请。")
    elsewhere = speakers.locator("#speakers-elsewhere")
    expect(elsewhere).to_contain_text("《表决〈职工薪酬福利调整方案〉》")
    expect(elsewhere).to_contain_text(speaker.name)
    expect(elsewhere).to_contain_text("关于倒班职工就餐")
    assert accessibility_problems(desk) == []
    shot(desk, "speakers-staff-request-on-an-earlier-item")

    # A reload fetches the page's state afresh: the request is still there
    page.reload()
    expect(room).to_contain_text(still)
    assert accessibility_problems(page) == []
    room.get_by_role("button", name="撤回申请").scroll_into_view_if_needed()
    shot(page, "speakers-delegate-request-still-waiting")

    # Staff take it off the list: the delegate is told, in words, which request and on which item
    elsewhere.get_by_role("button", name=f"移出：{speaker.name}").click()
    expect(speakers.locator("#speakers-elsewhere")).to_have_count(0)
    notice = room.get_by_role("alert")
    expect(notice).to_contain_text(
        "工作人员已将您在《表决〈职工薪酬福利调整方案〉》议程下的发言申请（关于倒班职工就餐）移出等候名单。")
    expect(room).not_to_contain_text("仍在等候")
    expect(room.get_by_role("button", name="申请发言")).to_be_visible()
    assert accessibility_problems(page) == []
    notice.scroll_into_view_if_needed()
    shot(page, "speakers-delegate-request-removed")
    room.get_by_role("button", name="知道了").click()
    expect(room.get_by_role("alert")).to_have_count(0)
