"""Casework in the browser (issue 21, minor 10): staff read similarity in words and hand a case to
departments chosen from the list, adding a missing one with its sign-in."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LAPTOP, accessibility_problems, shot, sign_in_staff

pytestmark = pytest.mark.browser

REASON = "夜班职工凌晨下班时食堂已关门，只能吃泡面，长期如此影响身体健康。"
SUGGESTION = "建议食堂为夜班职工开设夜宵窗口，供应热饭热菜到凌晨两点。"


def submitted(site, proposer, cosigners, title, reason=REASON, suggestion=SUGGESTION) -> int:
    """A proposal filed, co-signed and submitted over the API."""
    author = site.delegate(proposer.employee_id)
    pid = site.command(author, "draft_proposal", title=title, reason=reason, suggestion=suggestion)["id"]
    site.command(author, "invite_cosigners", proposal_id=pid, employee_ids=[c.employee_id for c in cosigners])
    for c in cosigners:
        site.command(site.delegate(c.employee_id), "answer_cosign", proposal_id=pid, accept=True)
    site.command(author, "submit_proposal", proposal_id=pid)
    return pid


def people(site, start: int, n: int):  # type: ignore[no-untyped-def]
    return [d for d in site.story.voting() if not d.is_group_leader][start:start + n]


def sign_in_department(open_page, site, login=None, password=None):  # type: ignore[no-untyped-def]
    page = open_page("/sign-in", LAPTOP)
    page.get_by_role("tab", name="工作人员 / 承办部门").click()
    page.get_by_label("账号", exact=True).fill(login or site.story.department[0])
    page.get_by_label("密码", exact=True).fill(password or site.story.department[1])
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url("**/department**")
    return page


# ---- triage: similarity in words, departments from the list --------------------------------------

def test_staff_read_similarity_in_words_and_assign_to_departments_from_the_list_adding_a_missing_one(site, open_page):
    a, b, c, d, e, f = people(site, 0, 6)
    original = submitted(site, a, [b, c], "关于夜班食堂供应热饭的建议")
    duplicate = submitted(site, d, [e, f], "给夜班弄点夜宵", "上夜班的同事半夜饿了只能泡面，食堂早就关门了。",
                          "希望食堂晚上开个窗口卖热饭。")
    staff_api = site.staff()
    site.command(staff_api, "decide_proposal", proposal_id=original, decision="立案")

    staff = sign_in_staff(open_page, site)
    staff.goto(site.url + "/staff#proposals")

    # 相似提案: words and a bar, not a bare "相似度 2.07"; the figure and its meaning on demand.
    card = staff.locator(f"#p-triage .p-item[data-proposal-id='{duplicate}']")
    hit = card.locator(".p-similar li", has_text="关于夜班食堂供应热饭的建议")
    expect(hit.locator(".p-sim-words")).to_have_text(re.compile("^(很可能重复|很相似)$"))
    expect(card.locator(".p-similar")).not_to_contain_text("相似度")
    explained = hit.locator(".p-sim").get_attribute("title") or ""
    assert re.fullmatch(r"相似度 \d+(\.\d+)?：比这份提案与一般提案的相似程度高出 \d+(\.\d+)? 个标准差；达到 10 视为很可能重复。",
                        explained), explained
    width = hit.locator(".p-bar-fill").evaluate("el => el.getBoundingClientRect().width / el.parentElement.getBoundingClientRect().width")
    assert width >= 0.7
    expect(card.locator(".p-similar-hint")).to_contain_text("条越长越相似")
    expect(card.get_by_label("并入提案")).to_contain_text(re.compile("关于夜班食堂供应热饭的建议 · (很可能重复|很相似)"))

    # 交办: the lead is chosen from the departments; there is no box to type a name into.
    assign = staff.locator(f"#p-assign .p-item[data-proposal-id='{original}']")
    lead = assign.get_by_label("主办部门")
    assert lead.evaluate("el => el.tagName") == "SELECT"
    expect(lead.locator("option")).to_have_text(["请选择主办部门", "人力资源部"])
    assert assign.locator("input[type=text]").count() == 0

    # A department missing from the list is added from the same view, with its sign-in shown once.
    add = staff.locator("#p-assign .p-new-department")
    add.locator("summary").click()
    add.get_by_label("部门名称").fill("后勤服务中心")
    add.get_by_role("button", name="新增部门").click()
    added = staff.locator("#pa-department-added")
    expect(added).to_contain_text("已新增承办部门“后勤服务中心”")
    expect(added).to_contain_text("登录名：后勤服务中心")
    password = re.search(r"初始密码：(\S+?)。", added.inner_text()).group(1)
    expect(lead.locator("option")).to_have_text(["请选择主办部门", "人力资源部", "后勤服务中心"])
    assert accessibility_problems(staff) == []
    shot(staff, "casework-assign-from-list", full_page=True)

    # Pressing 交办 without a lead is refused by the form, not sent.
    assign.get_by_role("button", name="交办").click()
    assert lead.evaluate("el => el.validity.valueMissing")
    lead.select_option("人力资源部")
    helpers = assign.get_by_role("group", name="协办部门（可不选）")
    expect(helpers.get_by_role("checkbox")).to_have_count(1)  # every department but the lead
    helpers.get_by_label("后勤服务中心").check()
    assign.get_by_label("办理期限").fill("2030-01-31")
    assign.get_by_role("button", name="交办").click()
    expect(staff.locator("#p-assign")).not_to_contain_text("关于夜班食堂供应热饭的建议")
    detail = site.command(staff_api, "proposal_detail", proposal_id=original)
    assert (detail["lead_department"], detail["helper_departments"]) == ("人力资源部", ["后勤服务中心"])

    # The new department signs in with the password it was given and sees the case it helps with.
    with httpx.Client(base_url=site.url, timeout=30) as client:
        assert client.post("/api/sign-in", json={"login": "后勤服务中心", "password": password}).status_code == 200
    helper_page = sign_in_department(open_page, site, "后勤服务中心", password)
    expect(helper_page.locator(".p-case", has_text="关于夜班食堂供应热饭的建议")).to_contain_text("协办")
