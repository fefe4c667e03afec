"""The plain /sign-in page (no ?congress=) with a rehearsal congress created after the real one: a
delegate's 工号 and code take them into the congress they open, and a code that opens both makes
the page ask which one."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from congress.actions.accounts import issue_codes
from congress.actions.base import Context
from congress.actions.roster import import_roster
from congress.actions.setup import create_congress
from congress.application.service import system_clock
from congress.db.models import Delegate
from tests.browser.conftest import PHONE, Site
from tests.story import GROUPS, SETUP, story_roster

pytestmark = pytest.mark.browser


def rehearsal_beside(site: Site, people: int = 20) -> tuple[int, dict[str, str]]:
    """A rehearsal congress (is_rehearsal) made after the story's, holding its first `people`
    delegates with codes of its own."""
    lines = story_roster().decode("utf-8-sig").splitlines()
    roster = "\n".join(lines[:people + 1]).encode()
    with site.db.write() as session:
        ctx = Context(session, SETUP, system_clock())
        congress_id = create_congress(ctx, "职代会演练", GROUPS, is_rehearsal=True).id
        import_roster(ctx, congress_id, roster, "roster.csv")
        codes = {c["employee_id"]: c["code"] for c in issue_codes(ctx, congress_id)}
    assert congress_id > site.story.congress_id
    return congress_id, codes


def sign_in(open_page: Any, employee_id: str, code: str) -> Any:
    page = open_page("/sign-in", PHONE)
    page.get_by_label("工号", exact=True).fill(employee_id)
    page.get_by_label("访问码", exact=True).fill(code)
    page.get_by_role("button", name="登录", exact=True).click()
    return page


def test_a_delegate_signs_in_to_their_congress_beside_a_newer_rehearsal(site, open_page):
    _rehearsal_id, rehearsal_codes = rehearsal_beside(site)
    delegate = site.story.delegates[0]
    assert delegate.employee_id in rehearsal_codes  # on both rosters, with different codes

    page = sign_in(open_page, delegate.employee_id, site.story.codes[delegate.employee_id])

    page.wait_for_url("**/delegate")
    expect(page.locator("#top")).to_contain_text("第十届职代会第三次会议")
    expect(page.locator("#me")).to_contain_text(delegate.name)


def test_a_code_that_opens_both_congresses_makes_the_page_ask_which_one(site, open_page):
    rehearsal_id, _codes = rehearsal_beside(site)
    delegate = site.story.delegates[0]
    with site.db.write() as session:  # the same code in both
        copy = session.scalar(sa.select(Delegate).where(Delegate.congress_id == rehearsal_id,
                                                        Delegate.employee_id == delegate.employee_id))
        copy.access_code_hash = session.get(Delegate, delegate.id).access_code_hash

    page = sign_in(open_page, delegate.employee_id, site.story.codes[delegate.employee_id])

    choice = page.locator("#delegate-choose")
    expect(choice).to_contain_text("请选择要进入的职代会")
    expect(choice.get_by_role("button")).to_have_count(2)
    choice.get_by_role("button", name="职代会演练").click()
    page.wait_for_url("**/delegate")
    expect(page.locator("#top")).to_contain_text("职代会演练")
