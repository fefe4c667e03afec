"""The staff page's notices section: staff add a group robot's webhook and see it masked (its key is
nowhere on the page), and a notice the robot keeps refusing is listed as failed, naming the channel
and the department, on a phone-narrow window too, and in English."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from congress.actions.casework import assign_proposal
from congress.application.notice_sender import Sender
from congress.db.models import Notice
from congress.domain.notices import MAX_ATTEMPTS
from tests.browser.conftest import accessibility_problems, shot, sign_in_staff
from tests.browser.test_english_pages import assert_all_english, to_english
from tests.db.test_casework import registered
from tests.db.test_proposals import act
from tests.notices.conftest import SetClock, robots  # noqa: F401  (the robot receiver fixture)
from tests.story import SETUP

pytestmark = pytest.mark.browser
KEY = "page-key-0f3a9c-7777"


def test_staff_set_a_webhook_see_it_masked_and_see_a_failed_notice(site, open_page, robots):  # noqa: F811
    page = sign_in_staff(open_page, site)
    page.get_by_role("link", name="通知").click()
    expect(page.locator("#notices-outbox")).to_contain_text("发送失败 0")
    page.get_by_label("通知对象", exact=True).select_option(label="承办部门")
    page.get_by_label("承办部门（通知对象为承办部门时）").select_option(label="人力资源部")
    page.get_by_label("方式", exact=True).select_option(label="企业微信群机器人")
    page.get_by_label("邮件地址或 Webhook 地址").fill(robots.url(f"/wecom/refuse?key={KEY}"))
    page.get_by_role("button", name="添加通知渠道").click()

    row = page.locator("#notices-channels tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("人力资源部")
    expect(row).to_contain_text("企业微信群机器人")
    expect(row).to_contain_text("127.0.0.1:")
    expect(row).to_contain_text("/…7777")
    assert KEY not in page.content()  # masked from the moment it is saved; the input was emptied

    a, b, c = site.story.voting()[:3]
    p = registered(site.db, site.story, a, [b, c])
    act(site.db, SETUP, assign_proposal, site.story.congress_id, p["id"], "人力资源部")
    clock = SetClock(datetime.now(UTC))
    sender = Sender(site.db, clock)
    for _ in range(MAX_ATTEMPTS + 1):  # the server's own sender may take a turn too: either one's attempts count
        sender.drain()
        clock.advance(hours=2)
    with site.db.read() as session:
        assert session.scalar(sa.select(Notice.status)) == "failed"

    page.reload()
    page.get_by_role("link", name="通知").click()
    failures = page.locator("#notices-failures li")
    expect(failures).to_have_count(1)
    expect(failures.first).to_contain_text("通知发送失败：【提案交办】")
    expect(failures.first).to_contain_text("企业微信群机器人 → 人力资源部")
    expect(page.locator("#notices-outbox")).to_contain_text("发送失败 1")
    assert KEY not in page.content()
    assert accessibility_problems(page) == []
    shot(page, "staff-notices", docs="staff-notices.png", full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the section still reads
    expect(failures.first).to_be_visible()
    shot(page, "staff-notices-phone", full_page=True)

    to_english(page)  # the section in English: only people's words (and the server's) stay as written
    expect(page.locator("#notices-outbox")).to_contain_text("failed 1")
    assert_all_english(page, "the staff's notices view")
