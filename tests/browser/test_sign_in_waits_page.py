"""Sign-in waits in the pages (issue 18, point 6): the sign-in page says how long to wait, counts
down and gives the button back (in Chinese and English); the check-in desk lists who waits, from
which address, and clears it for the person standing there — on a phone."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from congress.application.service import system_clock
from tests.browser.conftest import PHONE, accessibility_problems, shot

pytestmark = pytest.mark.browser


def test_the_sign_in_page_counts_down_the_wait_and_gives_the_button_back(site, open_page):
    delegate = site.story.delegates[5]
    page = open_page("/sign-in", PHONE)
    button = page.get_by_role("button", name="登录", exact=True)
    countdown = page.locator("#delegate-wait")

    def wrong_once() -> None:
        page.get_by_label("工号", exact=True).fill(delegate.employee_id)
        page.get_by_label("访问码", exact=True).fill("WRONGCOD")
        with page.expect_response("**/api/sign-in"):
            button.click()

    for _ in range(3):  # three typos are free
        wrong_once()
        expect(page.locator("#delegate-status")).to_contain_text("不正确")
        expect(button).to_be_enabled()
    wrong_once()  # the fourth: one second
    expect(button).to_be_disabled()
    expect(countdown).to_have_text("请 1 秒后再试")
    expect(button).to_be_enabled(timeout=5000)
    expect(page.locator("#delegate-status")).to_have_text("现在可以再试一次。")
    wrong_once()  # the fifth: two seconds, and the wait survives a switch to English
    expect(countdown).to_have_text("请 2 秒后再试")
    shot(page, "sign-in-wait")
    page.get_by_role("button", name="English").click()
    expect(page.locator("#delegate-wait")).to_contain_text("Please try again in")
    english = page.get_by_role("button", name="Sign in", exact=True)
    expect(english).to_be_disabled()
    expect(english).to_be_enabled(timeout=5000)

    page.get_by_label("Employee ID", exact=True).fill(delegate.employee_id)
    page.get_by_label("Access code", exact=True).fill(site.story.codes[delegate.employee_id])
    english.click()
    page.wait_for_url("**/delegate")


def test_the_check_in_desk_shows_who_waits_and_clears_it_on_a_phone(site, open_page):
    from congress.db import sign_in_waits as waits  # here: the page test above runs on code without it too

    delegate = site.story.delegates[7]
    account = waits.delegate_account(site.story.congress_id, delegate.employee_id)
    with site.db.write() as session:  # twelve wrong codes from 127.0.0.2 within the minute: 256 s to wait
        for _ in range(12):
            waits.record_failure(session, [account], "127.0.0.2", system_clock())
    at_venue = httpx.Client(base_url=site.url, timeout=30, transport=httpx.HTTPTransport(local_address="127.0.0.2"))
    body = {"employee_id": delegate.employee_id, "code": site.story.codes[delegate.employee_id]}
    assert at_venue.post("/api/sign-in", json=body).status_code == 429

    page = open_page("/sign-in", PHONE)
    page.get_by_role("tab", name="工作人员 / 承办部门").click()
    page.get_by_label("账号", exact=True).fill(site.story.staff_login)
    page.get_by_label("密码", exact=True).fill(site.story.staff_password)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url("**/staff")
    section = page.locator("#sign-in-waits")
    expect(section.get_by_role("heading", name="登录等待")).to_be_visible()
    row = section.locator(f"tr[data-who='{delegate.employee_id}']")
    expect(row).to_contain_text(delegate.name)
    expect(row).to_contain_text("127.0.0.2")
    expect(row).to_contain_text("12")
    expect(row.locator("td.wait-left")).to_contain_text("秒")
    row.scroll_into_view_if_needed()
    assert accessibility_problems(page) == []
    shot(page, "staff-sign-in-waits")

    page.get_by_role("button", name="English").click()  # the same section in English
    expect(section.get_by_role("heading", name="Sign-in waits")).to_be_visible()
    expect(row.locator("td.wait-left")).to_contain_text(" s")
    assert page.evaluate("""() => [...document.querySelectorAll('#sign-in-waits *')]
        .filter((el) => !el.closest('.data-text') && [...el.childNodes].some((n) => n.nodeType === 3 && /[\u4e00-\u9fff]/.test(n.textContent)))
        .map((el) => el.textContent)""") == []

    row.get_by_role("button", name="Clear").click()

    expect(section).to_contain_text(f"Cleared the sign-in wait of {delegate.employee_id}")
    expect(section.locator("#sign-in-waits-none")).to_have_text("No one is waiting.")
    assert at_venue.post("/api/sign-in", json=body).status_code == 200  # at once
    at_venue.close()
