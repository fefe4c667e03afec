"""The staff page on a phone once the congress has a next session (issue 19 follow-up): with two
congresses of one 届, none of the staff page's main views is wider than a 390×844 screen, in zh-CN
and in English."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from congress.actions.base import Context
from congress.actions.terms import start_next_session
from congress.application.service import system_clock
from tests.browser.conftest import sign_in_staff
from tests.browser.test_english_pages import to_english
from tests.story import SETUP, story_with_demo_proposals

pytestmark = pytest.mark.browser

PHONE_390 = {"width": 390, "height": 844}
# The views with wide tables, read once they are filled (the rest render from the snapshot)
FILLED = {"desk": "#view-desk tbody tr", "accounts": "#view-accounts tbody tr", "term": "#term-sessions tbody tr"}
VIEWS = ["setup", "roster", "desk", "agenda", "votes", "proposals", "documents", "opinions", "rooms",
         "speakers", "accounts", "notices", "term"]

# What reaches past the screen: the outermost elements wider than the viewport (for the message)
OVERFLOW = """() => {
  const width = window.innerWidth;
  const wide = [...document.body.querySelectorAll('*')].filter((e) => e.getBoundingClientRect().right > width + 1
    && !(e.parentElement && e.parentElement.getBoundingClientRect().right > width + 1));
  return {scroll: document.documentElement.scrollWidth, width,
          wide: wide.slice(0, 8).map((e) => e.tagName + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).join('.') : ''))};
}"""


def _views_too_wide(page: Any, base: str) -> dict[str, Any]:
    found = {}
    for view in VIEWS:
        page.goto(f"{base}#{view}")
        expect(page.locator(f"#view-{view}")).to_be_visible()
        if view in FILLED:
            expect(page.locator(FILLED[view]).first).to_be_visible()
        measured = page.evaluate(OVERFLOW)
        if measured["scroll"] > measured["width"]:
            found[view] = measured
    return found


def test_the_staff_pages_views_fit_a_phone_with_two_sessions_of_a_term(site, open_page):
    cid = site.story.congress_id
    with site.db.write() as session:
        ctx = Context(session, SETUP, system_clock())
        story_with_demo_proposals(ctx, cid)
        # A long name, as a company writes it in full: the congress picker lists both
        new_id = start_next_session(ctx, cid, "湖南某某纸业集团有限公司第十届职工代表大会第四次会议")["id"]

    staff = sign_in_staff(open_page, site)
    staff.set_viewport_size(PHONE_390)
    for congress_id in (cid, new_id):
        base = site.url + f"/staff?congress={congress_id}"
        staff.goto(base)
        expect(staff.locator("#congress-picker option")).to_have_count(2)
        assert _views_too_wide(staff, base) == {}, f"zh-CN, congress {congress_id}"
    to_english(staff)
    for congress_id in (cid, new_id):
        base = site.url + f"/staff?congress={congress_id}"
        assert _views_too_wide(staff, base) == {}, f"English, congress {congress_id}"
