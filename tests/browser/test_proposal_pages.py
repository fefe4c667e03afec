"""提案网上建 end to end in the browser: a delegate drafts a proposal on a phone, invites two
co-signers, submits; staff see it in triage with a suggested category, decide 立案 and assign it;
the department replies on its page; the delegate rates the reply; an observer's board shows the
reply and 已办结."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LAPTOP, PHONE, accessibility_problems, shot, sign_in_staff, wait_for_true

pytestmark = pytest.mark.browser

TITLE = "关于增设职工食堂夜班供餐窗口的建议"
REASON = "一线倒班职工夜班期间无法就餐，只能自带冷饭或购买外卖，影响职工身体健康和工作状态。"
SUGGESTION = "建议在职工食堂增设夜班供餐窗口，提供热饭热菜，并对夜班职工给予餐费补贴。"
REPLY = "经研究，食堂已于下月起增设夜班供餐窗口，供应时间为晚十时至次日二时，夜班餐费补贴同步发放。"


def sign_in_delegate(open_page, site, employee_id, init_script=None):
    page = open_page("/sign-in", PHONE, init_script=init_script)
    page.get_by_label("工号", exact=True).fill(employee_id)
    page.get_by_label("访问码", exact=True).fill(site.story.codes[employee_id])
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url("**/delegate")
    return page


def test_a_proposal_from_draft_to_closed_across_the_pages(site, open_page):
    story = site.story
    voting = [d for d in story.voting() if not d.is_group_leader]
    proposer, first, second = voting[0], voting[1], voting[2]

    # 1. The proposer drafts on a phone.
    page = sign_in_delegate(open_page, site, proposer.employee_id)
    mine = page.locator("[data-slot=proposals]")
    expect(mine).to_contain_text("我的提案")
    mine.get_by_role("button", name="起草新提案").click()
    mine.get_by_label("案名").fill(TITLE)
    mine.get_by_label("案由").fill(REASON)
    mine.get_by_label("建议和措施").fill(SUGGESTION)
    mine.get_by_role("button", name="保存草稿").click()
    item = mine.locator(".p-item", has_text=TITLE)
    expect(item).to_contain_text("草稿")

    # 2. Invites two co-signers found in the delegate directory; each shows in the card's list of
    # co-signers, awaiting their answer (the search results name them too, so those prove nothing).
    cosigners = item.get_by_role("list", name="附议代表")
    for count, person in enumerate((first, second), start=1):
        item.get_by_label("查找附议代表（工号或姓名）").fill(person.employee_id)
        item.get_by_role("button", name="查找", exact=True).click()
        item.get_by_role("button", name=f"邀请 {person.name}").click()
        expect(cosigners.get_by_role("listitem")).to_have_count(count)
        expect(cosigners).to_contain_text(person.name)
    expect(cosigners).to_contain_text("待答复")

    # Too few co-signers: the server's words are shown.
    item.get_by_role("button", name="提交提案").click()
    expect(item.locator(".notice.bad")).to_contain_text("附议")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "the page scrolls sideways"
    assert accessibility_problems(page) == []
    shot(page, "proposals-1-draft-phone", full_page=True)

    # 3. The first co-signer accepts on their phone; the second over the API.
    cosigner = sign_in_delegate(open_page, site, first.employee_id)
    request = cosigner.locator(".p-request", has_text=TITLE)
    request.get_by_role("button", name="同意", exact=True).click()
    expect(request).to_contain_text("已同意")
    shot(cosigner, "proposals-2-cosign-phone")
    site.command(site.delegate(second.employee_id), "answer_cosign", proposal_id=_proposal_id(site), accept=True)
    expect(cosigners).not_to_contain_text("待答复")

    # 4. Submits.
    item.get_by_role("button", name="提交提案").click()
    expect(item).to_contain_text("待审查", timeout=30_000)  # the first suggestion trains the categoriser
    expect(item).to_contain_text("第 1 号")

    # 5. Staff: triage with a suggested category, decide 立案, assign.
    staff = sign_in_staff(open_page, site)
    staff.goto(site.url + "/staff#proposals")
    triage = staff.locator("#p-triage .p-item", has_text=TITLE)
    expect(triage).to_contain_text("建议类别")
    expect(triage).to_contain_text("置信度")
    # ... and why: the words of the proposal that weighed most for it.
    reasons = triage.locator(".p-suggested-reasons")
    expect(reasons).to_contain_text("依据：")
    expect(reasons).to_contain_text("食堂")
    assert accessibility_problems(staff) == []
    shot(staff, "proposals-3-staff-triage", docs="proposals-triage.png")
    triage.get_by_label("审查结论").select_option("立案")
    triage.get_by_role("button", name="提交审查结论").click()
    assign = staff.locator("#p-assign .p-item", has_text=TITLE)
    assign.get_by_label("主办部门").select_option("人力资源部")
    assign.get_by_label("办理期限").fill("2030-01-31")
    assign.get_by_role("button", name="交办").click()
    expect(staff.locator("#p-assign")).not_to_contain_text(TITLE)
    expect(staff.locator("#p-triage")).to_contain_text("没有待审查的提案")

    # 6. The department replies on its page.
    department = open_page("/sign-in", LAPTOP)
    department.get_by_role("tab", name="工作人员 / 承办部门").click()
    department.get_by_label("账号", exact=True).fill(story.department[0])
    department.get_by_label("密码", exact=True).fill(story.department[1])
    department.get_by_role("button", name="登录", exact=True).click()
    department.wait_for_url("**/department**")
    case = department.locator(".p-case", has_text=TITLE)
    expect(case).to_contain_text("办理期限")
    case.get_by_text("A · 已解决或基本解决").click()
    case.get_by_label("答复内容").fill(REPLY)
    assert accessibility_problems(department) == []
    shot(department, "proposals-4-department-reply", full_page=True)
    case.get_by_role("button", name="提交答复").click()
    expect(case).to_contain_text("答复已提交")
    expect(case).to_contain_text("已答复")

    # 7. The proposer sees the reply and rates it.
    expect(item.locator(".p-reply")).to_contain_text(REPLY)
    item.get_by_text("满意", exact=True).click()
    item.get_by_role("button", name="提交测评").click()
    expect(item).to_contain_text("已办结")
    shot(page, "proposals-5-rated-phone", full_page=True)

    # 8. An observer's board shows the reply and 已办结.
    watch = open_page(f"/watch?congress={story.congress_id}", LAPTOP)
    entry = watch.locator(".p-board-item", has_text=TITLE)
    expect(entry).to_contain_text("已办结")
    expect(entry).to_contain_text(REPLY)
    expect(entry).to_contain_text("人力资源部")
    expect(entry).to_contain_text(proposer.name)
    shot(watch, "proposals-6-watch-board", full_page=True)
    watch.get_by_label("状态").select_option("closed")
    expect(watch.locator("#board-count")).to_have_text("共 1 件")
    watch.get_by_label("搜索提案").fill("不存在的关键字")
    expect(watch.locator("#board-list")).to_contain_text("没有符合条件的提案")

    # The staff statistics count it as answered and satisfied.
    staff.reload()
    expect(staff.locator("#stat-answered")).to_have_text("100%")
    expect(staff.locator("#stat-satisfaction")).to_have_text("100%")
    shot(staff, "proposals-7-staff-stats", full_page=True)


def test_typing_in_a_card_keeps_its_place_when_an_update_redraws_the_card(site, open_page):
    """An event redraws the delegate's proposal card (here: the draft edited on another device)
    while they are retyping the co-signer search. What they type goes where their caret or
    selection was: select all and type replaces the text; a caret in the middle inserts there."""
    story = site.story
    voting = [d for d in story.voting() if not d.is_group_leader]
    proposer, first, second = voting[6], voting[7], voting[8]
    author = site.delegate(proposer.employee_id)
    pid = site.command(author, "draft_proposal", title=TITLE, reason=REASON, suggestion=SUGGESTION)["id"]
    page = sign_in_delegate(open_page, site, proposer.employee_id, init_script=RECORD_EVENTS)
    item = page.locator("[data-slot=proposals] .p-item", has_text=TITLE)
    search = item.get_by_label("查找附议代表（工号或姓名）")

    def redraw(title: str) -> None:  # edited on another device: the proposal.edited event redraws the card
        site.command(author, "edit_proposal", proposal_id=pid, title=title, reason=REASON, suggestion=SUGGESTION)
        expect(item.locator(".p-title")).to_have_text(title)

    # Select all, the card is redrawn, type: the new text replaces the old.
    search.fill(first.employee_id)
    search.select_text()
    redraw(TITLE + "（一）")
    expect(search).to_be_focused()
    page.keyboard.type(second.employee_id)
    expect(search).to_have_value(second.employee_id)
    item.get_by_role("button", name="查找", exact=True).click()
    expect(item.get_by_role("button", name=f"邀请 {second.name}")).to_be_visible()

    # A caret in the middle: typing inserts there, not at the end.
    search.fill("E0000")
    search.evaluate("(box) => box.setSelectionRange(2, 2)")
    redraw(TITLE + "（二）")
    page.keyboard.type("12")
    expect(search).to_have_value("E012000")

    # Typing a name in pinyin through an input method: the card is not redrawn under the
    # composition (that left the letters behind: "zuo左子健"), but right after it ends.
    search.fill("")
    ime = page.context.new_cdp_session(page)
    ime.send("Input.imeSetComposition", {"text": "zuo", "selectionStart": 3, "selectionEnd": 3})
    site.command(author, "edit_proposal", proposal_id=pid, title=TITLE + "（三）", reason=REASON, suggestion=SUGGESTION)
    wait_for_true(page, "window.__events.includes('proposal.edited 3')")
    expect(item.locator(".p-title")).to_have_text(TITLE + "（二）")  # waits for the composition
    ime.send("Input.imeSetComposition", {"text": "zuozi", "selectionStart": 5, "selectionEnd": 5})
    ime.send("Input.insertText", {"text": second.name})
    expect(item.locator(".p-title")).to_have_text(TITLE + "（三）")
    expect(search).to_have_value(second.name)
    expect(search).to_be_focused()
    item.get_by_role("button", name="查找", exact=True).click()
    expect(item.get_by_role("button", name=f"邀请 {second.name}")).to_be_visible()


# The events the page has received, as "type n" (n counts that type).
RECORD_EVENTS = """window.__events = [];
const counts = {};
const listen = WebSocket.prototype.addEventListener;
WebSocket.prototype.addEventListener = function (type, listener, ...rest) {
  if (type === 'message') {
    listen.call(this, 'message', (e) => {
      const m = JSON.parse(e.data);
      for (const event of m.msg === 'event' ? [m] : m.msg === 'events' ? m.events : []) {
        counts[event.type] = (counts[event.type] || 0) + 1;
        window.__events.push(`${event.type} ${counts[event.type]}`);
      }
    });
  }
  return listen.call(this, type, listener, ...rest);
};"""


def draft_and_invite(site, proposer, title, reason, suggestion, invitee) -> int:
    client = site.delegate(proposer.employee_id)
    proposal = site.command(client, "draft_proposal", title=title, reason=reason, suggestion=suggestion)
    site.command(client, "invite_cosigners", proposal_id=proposal["id"], employee_ids=[invitee.employee_id])
    return proposal["id"]


def test_a_co_signer_is_told_at_the_top_and_reads_the_reason_and_suggestion_before_answering(site, open_page):
    voting = [d for d in site.story.voting() if not d.is_group_leader]
    proposer, cosigner, other = voting[0], voting[1], voting[2]
    first = draft_and_invite(site, proposer, TITLE, REASON, SUGGESTION, cosigner)

    page = sign_in_delegate(open_page, site, cosigner.employee_id)

    # A clear notice on the phone's first screen, not only a card at the bottom of a long page.
    notice = page.locator("#cosign-notice")
    expect(notice).to_contain_text("您有 1 份附议邀请待答复")
    box = notice.bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"]
    shot(page, "proposals-cosign-notice-phone")
    request = page.locator(f"#cosign-{first}")
    text = request.locator(".p-invitation-text")
    expect(text).to_contain_text(REASON)
    expect(text).to_contain_text(SUGGESTION)
    assert request.evaluate("el => Boolean(el.querySelector('.p-invitation-text').compareDocumentPosition("
                            "el.querySelector('.actions')) & Node.DOCUMENT_POSITION_FOLLOWING)"), "read, then answer"
    notice.get_by_role("link", name="查看附议邀请").click()
    expect(page.locator("#cosign-h")).to_be_in_viewport()
    shot(page, "proposals-cosign-invitation-phone")

    # Another invitation arrives while the page is open (cosign.request_changed); before answering,
    # the page reads the text as it stands from the server (markup in it stays text).
    reason = "<b>班组</b>交接班记录仍靠纸质本，信息常有遗漏，责任难以追溯。"
    second = draft_and_invite(site, other, "关于交接班记录电子化的建议", reason,
                              "建议在班组终端上线电子交接班记录，并与设备点检系统联通。", cosigner)
    expect(notice).to_contain_text("您有 2 份附议邀请待答复")
    later = page.locator(f"#cosign-{second}")
    expect(later.locator(".p-invitation-text")).to_contain_text(reason)
    assert later.locator("b").count() == 0

    request.get_by_role("button", name="同意", exact=True).click()
    expect(request).to_contain_text("已同意")
    expect(notice).to_contain_text("您有 1 份附议邀请待答复")
    later.get_by_role("button", name="谢绝", exact=True).click()
    # a declined draft leaves the list, as a reload shows it, and the page says so
    expect(page.locator("#cosign-declined")).to_contain_text("已谢绝附议《关于交接班记录电子化的建议》")
    expect(later).to_have_count(0)
    expect(notice).to_be_empty()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert accessibility_problems(page) == []


def _proposal_id(site) -> int:
    import sqlalchemy as sa

    from congress.db.models import Proposal

    with site.db.read() as session:
        return session.scalar(sa.select(Proposal.id).where(Proposal.title == TITLE))


# Each command the page sends, as "op id" (a command resent after a reconnect has the same id).
RECORD_OPS = """window.__ops = [];
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) {
  try { const m = JSON.parse(data); if (m.op) window.__ops.push(`${m.op} ${m.id}`); } catch (e) { /* not JSON */ }
  return send.call(this, data);
};"""


def board_reads(page) -> int:  # type: ignore[no-untyped-def]
    return page.evaluate("new Set(window.__ops.filter((op) => op.startsWith('proposal_board '))).size")


def test_the_observers_board_follows_proposals_from_the_events_without_reading_it_again(site, open_page):
    """Thousands of observers watch; a filing burst must not make each of them read the board again."""
    story = site.story
    voting = [d for d in story.voting() if not d.is_group_leader]
    proposer, first, second = voting[3], voting[4], voting[5]
    watch = open_page(f"/watch?congress={story.congress_id}", PHONE, init_script=RECORD_OPS)
    expect(watch.locator("#board-count")).to_have_text("共 0 件")
    # Read once, and sent once (the read the page makes on its first hello was sent twice).
    assert watch.evaluate("window.__ops.filter((op) => op.startsWith('proposal_board ')).length") == 1

    author = site.delegate(proposer.employee_id)
    pid = site.command(author, "draft_proposal", title=TITLE, reason=REASON, suggestion=SUGGESTION)["id"]
    site.command(author, "invite_cosigners", proposal_id=pid, employee_ids=[first.employee_id, second.employee_id])
    for person in (first, second):
        site.command(site.delegate(person.employee_id), "answer_cosign", proposal_id=pid, accept=True)
    expect(watch.locator(".p-board-item")).to_have_count(0)  # a draft is not on the board
    site.command(author, "submit_proposal", proposal_id=pid)
    entry = watch.locator(".p-board-item", has_text=TITLE)
    expect(entry).to_contain_text("待审查")
    expect(entry).to_contain_text(proposer.name)

    staff = site.staff()
    site.command(staff, "decide_proposal", proposal_id=pid, decision="立案", category="生活福利")
    expect(entry).to_contain_text("已立案")
    expect(entry).to_contain_text("生活福利")
    site.command(staff, "assign_proposal", proposal_id=pid, lead="人力资源部", due_at="2030-01-31T18:00:00+08:00")
    expect(entry).to_contain_text("办理中")
    expect(entry).to_contain_text("人力资源部")
    watch.get_by_label("类别").select_option("安全环保")
    expect(watch.locator("#board-count")).to_have_text("共 0 件")
    watch.get_by_label("类别").select_option("生活福利")
    expect(watch.locator("#board-count")).to_have_text("共 1 件")
    assert board_reads(watch) == 1

    # A typed search is the one thing read again: the text is searched on the server.
    watch.get_by_label("搜索提案").fill("夜班供餐")
    expect(watch.locator("#board-count")).to_have_text("共 1 件")
    watch.get_by_label("搜索提案").fill("不存在的关键字")
    expect(watch.locator("#board-list")).to_contain_text("没有符合条件的提案")
    assert board_reads(watch) >= 2


def test_staff_pages_read_the_review_queue_only_while_it_is_shown(site, open_page):
    """Every staff page holds the 提案 view; a triage read scores the whole queue. The desk and the
    vote control must not read it on every proposal event: only the shown view does, and a view
    shown later reads then."""
    story = site.story
    voting = [d for d in story.voting() if not d.is_group_leader]
    proposer, first, second = voting[9], voting[10], voting[11]
    staff = sign_in_staff(open_page, site, init_script=RECORD_OPS + RECORD_EVENTS)
    expect(staff.get_by_role("heading", name="签到台")).to_be_visible()

    author = site.delegate(proposer.employee_id)
    pid = site.command(author, "draft_proposal", title=TITLE, reason=REASON, suggestion=SUGGESTION)["id"]
    site.command(author, "invite_cosigners", proposal_id=pid, employee_ids=[first.employee_id, second.employee_id])
    for person in (first, second):
        site.command(site.delegate(person.employee_id), "answer_cosign", proposal_id=pid, accept=True)
    site.command(author, "submit_proposal", proposal_id=pid)
    wait_for_true(staff, "window.__events.some((e) => e.startsWith('proposal.submitted'))")
    staff.wait_for_timeout(1500)  # past the view's 500 ms debounce: a read would have gone out
    assert triage_reads(staff) == 0

    staff.get_by_role("navigation").get_by_role("link", name="提案").click()
    expect(staff.locator("#p-triage .p-item", has_text=TITLE)).to_contain_text("建议类别")
    assert triage_reads(staff) == 2  # the queue and the 已立案 list

    # Shown, it follows the events: the decision moves the proposal to 交办.
    site.command(site.staff(), "decide_proposal", proposal_id=pid, decision="立案", category="生活福利")
    expect(staff.locator("#p-assign .p-item", has_text=TITLE)).to_be_visible()
    expect(staff.locator("#p-triage")).to_contain_text("没有待审查的提案")


def triage_reads(page) -> int:  # type: ignore[no-untyped-def]
    return page.evaluate("new Set(window.__ops.filter((op) => op.startsWith('triage '))).size")
