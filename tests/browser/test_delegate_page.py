"""A delegate on a phone: signs in, checks in, votes through the confirmation step, and is told
"已记录" only once the server has acknowledged the ballot, with a receipt."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from congress.db.models import BallotCast
from tests.browser.conftest import PHONE, accessibility_problems, shot

pytestmark = pytest.mark.browser

RECEIPT = re.compile(r"^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$")


def test_delegate_on_a_phone_checks_in_votes_with_confirmation_and_sees_recorded_with_receipt(site, open_page):
    story = site.story
    checked_in = set(site.check_in_before_pages_open())  # 7 in 10 of each group: the quorum is met
    voter = next(d for d in story.voting() if d.employee_id not in checked_in and not d.is_group_leader)

    page = open_page("/sign-in", PHONE)
    expect(page.get_by_role("tab", name="职工代表")).to_have_attribute("aria-selected", "true")
    assert accessibility_problems(page) == []
    shot(page, "delegate-1-sign-in")
    page.get_by_label("工号", exact=True).fill(voter.employee_id)
    page.get_by_label("访问码", exact=True).fill(story.codes[voter.employee_id].lower())
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url("**/delegate")

    check_in = page.get_by_role("button", name="签到", exact=True)
    expect(check_in).to_be_visible()
    expect(page.locator("#figure-present")).to_have_text(str(len(checked_in)))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "the page scrolls sideways"
    assert accessibility_problems(page) == []
    shot(page, "delegate-2-before-check-in")
    check_in.click()
    expect(page.locator(".checked-in")).to_contain_text("已签到")
    expect(page.locator("#figure-present")).to_have_text(str(len(checked_in) + 1))

    staff = site.staff()
    site.command(staff, "set_current_item", item_id=story.agenda[1]["id"])
    expect(page.locator(".current-item .item-title")).to_have_text(story.agenda[1]["title"])
    vote = site.command(staff, "create_vote", agenda_item_id=story.agenda[1]["id"], title="表决《职工薪酬福利调整方案》",
                        questions=[{"kind": "yes_no", "text": "是否同意《职工薪酬福利调整方案》"},
                                   {"kind": "election", "text": "补选职工董事 2 名", "seats": 2,
                                    "candidates": ["周海燕", "陈立新", "王志远"]}])
    site.command(staff, "open_vote", vote_id=vote["id"])

    panel = page.locator(".vote-panel")
    expect(panel).to_contain_text("表决《职工薪酬福利调整方案》")
    panel.get_by_text("赞成", exact=True).click()
    panel.get_by_text("周海燕", exact=True).click()
    panel.get_by_text("王志远", exact=True).click()
    expect(panel.get_by_label("陈立新")).to_be_disabled()  # no more names than seats
    expect(panel).to_contain_text("最多选 2 人（已选 2 人）")
    assert accessibility_problems(page) == []
    shot(page, "delegate-3-choices", full_page=True)

    panel.get_by_role("button", name="下一步：确认选择").click()
    expect(panel).to_contain_text("请确认您的选择")
    expect(panel.locator(".confirm-list")).to_contain_text("赞成")
    expect(panel.locator(".confirm-list")).to_contain_text("周海燕、王志远")
    expect(panel).not_to_contain_text("已记录")
    shot(page, "delegate-4-confirm")
    with site.db.read() as session:  # nothing is cast before the confirmation
        assert session.scalar(sa.select(sa.func.count()).select_from(BallotCast)) == 0

    panel.get_by_role("button", name="确认投票").click()
    expect(panel.locator(".recorded")).to_contain_text("已记录")
    receipt = panel.locator(".receipt").inner_text()
    assert RECEIPT.match(receipt), receipt
    with site.db.read() as session:
        cast = session.scalars(sa.select(BallotCast).where(BallotCast.vote_id == vote["id"])).all()
        assert [c.delegate_id for c in cast] == [voter.id]
    shot(page, "delegate-5-recorded", docs="delegate-phone.png", full_page=True)

    page.reload()
    expect(page.locator(".vote-panel")).to_contain_text("我的选票已记录")
    expect(page.get_by_role("button", name="确认投票")).to_have_count(0)
    shot(page, "delegate-6-after-reload")


def test_delegate_page_switches_to_english_and_back(site, open_page):
    voter = site.story.voting()[0]
    page = open_page("/sign-in", PHONE)
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_label("Employee ID").fill(voter.employee_id)
    page.get_by_label("Access code").fill(site.story.codes[voter.employee_id])
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/delegate")
    expect(page.get_by_role("button", name="Check in", exact=True)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    shot(page, "delegate-english")
    page.get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("button", name="签到", exact=True)).to_be_visible()
