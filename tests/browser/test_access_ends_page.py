"""A page whose access the server ended says why and moves on (issue 18, finding 1): a delegate's
page after staff re-issue the access code shows the reason (中文, and in English after switching),
then goes to the sign-in page, which says it again; a group leader's page after a re-import that
demoted them says their data changed and reloads once as the delegate they now are."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import Site, accessibility_problems, shot, sign_in_delegate, sign_in_staff
from tests.story import story_roster

NINGBO_LEADER = "E33740"  # 方德明, 宁波's leader in the story's roster


def test_a_page_whose_sign_in_ended_says_why_and_goes_to_sign_in(site: Site, open_page: Any) -> None:
    delegate = site.story.voting()[5]
    page = sign_in_delegate(open_page, site, delegate.employee_id)
    expect(page.locator("#me")).to_contain_text(delegate.name)
    # The code was lost: staff re-issue it
    response = site.staff().post(f"/api/congresses/{site.story.congress_id}/codes",
                                 json={"employee_ids": [delegate.employee_id]})
    assert response.status_code == 200, response.text
    ended = page.locator("#live-ended")
    expect(ended).to_be_visible()
    expect(ended).to_have_attribute("role", "alert")
    expect(ended).to_contain_text("您的登录已结束")
    expect(ended).to_contain_text("访问码已重新发放")
    expect(page.locator("#live-sign-in-again")).to_have_text("重新登录")
    # No reconnect loop: the page goes to sign-in by itself (after 5 s), which says why again.
    page.wait_for_url("**/sign-in?ended=session*", timeout=15_000)
    expect(page.locator("#signin-ended")).to_contain_text("您的登录已结束")
    page.get_by_role("button", name="English").click()
    expect(page.locator("#signin-ended")).to_contain_text("Your sign-in has ended")


def test_the_reason_is_in_english_on_a_page_read_in_english(site: Site, open_page: Any) -> None:
    delegate = site.story.voting()[6]
    page = sign_in_delegate(open_page, site, delegate.employee_id)
    expect(page.locator("#me")).to_contain_text(delegate.name)
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    response = site.staff().post(f"/api/congresses/{site.story.congress_id}/codes",
                                 json={"employee_ids": [delegate.employee_id]})
    assert response.status_code == 200, response.text
    expect(page.locator("#live-ended")).to_contain_text("Your sign-in has ended")
    expect(page.locator("#live-sign-in-again")).to_have_text("Sign in again")


def test_a_leader_demoted_by_a_reimport_sees_why_and_the_page_reloads_as_a_member(site: Site, open_page: Any) -> None:
    page = sign_in_delegate(open_page, site, NINGBO_LEADER)
    expect(page.locator("#me")).to_contain_text("团(组)长")
    roster = story_roster().decode("utf-8").replace(
        f"{NINGBO_LEADER},方德明,男,宁波,综合部,领导人员,1,正式代表", f"{NINGBO_LEADER},方德明,男,宁波,综合部,领导人员,0,正式代表")
    assert f"{NINGBO_LEADER},方德明,男,宁波,综合部,领导人员,0" in roster
    response = site.staff().post(f"/api/congresses/{site.story.congress_id}/roster?filename=roster.csv",
                                 content=roster.encode("utf-8"))
    assert response.status_code == 200, response.text
    expect(page.locator("#live-ended")).to_contain_text("您的代表信息已变更")
    # It reloads by itself and connects as the delegate the roster now lists: no leader tag, no banner.
    expect(page.locator("#me")).not_to_contain_text("团(组)长", timeout=15_000)
    expect(page.locator("#me")).to_contain_text("方德明")
    expect(page.locator("#live-ended")).to_have_count(0)
    page.wait_for_timeout(1500)
    expect(page.locator("#live-ended")).to_have_count(0)  # and stays (no reload loop)


def test_staff_reset_a_departments_password_and_deactivate_it_and_its_open_page_closes(site: Site, open_page: Any) -> None:
    """账号 on the staff page (issue 18, point 8): the new password shown once; deactivating the
    department's account ends its sign-ins, and its open page says why."""
    login, password = site.story.department
    department = open_page("/sign-in")
    department.get_by_role("tab", name="工作人员 / 承办部门").click()
    department.get_by_label("账号", exact=True).fill(login)
    department.get_by_label("密码", exact=True).fill(password)
    department.get_by_role("button", name="登录", exact=True).click()
    department.wait_for_url("**/department")
    expect(department.locator("#department-intro")).to_be_visible()

    staff = sign_in_staff(open_page, site)
    staff.get_by_role("link", name="账号").click()
    row = staff.locator(f"#accounts-table tr[data-login='{login}']")
    expect(row).to_contain_text("启用")
    expect(row.locator("td.num")).to_have_text("1")  # the department's page is signed in
    assert accessibility_problems(staff) == []
    dialog = staff.get_by_role("dialog")
    row.get_by_role("button", name="重置密码").click()
    expect(dialog).to_contain_text("旧密码立即失效")
    expect(dialog.get_by_role("button", name="取消")).to_be_focused()
    dialog.get_by_role("button", name="重置密码").click()
    new_password = staff.locator("#accounts-new-password")
    expect(new_password).not_to_be_empty()
    shot(staff, "staff-accounts-password-once")
    # The department's open page closed with the reason: its password was reset.
    expect(department.locator("#live-ended")).to_contain_text("您的登录已结束")
    assert site.sign_in({"login": login, "password": new_password.inner_text()}).get("/api/me").json()["role"] == "department"
    staff.get_by_role("button", name="已记下，隐藏密码").click()
    expect(new_password).to_have_count(0)  # shown once: gone from the page
    row.get_by_role("button", name="停用").click()
    dialog.get_by_role("button", name="停用").click()
    expect(staff.locator("#accounts-status")).to_contain_text(f"已停用 {login}")
    expect(row).to_contain_text("已停用")
    expect(row.locator("td.num")).to_have_text("0")
    # The last active staff account is refused in words.
    staff.locator("#accounts-table tr[data-login='staff']").get_by_role("button", name="停用").click()
    dialog.get_by_role("button", name="停用").click()
    expect(staff.locator("#accounts-status")).to_contain_text("唯一启用的工作人员账号")
