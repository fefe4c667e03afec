"""Casework in the browser (issue 21, minors 10, 18, 20): staff read similarity in words and hand a
case to departments chosen from the list (adding a missing one); the department's page opens the
congress holding its cases and follows a B reply to its result; staff read the group rooms;
counters show as people type, and a text over the limit is said, never cut."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LAPTOP, PHONE, accessibility_problems, shot, sign_in_staff
from tests.browser.test_proposal_pages import sign_in_delegate

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


# ---- the department's page: its congress, a B reply followed to its result -----------------------

def test_the_department_page_opens_the_congress_with_its_cases_and_follows_a_b_reply_to_its_result(site, open_page):
    proposer, x, y = people(site, 6, 3)
    title = "关于更换二号车间老旧空调的建议"
    pid = submitted(site, proposer, [x, y], title, "二号车间空调使用已超十五年，夏季车间温度超过三十五度。",
                    "建议今年内更换二号车间空调，并加装通风设备。")
    staff_api = site.staff()
    site.command(staff_api, "decide_proposal", proposal_id=pid, decision="立案")
    site.command(staff_api, "assign_proposal", proposal_id=pid, lead="人力资源部")
    # Next year's congress, being prepared, is listed first: it holds none of the department's cases.
    created = staff_api.post("/api/congresses", json={"name": "第十届职代会第四次会议", "groups": ["主会场"]})
    assert created.status_code in (200, 201), created.text
    assert created.json()["result"]["id"] > site.story.congress_id

    page = sign_in_department(open_page, site)
    assert "congress=" not in page.url
    case = page.locator(".p-case", has_text=title)
    expect(case).to_contain_text("办理中")
    expect(page.locator("#department-intro")).to_be_visible()

    # A B reply: the proposer accepts the plan; the case stays open until the department reports.
    case.get_by_text("B · 正在解决或列入计划").click()
    case.get_by_label("答复内容").fill("已列入今年设备更新计划，空调更换预计八月完成。")
    case.get_by_role("button", name="提交答复").click()
    expect(case).to_contain_text("已答复")
    expect(case.get_by_role("button", name="提交答复")).to_have_count(0)
    site.command(site.delegate(proposer.employee_id), "rate_reply", proposal_id=pid, rating="基本满意")
    expect(case).to_contain_text("跟踪落实中")
    expect(case.locator(f"#follow-up-{pid}")).to_contain_text("事项办完后请在此报告办理结果")
    shot(page, "casework-department-follow-up", full_page=True)
    case.get_by_text("A · 已解决或基本解决").click()
    case.get_by_label("答复内容").fill("二号车间空调已于八月十日全部更换，并加装了两台通风机。")
    case.get_by_role("button", name="提交答复").click()
    expect(case).to_contain_text("已答复")
    site.command(site.delegate(proposer.employee_id), "rate_reply", proposal_id=pid, rating="满意")
    expect(case).to_contain_text("已办结")
    expect(page.locator(".p-case")).to_have_count(1)
    assert accessibility_problems(page) == []


# ---- staff read the group rooms ------------------------------------------------------------------

def test_staff_read_every_groups_room_for_the_current_item_read_only(site, open_page):
    story = site.story
    report, motion = story.agenda[0]["id"], story.agenda[1]["id"]
    groups = sorted({d.group_id for d in story.voting()})
    ours, theirs = groups[0], groups[1]
    member = next(d for d in story.voting(ours) if not d.is_group_leader)
    outsider = next(d for d in story.voting(theirs) if not d.is_group_leader)
    staff_api = site.staff()
    site.command(staff_api, "set_current_item", item_id=report)
    mine, other = site.delegate(member.employee_id), site.delegate(outsider.employee_id)
    site.command(mine, "post_message", text="<b>报告</b>里的安全投入数字需要说明。", agenda_item_id=report)
    rude = site.command(mine, "post_message", text="不相干的广告", agenda_item_id=report)
    site.command(other, "post_message", text="薪酬方案的问题。", agenda_item_id=motion)
    site.command(site.delegate(story.leader(ours).employee_id), "hide_message", message_id=rude["id"], reason="与议题无关")

    staff = sign_in_staff(open_page, site)
    staff.goto(site.url + "/staff#rooms")
    view = staff.locator("#view-rooms")
    expect(view.get_by_role("heading", name="分组讨论")).to_be_visible()
    expect(view.get_by_label("议程")).to_have_value(str(report))
    room = view.locator(f".staff-room[data-group='{ours}']")
    expect(room.locator(".msg-text")).to_have_text(["<b>报告</b>里的安全投入数字需要说明。"])  # as typed, as text
    assert room.locator("b").count() == 0
    expect(room.locator(".msg.is-hidden")).to_contain_text("由 ")
    expect(room.locator(".msg.is-hidden")).to_contain_text("与议题无关")
    expect(view.locator(f".staff-room[data-group='{theirs}']")).to_contain_text("还没有人发言")
    assert view.locator("textarea, button").count() == 0  # read-only: nothing to post, pin or hide with

    # A message posted meanwhile shows without a reload; another item shows its own messages.
    site.command(other, "post_message", text="我们组同意报告。", agenda_item_id=report)
    expect(view.locator(f".staff-room[data-group='{theirs}'] .msg-text")).to_have_text(["我们组同意报告。"])
    view.get_by_label("议程").select_option(str(motion))
    expect(view.locator(".msg-text")).to_have_text(["薪酬方案的问题。"])
    assert accessibility_problems(staff) == []
    shot(staff, "casework-staff-rooms", full_page=True)


# ---- counters as people type ---------------------------------------------------------------------

def test_text_boxes_count_as_people_type_and_say_when_a_text_is_too_long_instead_of_cutting_it(site, open_page):
    story = site.story
    item = story.agenda[0]
    site.command(site.staff(), "set_current_item", item_id=item["id"])
    member = next(d for d in story.voting(story.voting()[0].group_id) if not d.is_group_leader)
    page = sign_in_delegate(open_page, site, member.employee_id)

    # The group room's box: a pasted 1,600 characters stay whole and are refused in words.
    room = page.locator("#slot-room")
    box = room.get_by_label("发言（不超过 1000 字）")
    expect(room.locator(".room-counter")).to_have_text("0 / 1000 字")
    long_text = "职工代表建议改善" * 200  # 1,600 characters
    box.fill(long_text)
    assert box.evaluate("el => el.value.length") == 1600
    expect(room.locator(".room-counter")).to_have_text("1600 / 1000 字 · 超出 600 字，请删减")
    room.get_by_role("button", name="发送", exact=True).click()
    expect(room.locator(".room-composer .form-status")).to_have_text("内容太长：最多 1000 字，请删减 600 字后再发送。")
    expect(room.locator(".msg")).to_have_count(0)
    box.fill(long_text[:1000])
    expect(room.locator(".room-counter")).to_have_text("1000 / 1000 字")
    room.get_by_role("button", name="发送", exact=True).click()
    expect(room.locator(".msg")).to_have_count(1)
    expect(room.locator(".room-counter")).to_have_text("0 / 1000 字")

    # The proposal form: 案名, 案由 and 建议 count as they are typed, against the server's limits.
    mine = page.locator("[data-slot=proposals]")
    mine.get_by_role("button", name="起草新提案").click()
    title = mine.get_by_label("案名")
    expect(mine.locator("#pf-title-count")).to_have_text("0 / 100 字")
    expect(mine.locator("#pf-reason-count")).to_have_text("0 / 3000 字")
    expect(mine.locator("#pf-suggestion-count")).to_have_text("0 / 3000 字")
    title.fill("关于夜班食堂")
    expect(mine.locator("#pf-title-count")).to_have_text("6 / 100 字")
    title.fill("长" * 101)
    assert title.evaluate("el => el.value.length") == 101  # not cut
    expect(mine.locator("#pf-title-count")).to_have_text("101 / 100 字 · 超出 1 字，请删减")
    assert title.get_attribute("aria-invalid") == "true"
    mine.get_by_label("案由").fill(REASON)
    expect(mine.locator("#pf-reason-count")).to_have_text(f"{len(REASON)} / 3000 字")
    mine.get_by_label("建议和措施").fill(SUGGESTION)
    mine.get_by_role("button", name="保存草稿").click()
    expect(mine.locator(".notice.bad")).to_contain_text("案名不能超过 100 字")  # the server agrees on the limit
    title.fill("关于夜班食堂供应热饭的建议")
    expect(mine.locator("#pf-title-count")).to_have_text("13 / 100 字")
    assert title.get_attribute("aria-invalid") is None
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "the page scrolls sideways"
    assert accessibility_problems(page) == []
    shot(page, "casework-counters-phone", full_page=True)
    mine.get_by_role("button", name="保存草稿").click()
    expect(mine.locator(".p-item", has_text="关于夜班食堂供应热饭的建议")).to_contain_text("草稿")
