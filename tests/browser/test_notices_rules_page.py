"""The staff page's notice rules come from the server's table: the 不满意 rule (reopened) shows, on by
default, in Chinese and in English, and staff switch it off there without touching the others."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from congress.actions.base import Context
from congress.actions.notices import notices_view
from congress.application.service import system_clock
from tests.browser.conftest import sign_in_staff
from tests.browser.test_english_pages import to_english
from tests.story import SETUP

pytestmark = pytest.mark.browser


def rules(site) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    with site.db.read() as session:
        view = notices_view(Context(session, SETUP, system_clock()), site.story.congress_id)
    return {r["key"]: r["on"] for r in view["rules"]}


def test_staff_see_and_switch_off_the_reopened_rule(site, open_page):  # type: ignore[no-untyped-def]
    page = sign_in_staff(open_page, site)
    page.get_by_role("link", name="通知").click()
    box = page.get_by_label("提案人对答复不满意、重新办理时通知承办部门")
    expect(box).to_be_checked()
    before = rules(site)
    box.uncheck()
    page.locator("#notices-rules").get_by_role("button").click()
    expect(page.get_by_text("已保存")).to_be_visible()
    expect(page.get_by_label("提案人对答复不满意、重新办理时通知承办部门")).not_to_be_checked()
    assert rules(site) == {**before, "reopened": False}

    to_english(page)
    expect(page.get_by_label("Tell the department(s) when the proposer is not satisfied and the case is handled again")
           ).not_to_be_checked()
