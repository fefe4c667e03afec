"""Text from people is shown as text, never run as markup; and a page rides through a server
restart: the badge shows while it is away, goes when it is back, and later events arrive."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LAPTOP, PHONE, PROJECTOR, shot, sign_in_staff

pytestmark = pytest.mark.browser

PAYLOAD = '<script>alert(1)</script><img src=x onerror="alert(2)">审议<b>报告</b>'


def test_an_agenda_title_with_markup_shows_as_text_everywhere(site, open_page, watched):
    story = site.story
    watch = open_page(f"/watch?congress={story.congress_id}", LAPTOP)
    screen = open_page(f"/screen?congress={story.congress_id}", PROJECTOR)
    staff = sign_in_staff(open_page, site)
    staff.get_by_role("link", name="议程").click()
    staff.get_by_label("标题", exact=True).fill(PAYLOAD)
    staff.get_by_label("说明", exact=True).fill('<a href="javascript:alert(3)">点我</a>')
    staff.get_by_role("button", name="添加议程").click()
    row = staff.locator("#agenda-rows li").filter(has_text="<script>")
    expect(row.locator(".agenda-title")).to_have_text(PAYLOAD)
    row.get_by_role("button", name="设为当前").click()
    shot(staff, "xss-staff-agenda")

    delegate = next(d for d in story.voting())
    phone = open_page("/sign-in", PHONE)
    phone.get_by_label("工号", exact=True).fill(delegate.employee_id)
    phone.get_by_label("访问码", exact=True).fill(story.codes[delegate.employee_id])
    phone.get_by_role("button", name="登录", exact=True).click()
    phone.wait_for_url("**/delegate")

    for page, selector in ((watch, ".current-item .item-title"), (screen, "#screen-item"), (phone, ".current-item .item-title")):
        expect(page.locator(selector)).to_have_text(PAYLOAD)
        assert page.locator("main img, main b, main a[href^='javascript']").count() == 0
        assert page.evaluate("document.querySelectorAll('script:not([src])').length") == 0
    expect(watch.locator(".item-description")).to_have_text('<a href="javascript:alert(3)">点我</a>')
    shot(watch, "xss-watch")
    shot(phone, "xss-delegate")
    phone.wait_for_timeout(300)
    assert watched.dialogs == []


def test_the_page_recovers_after_the_server_restarts(site, open_page):
    story = site.story
    delegate = story.voting()[0]
    page = open_page("/sign-in", PHONE)
    page.get_by_label("工号", exact=True).fill(delegate.employee_id)
    page.get_by_label("访问码", exact=True).fill(story.codes[delegate.employee_id])
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url("**/delegate")
    badge = page.locator(".live-badge")
    expect(page.get_by_role("button", name="签到", exact=True)).to_be_visible()
    expect(badge).to_be_hidden()

    port = site.server.port
    site.server.stop()  # the server closes its sockets with 1012 (restarting)
    expect(badge).to_be_visible()
    expect(badge).to_have_text("重新连接中…")
    shot(page, "restart-1-reconnecting")
    # Checking in while the server is away: the command waits and goes out after the reconnect.
    page.get_by_role("button", name="签到", exact=True).click()
    expect(page.locator("#checkin-button")).to_have_text("正在提交…")

    site.restart()
    assert site.server.port == port
    expect(badge).to_be_hidden(timeout=40_000)
    expect(page.locator(".checked-in")).to_contain_text("已签到")
    staff = site.staff()
    item = site.command(staff, "add_agenda_item", kind="审议", title="重启后新增的议程")
    site.command(staff, "set_current_item", item_id=item["id"])
    expect(page.locator(".current-item .item-title")).to_have_text("重启后新增的议程")
    expect(page.locator("#figure-present")).to_have_text("1")
    shot(page, "restart-2-recovered")
