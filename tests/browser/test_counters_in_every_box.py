"""No box cuts text silently (issue 21, minor 18, the rest of it): the group leader's 审议意见 parts,
the topic of a request to speak and the reason for hiding a message count as people type against
the server's limits (10,000, 300 and 500 characters), keep a long paste whole, and refuse it in
words instead of sending a text the browser had cut (they had maxlength 5000, 200 and 200)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE

pytestmark = pytest.mark.browser


def sign_in_delegate(open_page, site, employee_id):  # type: ignore[no-untyped-def]
    page = open_page("/sign-in", PHONE)
    page.get_by_label("工号", exact=True).fill(employee_id)
    page.get_by_label("访问码", exact=True).fill(site.story.codes[employee_id])
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url("**/delegate")
    return page


def test_the_leaders_boxes_count_and_refuse_a_long_text_in_words_instead_of_cutting_it(site, open_page):
    story = site.story
    item = story.agenda[0]
    site.command(site.staff(), "set_current_item", item_id=item["id"])
    group = story.voting()[0].group_id
    member = next(d for d in story.voting(group) if not d.is_group_leader)
    posted = site.command(site.delegate(member.employee_id), "post_message", text="不相干的广告", agenda_item_id=item["id"])
    page = sign_in_delegate(open_page, site, story.leader(group).employee_id)
    for control in ("#opinion-agreement", "#opinion-suggestions", "#opinion-objections"):
        expect(page.locator(control)).to_be_visible()
        assert page.locator(control).get_attribute("maxlength") is None

    # 审议意见: 10,001 characters stay whole; saving is refused in words, and nothing is sent.
    agreement = page.locator("#opinion-agreement")
    expect(page.locator("#opinion-agreement-count")).to_have_text("0 / 10000 字")
    agreement.fill("同" * 10001)
    assert agreement.evaluate("el => el.value.length") == 10001
    expect(page.locator("#opinion-agreement-count")).to_have_text("10001 / 10000 字 · 超出 1 字，请删减")
    page.locator("#opinion-save").click()
    expect(page.locator(".opinion-panel .form-status")).to_have_text("赞同意见：内容太长：最多 10000 字，请删减 1 字后再发送。")
    expect(page.locator("#opinion-agreement")).to_be_focused()
    page.locator("#opinion-agreement").fill("同意报告。")
    expect(page.locator("#opinion-agreement-count")).to_have_text("5 / 10000 字")
    page.locator("#opinion-save").click()
    expect(page.locator(".opinion-panel .form-status")).to_have_text("草稿已保存。")

    # 申请发言: a topic of 320 characters is kept and refused; 300 go.
    page.locator("#speak-open").click()
    topic = page.locator("#speak-topic")
    assert topic.get_attribute("maxlength") is None
    topic.fill("题" * 320)
    assert topic.evaluate("el => el.value.length") == 320
    expect(page.locator("#speak-topic-count")).to_have_text("320 / 300 字 · 超出 20 字，请删减")
    page.locator(".speak-form button[type=submit]").click()
    expect(page.locator(".speak-form .form-status")).to_have_text("内容太长：最多 300 字，请删减 20 字后再发送。")

    # 隐藏: the reason counts against 500.
    page.locator(f"#msg-{posted['id']}-hide").click()
    reason = page.locator(f"#hide-reason-{posted['id']}")
    assert reason.get_attribute("maxlength") is None
    reason.fill("由" * 600)
    assert reason.evaluate("el => el.value.length") == 600
    expect(page.locator(f"#hide-reason-{posted['id']}-count")).to_have_text("600 / 500 字 · 超出 100 字，请删减")
    page.locator(".hide-form button[type=submit]").click()
    expect(page.locator(".hide-form .form-status")).to_have_text("内容太长：最多 500 字，请删减 100 字后再发送。")
    expect(page.locator(f"#msg-{posted['id']}")).not_to_have_class("is-hidden")
