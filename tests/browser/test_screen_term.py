"""第N届第M次 on the big screen and in the archive (issue 19 follow-up): after the story's congress is
followed by its next session, the venue projector shows each congress's 第十届第三次 / 第十届第四次
under its name, as the staff and delegate pages do, and each congress's archive records its term."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from congress.actions.base import Context
from congress.actions.terms import start_next_session
from congress.application.service import system_clock
from congress.records.archive import build_archive
from tests.browser.conftest import PROJECTOR
from tests.story import SETUP

pytestmark = pytest.mark.browser


def test_the_screen_and_the_archive_say_which_session_of_the_term(site, open_page):
    cid = site.story.congress_id
    with site.db.write() as session:
        new_id = start_next_session(Context(session, SETUP, system_clock()), cid)["id"]

    for congress_id, label in ((cid, "第十届第三次"), (new_id, "第十届第四次")):
        screen = open_page(f"/screen?congress={congress_id}", PROJECTOR)
        expect(screen.locator("#screen-head h1")).to_have_text(
            "第十届职代会第三次会议" if congress_id == cid else "第十届职代会第四次会议")
        expect(screen.locator("#screen-term")).to_have_text(label)
        assert screen.evaluate("document.documentElement.scrollWidth") <= PROJECTOR["width"]

        with site.db.read() as session:
            record = json.loads(build_archive(session, congress_id, datetime.now(UTC))["congress.json"])
        assert record["term"]["label"] == label
        assert (record["term"]["name"], record["term"]["number"]) == ("第十届职代会", 10)


def test_the_roster_preview_says_an_address_changed_without_showing_it(site, open_page):
    """A roster with an e-mail column on the staff page: the preview lists 电子邮箱 已填写 for the one
    delegate given an address, never the address; then the import stores it."""
    from tests.browser.conftest import sign_in_staff
    from tests.db.test_roster_email import _emails, _ids, _roster

    first = _ids(305)[0]
    staff = sign_in_staff(open_page, site)
    staff.goto(site.url + f"/staff?congress={site.story.congress_id}#roster")
    roster = staff.locator("#view-roster")
    roster.locator("#roster-file").set_input_files(
        {"name": "名册.csv", "mimeType": "text/csv", "buffer": _roster("电子邮箱", {first: "zhang@example.cn"}, rows=305)})
    roster.locator("#roster-check").click()
    changed = roster.locator("#roster-changes li[data-change=changed]")
    expect(changed).to_have_count(1)
    expect(changed).to_contain_text(f"（{first}")
    expect(changed).to_contain_text("电子邮箱 已填写")
    expect(roster).not_to_contain_text("zhang@example.cn")
    roster.locator("#roster-confirm").click()
    expect(roster.locator("#roster-summary")).to_contain_text("已导入")
    assert _emails(site.db, site.story.congress_id)[first] == "zhang@example.cn"
