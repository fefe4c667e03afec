"""The staff's 云听会观看链接 form in token mode (issue 18, point 2): the server makes the watch
link's secret and the page shows the full link once; it works on /watch, a page without it is
asked for the token, a reload does not show it again, and a short token of staff's own is refused
in words."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import LAPTOP, accessibility_problems, shot, sign_in_staff


def test_staff_get_the_generated_watch_link_once_and_it_lets_observers_in(site, open_page):
    congress_id = site.story.congress_id
    page = sign_in_staff(open_page, site)
    page.get_by_role("link", name="会议设置").click()
    form = page.locator("form", has=page.get_by_role("heading", name="云听会观看链接"))

    # A token of staff's own must be long enough: refused in words, nothing changes
    form.get_by_label("需要观看口令").check()
    form.get_by_label("自定义观看口令（可不填）").fill("观看口令-2027")
    form.get_by_role("button", name="保存").click()
    expect(form.locator(".form-status")).to_contain_text("至少 16 个字符")

    form.get_by_label("自定义观看口令（可不填）").fill("")
    form.get_by_role("button", name="保存").click()
    once = page.locator("#watch-link-once")
    expect(once).to_contain_text("只显示这一次")
    link = page.locator("#watch-link-full").inner_text()
    match = re.fullmatch(rf"{re.escape(site.server.url)}/watch\?congress={congress_id}&watch=([A-Za-z0-9_-]+)", link)
    assert match is not None, link
    token = match.group(1)
    assert len(token) >= 16
    assert accessibility_problems(page) == []
    shot(page, "staff-watch-link-once", full_page=True)

    # The link lets an observer in; the page without it asks for the token
    watcher = open_page(f"/watch?congress={congress_id}&watch={token}", LAPTOP)
    expect(watcher.locator("header")).to_contain_text("第十届职代会第三次会议")  # the hello came
    expect(watcher.get_by_role("alert")).to_have_count(0)
    bare = open_page(f"/watch?congress={congress_id}", LAPTOP)
    expect(bare.get_by_text("观看本次职代会需要观看口令。")).to_be_visible()

    # Shown once: after a reload the page says how to get a new one, and has no secret in it
    page.reload()
    page.get_by_role("link", name="会议设置").click()
    expect(page.locator("#watch-link-hidden")).to_be_visible()
    expect(page.locator("#watch-link-once")).to_have_count(0)
    assert token not in page.content()
