"""The staff desk: a roster with errors is listed row by row and nothing is imported; a clean
roster is previewed and imported only on confirmation; the check-in desk and the setup forms work."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from congress.db.models import Congress, Delegate
from congress.domain.roster import parse_roster
from tests.browser.conftest import accessibility_problems, shot, sign_in_staff
from tests.story import GROUPS, story_roster

pytestmark = pytest.mark.browser

NEW_ROW = "E90001,测试甲,男,主会场,集团办公室,一线职工,0,正式代表\n"
BAD_ROWS = ("E90002,测试乙,未知,主会场,集团办公室,一线职工,0,正式代表\n"
            "E90003,测试丙,女,火星,集团办公室,一线职工,0,正式代表\n"
            "E13503,测试丁,女,长沙,集团办公室,一线职工,0,特邀代表\n")


def roster_with(extra: str) -> bytes:
    text = story_roster().decode("utf-8")
    return (text if text.endswith("\n") else text + "\n").encode("utf-8") + extra.encode("utf-8")


def delegates_in_database(site) -> list[tuple[str, str]]:
    with site.db.read() as session:
        return sorted(session.execute(sa.select(Delegate.employee_id, Delegate.name)
                                      .where(Delegate.congress_id == site.story.congress_id)).all())


def test_staff_see_every_roster_error_and_nothing_is_imported(site, open_page):
    before = delegates_in_database(site)
    bad = roster_with(NEW_ROW + BAD_ROWS)
    expected = parse_roster(bad, "roster.csv", known_groups=GROUPS).errors
    assert len(expected) >= 3

    page = sign_in_staff(open_page, site)
    page.get_by_role("link", name="名册导入").click()
    page.get_by_label("名册文件（CSV 或 Excel）").set_input_files(
        {"name": "roster.csv", "mimeType": "text/csv", "buffer": bad})
    page.get_by_role("button", name="检查名册（不导入）").click()

    expect(page.locator("#roster-error-title")).to_contain_text(f"名册有 {len(expected)} 处错误，未导入任何数据")
    rows = page.locator("#roster-errors tbody tr")
    expect(rows).to_have_count(len(expected))
    for index, error in enumerate(expected):
        cells = rows.nth(index).locator("td")
        expect(cells.nth(0)).to_have_text(str(error.row))
        expect(cells.nth(1)).to_have_text(error.column or "—")
        expect(cells.nth(2)).to_have_text(error.reason)
    expect(page.get_by_role("button", name="确认导入")).to_have_count(0)
    assert accessibility_problems(page) == []
    shot(page, "staff-roster-errors", full_page=True)
    assert delegates_in_database(site) == before  # nothing imported

    # A clean file: previewed first (still nothing changes), imported only on confirmation.
    page.get_by_label("名册文件（CSV 或 Excel）").set_input_files(
        {"name": "roster.csv", "mimeType": "text/csv", "buffer": roster_with(NEW_ROW)})
    page.get_by_role("button", name="检查名册（不导入）").click()
    expect(page.locator("#roster-summary")).to_contain_text("新增 1")
    shot(page, "staff-roster-preview", full_page=True)
    assert delegates_in_database(site) == before
    page.get_by_role("button", name="确认导入").click()
    expect(page.locator("#roster-summary")).to_contain_text("已导入")
    assert ("E90001", "测试甲") in delegates_in_database(site)


def test_staff_check_in_desk_searches_checks_in_and_records_leaving(site, open_page):
    someone = site.story.voting()[3]
    page = sign_in_staff(open_page, site)
    expect(page.get_by_role("heading", name="签到台")).to_be_visible()
    search = page.get_by_label("搜索工号或姓名")
    search.fill(someone.employee_id)
    row = page.locator(f"#desk-table tr[data-employee-id='{someone.employee_id}']")
    expect(page.locator("#desk-table tbody tr")).to_have_count(1)
    search.press("Enter")  # a single match: Enter moves to its action
    expect(row.get_by_role("button", name="签到")).to_be_focused()
    page.keyboard.press("Enter")
    expect(row).to_contain_text("已签到")
    expect(page.locator(".status-line")).to_contain_text("实到 1 / 应到 295")
    assert accessibility_problems(page) == []
    shot(page, "staff-desk")

    row.get_by_role("button", name="中途退场").click()
    row.get_by_label("退场原因").fill("车间抢修")
    row.get_by_role("button", name="确认").click()
    expect(row).to_contain_text("已退场")
    expect(row).to_contain_text("车间抢修")
    expect(page.locator(".status-line")).to_contain_text("实到 0 / 应到 295")

    # After the window closes a check-in is 补签到 and needs a reason.
    page.get_by_role("link", name="会议设置").click()
    page.get_by_label("签到开始").fill("2020-01-01T08:00")
    page.get_by_label("签到截止").fill("2020-01-01T09:00")
    page.locator("form", has=page.get_by_label("签到截止")).get_by_role("button", name="保存").click()
    expect(page.locator("form", has=page.get_by_label("签到截止")).locator(".form-status")).to_have_text("已保存")
    page.get_by_label("观众端延迟（秒）").fill("15")
    page.locator("form", has=page.get_by_label("观众端延迟（秒）")).get_by_role("button", name="保存").click()
    expect(page.get_by_text("当前：15 秒")).to_be_visible()
    with site.db.read() as session:
        assert session.get(Congress, site.story.congress_id).stream_delay_seconds == 15
    assert accessibility_problems(page) == []
    shot(page, "staff-setup", full_page=True)

    page.get_by_role("link", name="签到台").click()
    expect(page.get_by_text("签到已截止：现在的签到为补签到，须填写原因。")).to_be_visible()
    row.get_by_role("button", name="补签到").click()
    row.get_by_label("补签到原因（必填）").fill("交通延误")
    row.get_by_role("button", name="确认").click()
    expect(row).to_contain_text("补签到：交通延误")


def test_department_signs_in_and_is_told_where_its_cases_will_appear(site, open_page):
    login, password = site.story.department
    page = open_page("/sign-in")
    page.get_by_role("tab", name="工作人员 / 承办部门").click()
    page.get_by_label("账号", exact=True).fill(login)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url("**/department")
    expect(page.locator("#department-intro")).to_contain_text("分配给本部门承办的提案将显示在这里")
    expect(page.locator("[data-slot=department-cases]")).to_be_hidden()
    assert accessibility_problems(page) == []
    shot(page, "department")
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/sign-in")


def test_what_staff_type_in_a_setup_form_survives_another_staff_members_save(site, open_page):
    """Two staff members on 会议设置: one types a quorum and has not saved yet; the other saves the
    co-signers rule. The first one's form is rebuilt from the new rules and keeps the typed quorum
    (it used to go back to the stored one), shows the other's co-signers, and saving stores both.
    A field the other one saved is theirs, as saved."""
    page = sign_in_staff(open_page, site)
    page.get_by_role("link", name="会议设置").click()
    quorum, cosigners = page.get_by_label("法定人数比例"), page.get_by_label("提案所需附议人数")
    expect(quorum).to_have_value("2/3")
    quorum.fill("3/4")
    cid = site.story.congress_id

    site.command(site.staff(), "set_rules", rules={"cosigners_required": 5})  # another staff member
    expect(cosigners).to_have_value("5")  # the form was rebuilt from the new rules ...
    expect(quorum).to_have_value("3/4")  # ... and what was typed is still there
    form = page.locator("form", has=quorum)
    form.get_by_role("button", name="保存").click()
    expect(form.locator(".form-status")).to_have_text("已保存")
    with site.db.read() as session:
        rules = session.get(Congress, cid).rules
    assert (rules["quorum"], rules["cosigners_required"]) == ("3/4", 5)

    cosigners.fill("7")  # typed, not saved, while the other one saves that very rule
    site.command(site.staff(), "set_rules", rules={"cosigners_required": 4})
    expect(cosigners).to_have_value("4")
    expect(quorum).to_have_value("3/4")
